// The DynamoDB state table (watermarks, run ledger, table leases, the ION token cache), created from the
// same definition the local runner and the tests use (shared/state/stateTable.ts), plus the KMS key that
// seals cached tokens.
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { stateTableDefinition, TTL_ATTRIBUTE } from '../../shared/state/stateTable.ts';

function keyAttribute(role: 'HASH' | 'RANGE') {
  const definition = stateTableDefinition('definition');
  const name = definition.KeySchema?.find((k) => k.KeyType === role)?.AttributeName;
  const type = definition.AttributeDefinitions?.find((a) => a.AttributeName === name)?.AttributeType;
  if (!name || !type) throw new Error(`stateTableDefinition has no ${role} key`);
  return { name, type: type === 'S' ? AttributeType.STRING : type === 'N' ? AttributeType.NUMBER : AttributeType.BINARY };
}

export class StateStore extends Construct {
  readonly table: Table;
  readonly tokenKey: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const definition = stateTableDefinition('definition');
    this.table = new Table(this, 'StateTable', {
      partitionKey: keyAttribute('HASH'),
      sortKey: keyAttribute('RANGE'),
      billingMode: definition.BillingMode === 'PAY_PER_REQUEST' ? BillingMode.PAY_PER_REQUEST : BillingMode.PROVISIONED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      encryption: TableEncryption.AWS_MANAGED,
      // Watermarks are the sync's memory: losing them means full re-reads.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.tokenKey = new Key(this, 'TokenCacheKey', {
      description: 'Seals the ION API tokens cached in the CloudSuite sync state table',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
