// What a careful AWS reviewer asked of the stack, asserted on the synthesized template: KMS use bound to its
// encryption context, the token cache scoped per tenant, CloudWatch's use of the alarm topic and its key bound
// to this account's alarms (confused deputy), the staging bucket (financial data) on its own KMS key, Plan's
// listing limited to plans/, alarms on every function's errors and throttles, X-Ray on every function, and a
// dead-letter queue on every schedule. Each case fails on the stack as it was before the hardening review.
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { actionsOf, functionLogicalId, stackTemplate, statementsOf, type Statement } from '../infra/support/stackTemplate.ts';

const FUNCTIONS = ['plan', 'extract', 'recordFailure', 'groupByTable', 'load', 'commit', 'finishRun'] as const;

type Resource = { Type: string; Properties: Record<string, any> };

function resources(): Record<string, Resource> {
  return stackTemplate().resources as Record<string, Resource>;
}

function logicalIdOf(type: string, prefix: string): string {
  const ids = Object.entries(resources()).filter(([id, r]) => r.Type === type && id.startsWith(prefix)).map(([id]) => id);
  expect(ids, `${type} ${prefix}*`).toHaveLength(1);
  return ids[0]!;
}

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const kmsStatements = (fn: string, keyPrefix: string): Statement[] =>
  statementsOf(fn).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')) && JSON.stringify(s.Resource).includes(keyPrefix));

/** Any alarm of this stack: the ARN pattern CloudWatch's conditions allow. */
const OUR_ALARMS = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:CloudSuiteSync-*']],
};
const FROM_OUR_ALARMS = { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': OUR_ALARMS } };

describe('KMS and the token cache', () => {
  it('the token key is usable only under the token cache\'s encryption context, for the configured tenants', () => {
    const tokenKey = logicalIdOf('AWS::KMS::Key', 'StateTokenCacheKey');
    for (const fn of ['plan', 'extract']) {
      expect(kmsStatements(fn, 'StateTokenCacheKey')).toEqual([
        {
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: arnOf(tokenKey),
          Condition: {
            StringEquals: { 'kms:EncryptionContext:purpose': 'cloudsuite-sync/ion-token', 'kms:EncryptionContext:tenant': ['ACME_PRD'] },
            'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['purpose', 'tenant'] },
          },
        },
      ]);
    }
    for (const fn of ['recordFailure', 'groupByTable', 'load', 'commit', 'finishRun']) expect(kmsStatements(fn, 'StateTokenCacheKey'), fn).toEqual([]);
  });

  it('token-cache items are scoped to each configured tenant\'s own key, not token#*', () => {
    for (const fn of ['plan', 'extract']) {
      const token = statementsOf(fn).filter((s) => JSON.stringify(s.Condition ?? {}).includes('token#'));
      expect(token.map((s) => s.Condition)).toEqual([{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['token#ACME_PRD'] } }]);
    }
    for (const fn of FUNCTIONS) expect(JSON.stringify(statementsOf(fn)), fn).not.toContain('token#*');
  });

  it('no function holds any KMS permission without a condition', () => {
    for (const fn of FUNCTIONS) {
      for (const statement of statementsOf(fn).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')))) expect(statement.Condition, fn).toBeDefined();
    }
  });
});

describe('the staging bucket (financial data) on a customer-managed key', () => {
  it('encrypts with its own rotating KMS key and S3 Bucket Keys', () => {
    const { template } = stackTemplate();
    const key = logicalIdOf('AWS::KMS::Key', 'StorageStagingKey');
    expect(resources()[key]!.Properties).toMatchObject({ EnableKeyRotation: true });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'staging/' }),
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arnOf(key) } }] },
    });
  });

  it('each function may use that key only through S3, for this bucket: decrypt to read, generate data keys only to write', () => {
    const key = logicalIdOf('AWS::KMS::Key', 'StorageStagingKey');
    const bucket = logicalIdOf('AWS::S3::Bucket', 'StorageStaging');
    const condition = {
      StringEquals: {
        'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
        'kms:EncryptionContext:aws:s3:arn': arnOf(bucket),
      },
    };
    for (const fn of FUNCTIONS) {
      // Load writes one small object per target table (_warehouse/: the remembered look at it).
      const writes = fn === 'plan' || fn === 'extract' || fn === 'load';
      expect(kmsStatements(fn, 'StorageStagingKey'), fn).toEqual([
        { Effect: 'Allow', Action: writes ? ['kms:Decrypt', 'kms:GenerateDataKey'] : 'kms:Decrypt', Resource: arnOf(key), Condition: condition },
      ]);
    }
  });

  it('Plan lists only plans/, Load only _warehouse/; no role may list the bucket without a prefix condition', () => {
    expect(statementsOf('plan').filter((s) => actionsOf(s).includes('s3:ListBucket'))).toEqual([
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: arnOf(logicalIdOf('AWS::S3::Bucket', 'StorageStaging')), Condition: { StringLike: { 's3:prefix': ['plans/*'] } } },
    ]);
    // Load (RefreshMarts) lists only _warehouse/: the records finished loads leave for their control totals.
    expect(statementsOf('load').filter((s) => actionsOf(s).includes('s3:ListBucket'))).toEqual([
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: arnOf(logicalIdOf('AWS::S3::Bucket', 'StorageStaging')), Condition: { StringLike: { 's3:prefix': ['_warehouse/*'] } } },
    ]);
    for (const fn of FUNCTIONS) {
      for (const s of statementsOf(fn).filter((s) => actionsOf(s).includes('s3:ListBucket'))) expect(s.Condition, fn).toBeDefined();
    }
  });
});

