// The credentials as named Secrets Manager placeholders: one .ionapi JSON per tenant and the Databricks
// connection JSON. CloudFormation fills them with a random value at creation; the operator replaces it
// (infra/README.md). No credential is ever in code, templates or state payloads.
import { RemovalPolicy } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import type { FlowsConfig } from '../../shared/config/flowsConfig.ts';

export class PipelineSecrets extends Construct {
  readonly tenants = new Map<string, Secret>();
  readonly warehouse: Secret;

  constructor(scope: Construct, id: string, config: FlowsConfig) {
    super(scope, id);
    for (const [tenant, settings] of Object.entries(config.tenants)) {
      this.tenants.set(
        tenant,
        new Secret(this, `Tenant${tenant}`, {
          secretName: settings.secretName,
          description: `CloudSuite tenant ${tenant}: paste the JSON of the .ionapi file of a Backend Service app (service account)`,
          removalPolicy: RemovalPolicy.RETAIN,
        }),
      );
    }
    this.warehouse = new Secret(this, 'Warehouse', {
      secretName: config.warehouse.secretName,
      description: 'Databricks SQL warehouse: {"host","httpPath","token"} or {"host","httpPath","clientId","clientSecret"}',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    NagSuppressions.addResourceSuppressions(
      [...this.tenants.values(), this.warehouse],
      [
        {
          id: 'AwsSolutions-SMG4',
          reason:
            'Third-party credentials: the ION service account and the Databricks token/service principal are rotated in Infor OS ' +
            'and Databricks, then pasted here by the operator; no rotation Lambda can create them.',
        },
      ],
    );
  }
}
