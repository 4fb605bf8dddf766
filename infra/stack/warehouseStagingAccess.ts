// Copy mode only (warehouse.loadMode 'copy'): the IAM role a Databricks Unity Catalog storage credential assumes
// to read the staging bucket's runs/, so an external location over it lets COPY INTO read the staged files.
// Trust, as Databricks documents it for storage credentials on AWS: the Unity Catalog master role with the
// credential's external ID, and the role itself (self-assumption is required). Read-only, runs/ only.
// The Databricks side (storage credential, external location, READ FILES) is set up by hand: infra/README.md.
import { CfnCondition, CfnOutput, CfnParameter, Fn, Stack } from 'aws-cdk-lib';
import { AccountRootPrincipal, ArnPrincipal, Effect, PolicyStatement, PrincipalWithConditions, Role } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

/** Databricks' Unity Catalog master role (AWS commercial regions), which assumes storage-credential roles. */
export const UNITY_CATALOG_MASTER_ROLE = 'arn:aws:iam::414351767826:role/unity-catalog-prod-UCMasterRole-14S5ZJVKOTYTL';
/** The prefix the warehouse reads: unit folders of part files (plans/ stay private). */
export const WAREHOUSE_READ_PREFIX = 'runs';

export class WarehouseStagingAccess extends Construct {
  readonly role: Role;
  /** `s3://<bucket>/runs/`: the URL of the external location to create over it. */
  readonly stagingUrl: string;

  constructor(scope: Construct, id: string, props: { bucket: IBucket; bucketKey: IKey }) {
    super(scope, id);
    const stack = Stack.of(this);
    const accountId = new CfnParameter(stack, 'DatabricksAccountId', {
      type: 'String',
      description: 'Your Databricks account ID (account console > user menu): the external ID of storage credentials that show no other',
      allowedPattern: '^[0-9a-fA-F-]{8,64}$',
      constraintDescription: 'the Databricks account ID, e.g. 0d26daa6-5e44-4c97-a497-ef015f91254a',
    });
    const externalId = new CfnParameter(stack, 'DatabricksExternalId', {
      type: 'String',
      default: '',
      description: 'The external ID Databricks shows when you create the storage credential for this role; empty: the account ID',
    });
    const noExternalId = new CfnCondition(this, 'NoExternalId', { expression: Fn.conditionEquals(externalId.valueAsString, '') });
    const expectedExternalId = Fn.conditionIf(noExternalId.logicalId, accountId.valueAsString, externalId.valueAsString).toString();

    const roleName = `${stack.stackName}-databricks-staging-read`;
    const roleArn = stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: roleName });
    this.role = new Role(this, 'StorageCredentialRole', {
      roleName,
      description: 'Assumed by a Databricks Unity Catalog storage credential: COPY INTO reads the staged files under runs/',
      assumedBy: new PrincipalWithConditions(new ArnPrincipal(UNITY_CATALOG_MASTER_ROLE), { StringEquals: { 'sts:ExternalId': expectedExternalId } }),
    });
    // Databricks requires a storage-credential role to be able to assume itself.
    this.role.assumeRolePolicy!.addStatements(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['sts:AssumeRole'],
        principals: [new AccountRootPrincipal()],
        conditions: { ArnEquals: { 'aws:PrincipalArn': roleArn } },
      }),
    );
    this.role.addToPolicy(new PolicyStatement({ actions: ['sts:AssumeRole'], resources: [roleArn] }));
    this.role.addToPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [props.bucket.arnForObjects(`${WAREHOUSE_READ_PREFIX}/*`)] }));
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${WAREHOUSE_READ_PREFIX}/*`, WAREHOUSE_READ_PREFIX] } },
      }),
    );
    this.role.addToPolicy(new PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [props.bucket.bucketArn] }));
    // The staged objects are encrypted with the bucket's own key: reading them needs kms:Decrypt, through S3
    // and for this bucket only (S3 Bucket Keys put the bucket's ARN in the encryption context).
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [props.bucketKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': props.bucket.bucketArn } },
      }),
    );
    NagSuppressions.addResourceSuppressions(
      this.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: 'The warehouse reads the unit folders under runs/, created at run time; the wildcard is limited to that prefix of the staging bucket, read-only.',
          appliesTo: [{ regex: `/^Resource::<${stack.getLogicalId(props.bucket.node.defaultChild as never)}\\.Arn>\\/${WAREHOUSE_READ_PREFIX}\\/\\*$/g` }],
        },
      ],
      true,
    );

    this.stagingUrl = `s3://${props.bucket.bucketName}/${WAREHOUSE_READ_PREFIX}/`;
    new CfnOutput(stack, 'DatabricksStagingUrl', { value: this.stagingUrl, description: 'URL of the Unity Catalog external location over the staged files (copy mode)' });
    new CfnOutput(stack, 'DatabricksStorageCredentialRoleArn', { value: this.role.roleArn, description: 'IAM role of the Databricks storage credential (copy mode)' });
  }
}