describe('the alarm topic and its key: CloudWatch only for this account\'s alarms of this stack', () => {
  it('the key policy lets CloudWatch use the key only with aws:SourceAccount and aws:SourceArn', () => {
    const key = resources()[logicalIdOf('AWS::KMS::Key', 'MonitoringAlarmTopicKey')]!;
    const forCloudWatch = (key.Properties.KeyPolicy.Statement as Record<string, any>[]).filter((s) => s.Principal?.Service !== undefined);
    expect(forCloudWatch).toEqual([
      { Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: '*', Condition: FROM_OUR_ALARMS },
    ]);
  });

  it('the topic policy allows CloudWatch to publish under the same conditions (and denies publishing without TLS)', () => {
    const { template } = stackTemplate();
    const topic = logicalIdOf('AWS::SNS::Topic', 'MonitoringAlarmTopic');
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topic }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Resource: { Ref: topic }, Condition: FROM_OUR_ALARMS }),
        ]),
      },
    });
  });

  it('every alarm is named CloudSuiteSync-…, so the conditions cover each of them and nothing else', () => {
    const alarms = Object.values(resources()).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(20);
    for (const alarm of alarms) expect(alarm.Properties.AlarmName).toMatch(/^CloudSuiteSync-[A-Za-z0-9-]+$/);
  });
});

describe('alarms on every function\'s errors and throttles, and on undelivered scheduled starts', () => {
  it.each(FUNCTIONS)('function %s: an Errors alarm and a Throttles alarm, notifying the alarm topic', (fn) => {
    const { template } = stackTemplate();
    const topic = logicalIdOf('AWS::SNS::Topic', 'MonitoringAlarmTopic');
    for (const metric of ['Errors', 'Throttles']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionLogicalId(fn) } }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: topic }],
      });
    }
  });

  it('every schedule has a dead-letter queue: encrypted, TLS-only, and alarmed on its first message', () => {
    const { template } = stackTemplate();
    const queue = logicalIdOf('AWS::SQS::Queue', 'SchedulesDeadLetters');
    expect(resources()[queue]!.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queue }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    const schedules = Object.values(resources()).filter((r) => r.Type === 'AWS::Scheduler::Schedule');
    expect(schedules.length).toBeGreaterThan(0);
    for (const schedule of schedules) expect(schedule.Properties.Target.DeadLetterConfig).toEqual({ Arn: arnOf(queue) });
    const dimensions = new Capture();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'CloudSuiteSync-schedule-dead-letters',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: dimensions,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(dimensions.asArray()).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }]);
  });
});

describe('X-Ray', () => {
  it('traces every function actively, and the state machine', () => {
    for (const fn of FUNCTIONS) expect(resources()[functionLogicalId(fn)]!.Properties.TracingConfig, fn).toEqual({ Mode: 'Active' });
    const machine = resources()[logicalIdOf('AWS::StepFunctions::StateMachine', 'SyncStateMachine')]!;
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });
});
