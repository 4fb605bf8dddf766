// Least privilege and no public surface, asserted on the synthesized template (`cdk synth`). This extends
// test/infra/stack.test.ts (which checks the DynamoDB leading keys, the S3 prefixes and which secret each
// function reads) with what it does not pin down: no wildcard action anywhere, `*` resources only where AWS
// offers no resource-level permission, each function's complete action list, every resource scoped to this
// stack's table, bucket, key or secret, trust policies, and TLS-only, private buckets and topic.
// cdk-nag (AwsSolutions) runs on the same stack in test/infra/nag.test.ts: no unsuppressed finding, and every
// suppression carries a written reason.
import { describe, expect, it } from 'vitest';
import { actionsOf, functionLogicalId, stackTemplate, statementsOf, type Statement } from '../infra/support/stackTemplate.ts';

type Resource = { Type: string; Properties: Record<string, any> };

const FUNCTIONS = ['plan', 'extract', 'recordFailure', 'groupByTable', 'load', 'commit', 'finishRun'] as const;

/**
 * Every action each function may take besides writing its own logs and traces. A new one must be added here on
 * purpose. Every function reads staged objects, so each may kms:Decrypt with the staging key (only through S3).
 */
const EXPECTED_ACTIONS: Record<(typeof FUNCTIONS)[number], string[]> = {
  plan: [
    'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem',
    'kms:Decrypt', 'kms:GenerateDataKey', 's3:GetObject', 's3:ListBucket', 's3:PutObject',
    'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'states:DescribeExecution',
  ],
  extract: [
    'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem',
    'kms:Decrypt', 'kms:GenerateDataKey', 's3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject',
    'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue',
  ],
  recordFailure: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'kms:Decrypt', 's3:GetObject'],
  groupByTable: ['dynamodb:Query', 'kms:Decrypt', 's3:GetObject'],
  load: [
    'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem',
    // kms:GenerateDataKey, s3:PutObject, s3:DeleteObject and s3:ListBucket: the remembered look at each target table
    // and the records finished loads leave for RefreshMarts' control totals (_warehouse/ only).
    'kms:Decrypt', 'kms:GenerateDataKey', 's3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject',
    'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue',
  ],
  commit: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'kms:Decrypt', 's3:GetObject'],
  finishRun: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'kms:Decrypt', 's3:GetObject'],
};

/** What every function's role may do in its own log group (and nowhere else). */
const WRITE_OWN_LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];

/** What active X-Ray tracing lets every function send (AWS offers no resource for these). */
const SEND_TRACES = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

/**
 * Actions for which AWS has no resource-level permission, so `*` is the only possible resource: what Step
 * Functions needs to deliver its execution logs to CloudWatch Logs and to send X-Ray traces.
 */
const ACTIONS_WITHOUT_RESOURCE_LEVEL = new Set([
  'logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries',
  'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups',
  'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets',
]);

function resources(): Record<string, Resource> {
  return stackTemplate().resources as Record<string, Resource>;
}

function logicalIdOf(type: string, prefix: string): string {
  const ids = Object.entries(resources()).filter(([id, r]) => r.Type === type && id.startsWith(prefix)).map(([id]) => id);
  expect(ids, `${type} ${prefix}*`).toHaveLength(1);
  return ids[0]!;
}

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const objectsOf = (id: string, prefix: string) => ({ 'Fn::Join': ['', [arnOf(id), `/${prefix}`]] });
const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

function policyStatements(): { policy: string; roles: string[]; statement: Statement }[] {
  return Object.entries(resources())
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
    .flatMap(([policy, r]) =>
      (r.Properties.PolicyDocument.Statement as Statement[]).map((statement) => ({
        policy,
        roles: (r.Properties.Roles as { Ref: string }[]).map((role) => role.Ref),
        statement,
      })),
    );
}

function roleOf(fn: string): Resource {
  const roleId = resources()[functionLogicalId(fn)]!.Properties.Role['Fn::GetAtt'][0] as string;
  return resources()[roleId]!;
}

