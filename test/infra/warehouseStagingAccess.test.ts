// Copy mode's IAM role for a Databricks storage credential: trusted by the Unity Catalog master role with the
// credential's external ID (a stack parameter, or the Databricks account ID) and by itself; read-only on runs/.
import { App, Aspects } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import flowsConfig from '../../infra/flows.config.ts';
import { CloudSuiteSyncStack } from '../../infra/stack/cloudSuiteSyncStack.ts';
import { UNITY_CATALOG_MASTER_ROLE } from '../../infra/stack/warehouseStagingAccess.ts';
import { loadFlowsConfig } from '#shared/config/loadFlowsConfig.ts';
import { stackTemplate } from './support/stackTemplate.ts';

function copyModeStack() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false }); // as in support/stackTemplate.ts
  const raw = { ...flowsConfig, warehouse: { ...flowsConfig.warehouse, loadMode: 'copy' } };
  const stack = new CloudSuiteSyncStack(app, 'CloudSuiteSync', { flows: loadFlowsConfig({ raw }) });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  return { stack, template: Template.fromStack(stack) };
}

describe('the storage-credential role (loadMode copy)', () => {
  it('is trusted by the Unity Catalog master role with the external ID, and by itself', () => {
    const { template } = copyModeStack();
    template.hasParameter('DatabricksAccountId', { Type: 'String' });
    template.hasParameter('DatabricksExternalId', { Type: 'String', Default: '' });
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'CloudSuiteSync-databricks-staging-read',
      AssumeRolePolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { AWS: UNITY_CATALOG_MASTER_ROLE },
            Condition: { StringEquals: { 'sts:ExternalId': { 'Fn::If': [Match.anyValue(), { Ref: 'DatabricksAccountId' }, { Ref: 'DatabricksExternalId' }] } } },
          }),
          Match.objectLike({ Condition: { ArnEquals: { 'aws:PrincipalArn': Match.anyValue() } } }),
        ]),
      },
    });
  });

  it('reads only the staged files under runs/, and outputs the external location URL', () => {
    const { template } = copyModeStack();
    const roles = template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'CloudSuiteSync-databricks-staging-read' } });
    const [roleId] = Object.keys(roles);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Condition?: unknown }[]);
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
    expect(actions).toEqual(['kms:Decrypt', 's3:GetBucketLocation', 's3:GetObject', 's3:ListBucket', 'sts:AssumeRole']);
    // The staged objects are under the bucket's own key: decrypting is allowed through S3, for this bucket only.
    const decrypt = statements.find((s) => s.Action === 'kms:Decrypt')!;
    expect(JSON.stringify(decrypt.Resource)).toMatch(/StagingKey/);
    expect(decrypt.Condition).toMatchObject({ StringEquals: { 'kms:ViaService': expect.anything(), 'kms:EncryptionContext:aws:s3:arn': expect.anything() } });
    expect(JSON.stringify(statements.find((s) => s.Action === 's3:GetObject')!.Resource)).toMatch(/\/runs\/\*/);
    expect(statements.find((s) => s.Action === 's3:ListBucket')!.Condition).toEqual({ StringLike: { 's3:prefix': ['runs/*', 'runs'] } });
    template.hasOutput('DatabricksStagingUrl', { Value: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('StorageStaging') }, '/runs/']] } });
    template.hasOutput('DatabricksStorageCredentialRoleArn', {});
  });

  it('passes cdk-nag, and does not exist in merge mode', () => {
    const { stack } = copyModeStack();
    const findings = [
      ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-')),
      ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-')),
    ].map((f) => `${f.id}: ${String(f.entry.data).split(':')[0]}`);
    expect(findings).toEqual([]);
    const merge = stackTemplate().template;
    expect(Object.keys(merge.findResources('AWS::IAM::Role', { Properties: { RoleName: Match.stringLikeRegexp('databricks') } }))).toEqual([]);
    expect(Object.keys(merge.toJSON().Parameters ?? {}).filter((p) => p.startsWith('Databricks'))).toEqual([]);
  });
});
