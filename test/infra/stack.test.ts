import { Capture, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { LAMBDA_SERVICE_ERRORS } from '../../infra/stack/pipelineStateMachine.ts';
import { actionsOf, resourceText, stackTemplate, stateMachineDefinition, statementsOf } from './support/stackTemplate.ts';

const FUNCTIONS = ['plan', 'extract', 'recordFailure', 'groupByTable', 'load', 'commit', 'finishRun'];

describe('the CloudSuite sync stack', () => {
  it('starts the state machine from one time-zone-aware schedule per cron group, with the scheduled time in the input', () => {
    const { template } = stackTemplate();
    template.resourceCountIs('AWS::Scheduler::Schedule', 4);
    const input = new Capture();
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Stockholm',
      State: 'ENABLED',
      Target: Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^SyncStateMachine') }, Input: input, RetryPolicy: Match.anyValue() }),
    });
    expect(JSON.parse(input.asString())).toEqual({
      trigger: 'schedule',
      schedule: 'daily-0200-europe-stockholm',
      scheduledTime: '<aws.scheduler.scheduled-time>',
      flows: ['suppliers', 'gl-accounts', 'purchase-agreements', 'purchase-orders', 'purchase-order-lines', 'supplier-invoices', 'supplier-invoice-lines'],
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Stockholm',
      Target: Match.objectLike({ Input: Match.stringLikeRegexp('"flows":\\["ap-ledger","gl-transactions"\\]') }),
    });
    // The weekly reconcile of every incremental flow: a complete read that finds deletes and silent changes.
    const reconcile = new Capture();
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 22 ? * SUN *)',
      ScheduleExpressionTimezone: 'Europe/Stockholm',
      Target: Match.objectLike({ Input: reconcile }),
    });
    expect(JSON.parse(reconcile.asString())).toMatchObject({
      trigger: 'schedule',
      mode: 'reconcile',
      flows: ['purchase-orders', 'purchase-order-lines', 'supplier-invoices', 'supplier-invoice-lines', 'ap-ledger', 'gl-transactions'],
    });
    // The daily key sweep of the tables M3 deletes from (not the ledgers): at 20:00, apart from the nightly runs.
    const sweep = new Capture();
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 20 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Stockholm',
      State: 'ENABLED',
      Description: Match.stringLikeRegexp('^CloudSuite sweep of '),
      Target: Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^SyncStateMachine') }, Input: sweep }),
    });
    expect(JSON.parse(sweep.asString())).toEqual({
      trigger: 'schedule',
      schedule: 'sweep-daily-2000-europe-stockholm',
      scheduledTime: '<aws.scheduler.scheduled-time>',
      flows: ['purchase-orders', 'purchase-order-lines', 'supplier-invoices', 'supplier-invoice-lines'],
      mode: 'sweep',
    });
  });

  it('is a Standard state machine: Plan, a unit Map looping Extract on continue, grouping, a table Map, then Succeed or Fail', () => {
    const { template } = stackTemplate();
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
    const asl = stateMachineDefinition();
    expect(asl.StartAt).toBe('Plan');
    expect(asl.States.Plan).toMatchObject({
      Type: 'Task',
      Parameters: { 'execution.$': '$$.Execution.Name', 'stateMachine.$': '$$.StateMachine.Id', 'startedAt.$': '$$.Execution.StartTime', 'input.$': '$' },
      Next: 'IsDuplicateStart',
    });
    expect(asl.States.IsDuplicateStart).toMatchObject({ Type: 'Choice', Choices: [{ Variable: '$.duplicate', BooleanEquals: true, Next: 'AlreadyStarted' }], Default: 'ExtractUnits' });

    const units = asl.States.ExtractUnits as Record<string, any>;
    expect(units).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.units',
      ItemSelector: { 'plan.$': '$.plan', 'unitId.$': '$$.Map.Item.Value' },
      MaxConcurrency: 10,
      ResultPath: null,
      Next: 'GroupByTable',
    });
    const unit = units.ItemProcessor;
    expect(unit.StartAt).toBe('Extract');
    expect(unit.States.Extract).toMatchObject({ Type: 'Task', Next: 'ExtractFinished', Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordExtractFailure' }] });
    expect(unit.States.ExtractFinished).toMatchObject({ Choices: [{ Variable: '$.status', StringEquals: 'continue', Next: 'Extract' }], Default: 'UnitExtracted' });
    expect(unit.States.RecordExtractFailure.Parameters).toEqual({ 'plan.$': '$.plan', 'unitId.$': '$.unitId', 'error.$': '$.error' });

    const tables = asl.States.LoadTables as Record<string, any>;
    expect(tables).toMatchObject({ Type: 'Map', ItemsPath: '$.tables', ItemSelector: { 'plan.$': '$.plan', 'table.$': '$$.Map.Item.Value' }, ResultPath: null, Next: 'RefreshMarts' });
    // The marts after every table, on the Load function (the one with the warehouse); a failure there never stops FinishRun.
    expect(asl.States.RefreshMarts).toMatchObject({
      Type: 'Task',
      Resource: tables.ItemProcessor.States.Load.Resource,
      Parameters: { 'plan.$': '$.plan', step: 'refreshMarts' },
      Next: 'FinishRun',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.martsError', Next: 'MartsNotRefreshed' }],
    });
    expect(asl.States.MartsNotRefreshed).toEqual({ Type: 'Pass', Next: 'FinishRun' });
    expect(tables.ItemProcessor.States.Load).toMatchObject({ Next: 'LoadFinished', Catch: [{ Next: 'RecordTableFailure', ResultPath: '$.error' }] });
    // A load that reached its deadline answers 'continue' and is invoked again, as Extract is.
    expect(tables.ItemProcessor.States.LoadFinished).toMatchObject({ Choices: [{ Variable: '$.status', StringEquals: 'continue', Next: 'Load' }], Default: 'Commit' });
    expect(tables.ItemProcessor.States.Commit).toMatchObject({ Next: 'TableCommitted', Catch: [{ Next: 'RecordTableFailure' }] });
    expect(asl.States.RunOutcome).toMatchObject({ Choices: [{ Variable: '$.status', StringEquals: 'failed', Next: 'RunFailed' }], Default: 'RunSucceeded' });
    expect(asl.States.RunFailed).toEqual({ Type: 'Fail', Error: 'UnitsFailed', CausePath: '$.cause' });

    // A step between units and tables that fails for good still closes the run, so a rerun can replay it.
    const stopped = { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'FinishStoppedRun' };
    expect(units.Catch).toEqual([stopped]);
    expect(asl.States.GroupByTable).toMatchObject({ Next: 'LoadTables', Catch: [stopped] });
    expect(tables.Catch).toEqual([stopped]);
    expect(asl.States.FinishStoppedRun).toMatchObject({ Type: 'Task', Parameters: { 'plan.$': '$.plan', 'stoppedBy.$': '$.error' }, Next: 'RunOutcome' });
    expect(asl.States.FinishRun).toMatchObject({ Next: 'RunOutcome' });
    expect(asl.States.FinishRun?.Catch).toBeUndefined();
  });

  it('invokes functions directly (payload response only) and retries only Lambda service errors and TransientError, with full jitter', () => {
    const asl = stateMachineDefinition();
    const tasks: Record<string, any>[] = [];
    const visit = (states: Record<string, any>) => {
      for (const state of Object.values(states)) {
        if (state.Type === 'Task') tasks.push(state);
        if (state.ItemProcessor) visit(state.ItemProcessor.States);
      }
    };
    visit(asl.States);
    expect(tasks).toHaveLength(10);
    for (const task of tasks) {
      expect(task.Resource).toMatch(/^arn:aws:lambda:.*:function:Pipeline/);
      expect(task.TimeoutSeconds).toBeGreaterThan(60);
      expect(task.Retry).toEqual([
        { ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: 'FULL' },
        { ErrorEquals: ['TransientError'], IntervalSeconds: 30, MaxAttempts: 2, BackoffRate: 2, MaxDelaySeconds: 300, JitterStrategy: 'FULL' },
      ]);
    }
    expect(LAMBDA_SERVICE_ERRORS).toContain('Lambda.TooManyRequestsException');
  });

  it('runs every function on nodejs24.x with its own log group, the state table, bucket and token key in its environment', () => {
    const { template } = stackTemplate();
    const functions = template.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'nodejs24.x' } });
    expect(Object.keys(functions)).toHaveLength(FUNCTIONS.length);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Environment.Variables).toMatchObject({
        STATE_TABLE_NAME: { Ref: expect.stringMatching(/^StateStateTable/) },
        STAGING_BUCKET_NAME: { Ref: expect.stringMatching(/^StorageStaging/) },
        TOKEN_CACHE_KEY_ARN: expect.anything(),
      });
      expect(fn.Properties.LoggingConfig.LogGroup).toBeDefined();
      expect(JSON.stringify(fn.Properties.Environment)).not.toMatch(/secret|token"/i);
    }
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 90 }, FUNCTIONS.length + 1);
  });

  it('gives each function only what it touches', () => {
    const dynamo = (name: string) =>
      statementsOf(name)
        .filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))
        .map((s) => ({ actions: actionsOf(s).sort(), keys: s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] }));
    const s3 = (name: string) =>
      statementsOf(name)
        .filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')))
        .map((s) => `${actionsOf(s).sort().join(',')} ${resourceText(s.Resource).match(/\/(plans|runs|_warehouse)\/\*/)?.[0]}`);
    const secrets = (name: string) =>
      statementsOf(name)
        .filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'))
        .map((s) => resourceText(s.Resource).match(/Secrets(Tenant|Warehouse)/)?.[1]);
    // The token cache's key (every function also reads staged objects through the staging bucket's key).
    const kms = (name: string) => statementsOf(name).some((s) => actionsOf(s).some((a) => a.startsWith('kms:')) && resourceText(s.Resource).includes('TokenCacheKey'));

    // Every state-table statement is scoped by leading key; nobody scans or deletes the ledger.
    for (const name of FUNCTIONS) {
      for (const statement of dynamo(name)) {
        expect(statement.keys, name).toBeDefined();
        expect(statement.actions.some((a) => a === 'dynamodb:Scan' || a === 'dynamodb:*'), name).toBe(false);
      }
    }
    expect(dynamo('plan')).toEqual([
      { actions: ['dynamodb:GetItem', 'dynamodb:Query'], keys: ['wm#*'] },
      { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], keys: ['run#*'] },
      { actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'], keys: ['token#ACME_PRD'] },
    ]);
    expect(s3('plan')).toEqual(['s3:GetObject,s3:PutObject /plans/*', 's3:ListBucket undefined']);
    expect(s3('extract')).toEqual(['s3:GetObject /plans/*', 's3:AbortMultipartUpload,s3:GetObject,s3:PutObject /runs/*']);
    expect(secrets('extract')).toEqual(['Tenant']);
    expect(kms('extract')).toBe(true);

    expect(dynamo('load').map((s) => s.keys)).toEqual([['run#*'], ['lease#*']]);
    // Staged units read-only; the remembered looks at target tables (shared/load/rememberedLook.ts) read and written.
    // And what each finished load leaves for its control totals, which RefreshMarts lists, reads and removes.
    expect(s3('load')).toEqual(['s3:GetObject /plans/*', 's3:GetObject /runs/*', 's3:DeleteObject,s3:GetObject,s3:PutObject /_warehouse/*', 's3:ListBucket undefined']);
    expect(secrets('load')).toEqual(['Warehouse']);
    expect(kms('load')).toBe(false);

    expect(dynamo('commit')).toEqual([
      { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], keys: ['wm#*'] },
      { actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], keys: ['run#*'] },
    ]);
    for (const name of ['recordFailure', 'groupByTable', 'commit', 'finishRun']) {
      expect(s3(name), name).toEqual(['s3:GetObject /plans/*']);
      expect(secrets(name), name).toEqual([]);
      expect(kms(name), name).toBe(false);
    }
    expect(dynamo('groupByTable')).toEqual([{ actions: ['dynamodb:Query'], keys: ['run#*'] }]);
  });

  it('stages in a private, TLS-only bucket encrypted with its own KMS key, with access logs and expiring runs', () => {
    const { template } = stackTemplate();
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageStagingKey'), 'Arn'] } },
          },
        ],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^StorageAccessLogs') }, LogFilePrefix: 'staging/' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'runs/', ExpirationInDays: 14, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'plans/', ExpirationInDays: 35, Status: 'Enabled' }),
        ]),
      },
    });
    // The remembered looks at target tables live outside runs/ and plans/: no rule expires them (each look rewrites them).
    const staging = Object.values(template.findResources('AWS::S3::Bucket')).find((b) =>
      JSON.stringify(b.Properties?.LoggingConfiguration ?? {}).includes('staging/'),
    );
    const rules = staging?.Properties?.LifecycleConfiguration?.Rules as { Prefix?: string; ExpirationInDays?: number }[];
    expect(rules.filter((r) => r.ExpirationInDays !== undefined).map((r) => r.Prefix)).toEqual(['runs/', 'plans/']);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('^StorageStaging') },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('keeps state in an on-demand table with point-in-time recovery and TTL, as stateTableDefinition describes', () => {
    const { template } = stackTemplate();
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      },
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: Match.stringLikeRegexp('ION API tokens') });
  });

  it('creates the secrets as named placeholders: no value is in the template', () => {
    const { template } = stackTemplate();
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'cloudsuite-sync/tenants/ACME_PRD', GenerateSecretString: {} });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'cloudsuite-sync/databricks', GenerateSecretString: {} });
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(2);
    for (const secret of secrets) expect(Object.keys(secret.Properties).sort()).toEqual(['Description', 'GenerateSecretString', 'Name']);
  });

  it('alarms on failed executions and, per flow, on no successful commit within its freshness interval', () => {
    const { template } = stackTemplate();
    const topic = new Capture();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'failed + timedOut + aborted' })]),
      AlarmActions: [topic],
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    const freshness = template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'SuccessfulCommits' } });
    expect(Object.keys(freshness)).toHaveLength(9);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CloudSuiteSync',
      MetricName: 'SuccessfulCommits',
      Dimensions: Match.arrayWith([{ Name: 'Flow', Value: 'purchase-orders' }, { Name: 'service', Value: 'cloudsuite-sync' }]),
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 26,
      DatapointsToAlarm: 26,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [topic.asObject()],
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(body).toContain('ChangedWithoutNewStamp');
    expect(body).toContain('KeysDeletedAtSource');
  });

  it('alarms, per catalog and schema the flows write to, on any GL voucher that does not balance in the warehouse', () => {
    const { template } = stackTemplate();
    const alarms = template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'UnbalancedVouchers' } });
    expect(Object.keys(alarms)).toHaveLength(1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CloudSuiteSync',
      MetricName: 'UnbalancedVouchers',
      Dimensions: Match.arrayWith([{ Name: 'Schema', Value: 'main.cloudsuite' }, { Name: 'service', Value: 'cloudsuite-sync' }]),
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('main\\.cloudsuite\\.gl_unbalanced_vouchers'),
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('AlarmTopic') })],
    });
  });

  it('alarms when a load refuses a unit for its control totals, on the metric the Load handler publishes', () => {
    const { template } = stackTemplate();
    const alarms = template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'ControlTotalMismatches' } });
    expect(Object.keys(alarms)).toHaveLength(1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp('-control-total-mismatches$'),
      Namespace: 'CloudSuiteSync',
      MetricName: 'ControlTotalMismatches',
      Dimensions: [{ Name: 'service', Value: 'cloudsuite-sync' }],
      Statistic: 'Sum',
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('period and field'),
      AlarmActions: [Match.anyValue()],
    });
  });
});