describe('IAM: least privilege on the synthesized stack', () => {
  it('grants no wildcard action (no "*", no "s3:*", no "dynamodb:Put*") in any identity policy, and only Allow statements', () => {
    const statements = policyStatements();
    expect(statements.length).toBeGreaterThan(30);
    for (const { policy, statement } of statements) {
      expect(statement.Effect, policy).toBe('Allow');
      for (const action of actionsOf(statement)) expect(action, policy).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
    }
    // No role carries an inline policy of its own (everything above is every permission a role has).
    for (const role of Object.values(resources()).filter((r) => r.Type === 'AWS::IAM::Role')) expect(role.Properties.Policies).toBeUndefined();
  });

  it('uses a "*" resource only for log delivery and X-Ray, which AWS cannot scope: the state machine\'s role, and the functions\' for traces only', () => {
    const machineRole = logicalIdOf('AWS::IAM::Role', 'SyncStateMachineRole');
    const functionRoles = FUNCTIONS.map((fn) => resources()[functionLogicalId(fn)]!.Properties.Role['Fn::GetAtt'][0] as string);
    const star = policyStatements().filter(({ statement }) => list(statement.Resource as unknown).some((r) => r === '*'));
    expect(star.length).toBeGreaterThan(FUNCTIONS.length);
    for (const { policy, roles, statement } of star) {
      expect(roles, policy).toHaveLength(1);
      if (functionRoles.includes(roles[0]!)) expect(actionsOf(statement).sort(), policy).toEqual(SEND_TRACES);
      else expect(roles, policy).toEqual([machineRole]);
      for (const action of actionsOf(statement)) expect(ACTIONS_WITHOUT_RESOURCE_LEVEL.has(action), `${policy}: ${action} on *`).toBe(true);
    }
  });

  it.each(FUNCTIONS)('function %s: exactly the actions it uses, nothing else', (fn) => {
    const actions = [...new Set(statementsOf(fn).flatMap(actionsOf))].sort();
    expect(actions).toEqual([...EXPECTED_ACTIONS[fn], ...WRITE_OWN_LOGS, ...SEND_TRACES].sort());
  });

  it.each(FUNCTIONS)('function %s: every statement names this stack\'s table, bucket prefix, key or secret', (fn) => {
    const table = logicalIdOf('AWS::DynamoDB::Table', 'StateStateTable');
    const bucket = logicalIdOf('AWS::S3::Bucket', 'StorageStaging');
    const tokenKey = logicalIdOf('AWS::KMS::Key', 'StateTokenCacheKey');
    const stagingKey = logicalIdOf('AWS::KMS::Key', 'StorageStagingKey');
    const secrets = Object.entries(resources()).filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret').map(([id]) => ({ Ref: id }));
    for (const statement of statementsOf(fn)) {
      const service = actionsOf(statement)[0]!.split(':')[0];
      expect(new Set(actionsOf(statement).map((a) => a.split(':')[0])).size, 'one service per statement').toBe(1);
      const scoped = list(statement.Resource as unknown);
      switch (service) {
        case 'dynamodb':
          // The table itself, never its indexes or another table; items limited by leading key.
          expect(scoped).toEqual([arnOf(table)]);
          expect(Object.keys(statement.Condition ?? {})).toEqual(['ForAllValues:StringLike']);
          break;
        case 's3':
          for (const r of scoped) {
            expect([arnOf(bucket), objectsOf(bucket, 'plans/*'), objectsOf(bucket, 'runs/*'), objectsOf(bucket, '_warehouse/*')], JSON.stringify(r)).toContainEqual(r);
            // Only Load remembers its looks at the warehouse's tables.
            if (JSON.stringify(r) === JSON.stringify(objectsOf(bucket, '_warehouse/*'))) expect(fn).toBe('load');
          }
          if (scoped.some((r) => JSON.stringify(r) === JSON.stringify(arnOf(bucket)))) expect(actionsOf(statement)).toEqual(['s3:ListBucket']);
          break;
        case 'kms':
          // One of this stack's two keys, always under a condition (test/security/awsHardening.test.ts has them).
          expect([[arnOf(tokenKey)], [arnOf(stagingKey)]]).toContainEqual(scoped);
          expect(statement.Condition, 'a key without a condition').toBeDefined();
          break;
        case 'xray':
          expect(scoped).toEqual(['*']);
          break;
        case 'secretsmanager':
          expect(scoped).toHaveLength(1);
          expect(secrets).toContainEqual(scoped[0]);
          break;
        case 'states': {
          // Plan only: describe the executions of this stack's own state machine (a rerun of one whose run is open).
          expect(fn).toBe('plan');
          const machine = Object.values(resources()).find((r) => r.Type === 'AWS::StepFunctions::StateMachine')!;
          expect(scoped).toEqual([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:execution:${machine.Properties.StateMachineName}:*`]] }]);
          break;
        }
        case 'logs':
          // The function's own log group only.
          expect(scoped).toEqual([arnOf(resources()[functionLogicalId(fn)]!.Properties.LoggingConfig.LogGroup.Ref)]);
          break;
        default:
          throw new Error(`${fn}: unexpected service ${service}`);
      }
    }
  });

  it('function roles trust only Lambda and carry no managed policy (AWSLambdaBasicExecutionRole would allow any log group)', () => {
    for (const fn of FUNCTIONS) {
      const role = roleOf(fn);
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('the state machine may invoke the seven pipeline functions and nothing else; the scheduler may only start it', () => {
    const machineRole = logicalIdOf('AWS::IAM::Role', 'SyncStateMachineRole');
    const invoke = policyStatements().filter(({ roles, statement }) => roles.includes(machineRole) && actionsOf(statement).includes('lambda:InvokeFunction'));
    const invoked = invoke.flatMap(({ statement }) => list(statement.Resource as unknown)).map((r) => JSON.stringify(r));
    const expected = FUNCTIONS.flatMap((fn) => [arnOf(functionLogicalId(fn)), { 'Fn::Join': ['', [arnOf(functionLogicalId(fn)), ':*']] }]).map((r) => JSON.stringify(r));
    expect(invoked.sort()).toEqual(expected.sort());
    for (const { statement } of invoke) expect(actionsOf(statement)).toEqual(['lambda:InvokeFunction']);
    expect(resources()[machineRole]!.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'states.amazonaws.com' },
        Condition: expect.objectContaining({ ArnLike: { 'aws:SourceArn': expect.anything() }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
      }),
    ]);

    const schedulerRoles = Object.entries(resources()).filter(([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith('SchedulerRole')).map(([id]) => id);
    expect(schedulerRoles.length).toBeGreaterThan(0);
    const machine = logicalIdOf('AWS::StepFunctions::StateMachine', 'SyncStateMachine');
    const deadLetters = logicalIdOf('AWS::SQS::Queue', 'SchedulesDeadLetters');
    for (const roleId of schedulerRoles) {
      const statements = policyStatements().filter(({ roles }) => roles.includes(roleId)).map(({ statement }) => statement);
      expect(statements).toEqual([
        { Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: machine } },
        { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: arnOf(deadLetters) },
      ]);
      expect(resources()[roleId]!.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        expect.objectContaining({
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' }, 'aws:SourceArn': expect.anything() } },
        }),
      ]);
    }
  });
});

describe('no public surface, TLS only', () => {
  it('every bucket blocks public access, is encrypted, and denies any request without TLS on the bucket and its objects', () => {
    const buckets = Object.entries(resources()).filter(([, r]) => r.Type === 'AWS::S3::Bucket');
    expect(buckets.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['StorageAccessLogs', 'StorageStaging']);
    const policies = Object.values(resources()).filter((r) => r.Type === 'AWS::S3::BucketPolicy');
    for (const [id, bucket] of buckets) {
      expect(bucket.Properties.PublicAccessBlockConfiguration, id).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm, id).toMatch(/^(AES256|aws:kms)$/);
      // The access-log bucket's canned ACL lets S3 log delivery write into it; no ACL ever opens a bucket to the public.
      expect([undefined, 'Private', 'LogDeliveryWrite'], `${id} ACL`).toContain(bucket.Properties.AccessControl);
      expect(bucket.Properties.WebsiteConfiguration, id).toBeUndefined();
      const policy = policies.find((p) => p.Properties.Bucket.Ref === id);
      expect(policy, `${id} has a bucket policy`).toBeDefined();
      expect(policy!.Properties.PolicyDocument.Statement).toContainEqual({
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Resource: [arnOf(id), { 'Fn::Join': ['', [arnOf(id), '/*']] }],
      });
    }
  });

  it('no resource policy allows anyone outside the account: buckets, topic, keys; no function URL or public invoke permission', () => {
    const types = new Set(Object.values(resources()).map((r) => r.Type));
    for (const exposed of ['AWS::Lambda::Url', 'AWS::Lambda::Permission', 'AWS::ApiGateway::RestApi', 'AWS::ApiGatewayV2::Api', 'AWS::SecretsManager::ResourcePolicy']) {
      expect(types.has(exposed), exposed).toBe(false);
    }
    const isEveryone = (principal: unknown) => principal === '*' || JSON.stringify(principal) === '{"AWS":"*"}';
    const documents = Object.entries(resources()).flatMap(([id, r]) => {
      if (r.Type === 'AWS::S3::BucketPolicy' || r.Type === 'AWS::SNS::TopicPolicy') return [[id, r.Properties.PolicyDocument] as const];
      if (r.Type === 'AWS::KMS::Key') return [[id, r.Properties.KeyPolicy] as const];
      return [];
    });
    expect(documents.length).toBeGreaterThanOrEqual(5);
    for (const [id, document] of documents) {
      for (const statement of document.Statement as { Effect: string; Principal?: unknown }[]) {
        if (statement.Effect === 'Allow') expect(isEveryone(statement.Principal), `${id} allows everyone`).toBe(false);
      }
    }
    // Key policies delegate to this account's IAM (and let CloudWatch use the alarm topic's key): no other account.
    for (const [id, document] of documents.filter(([id]) => resources()[id]!.Type === 'AWS::KMS::Key')) {
      for (const statement of document.Statement as { Principal: { AWS?: unknown; Service?: string } }[]) {
        const principal = statement.Principal;
        if (principal.Service !== undefined) expect(principal.Service, id).toBe('cloudwatch.amazonaws.com');
        else expect(JSON.stringify(principal.AWS), id).toBe(JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] }));
      }
    }
  });

  it('the alarm topic only accepts TLS publishes, and the state table is encrypted at rest', () => {
    const topicPolicy = Object.values(resources()).find((r) => r.Type === 'AWS::SNS::TopicPolicy')!;
    expect(topicPolicy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const table = resources()[logicalIdOf('AWS::DynamoDB::Table', 'StateStateTable')]!;
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
  });
});
