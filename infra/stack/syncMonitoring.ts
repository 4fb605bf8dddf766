// Alarms and the dashboard: a failed (or timed out, or aborted) execution, per flow "no successful commit
// within its freshness interval" (missing data counts as breaching: a schedule that silently stops running
// alarms too), per pipeline function any error or throttle, a scheduled start Scheduler could not
// deliver (its dead-letter queue), and a load whose finance control totals differed from what was staged. Alarms notify an SNS topic encrypted with its own key; CloudWatch may use
// the key and publish to the topic only for this account's alarms of this stack (aws:SourceAccount and
// aws:SourceArn), so no other account's alarm can borrow them (the confused-deputy guard).
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { FlowsConfig } from '../../shared/config/flowsConfig.ts';
import { metricDimensions, MetricNames, METRICS_NAMESPACE, schemaMetricDimensions, type MetricName } from '../../shared/pipeline/pipelineMetrics.ts';
import type { PipelineFunctionName } from './stateNames.ts';

export function flowMetric(name: MetricName, flow: string | undefined, statistic: string, period: Duration): Metric {
  return new Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: metricDimensions(flow), statistic, period });
}

export interface SyncMonitoringProps {
  config: FlowsConfig;
  stateMachine: StateMachine;
  functions: Record<PipelineFunctionName, IFunction>;
  /** The schedules' dead-letter queue (FlowSchedules). */
  scheduleDeadLetters: IQueue;
}

export class SyncMonitoring extends Construct {
  readonly topic: Topic;
  readonly executionFailedAlarm: Alarm;
  readonly freshnessAlarms = new Map<string, Alarm>();
  /** Per `catalog.schema`: UnbalancedVouchers above 0. */
  readonly unbalancedVoucherAlarms = new Map<string, Alarm>();
  /** Per pipeline function: any error, any throttle. */
  readonly functionAlarms = new Map<PipelineFunctionName, { errors: Alarm; throttles: Alarm }>();
  readonly scheduleDeadLettersAlarm: Alarm;
  readonly controlTotalsAlarm: Alarm;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: SyncMonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Every alarm of the stack is named <stack>-…, so one ARN pattern names them all (and only them).
    const alarmName = (name: string) => `${stack.stackName}-${name}`;
    const alarmArns = stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: alarmName('*'), arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const fromOurAlarms = { StringEquals: { 'aws:SourceAccount': stack.account }, ArnLike: { 'aws:SourceArn': alarmArns } };
    const cloudWatch = new ServicePrincipal('cloudwatch.amazonaws.com');

    const key = new Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the CloudSuite sync alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch alarms publish to an encrypted topic only if they may use its key.
    key.addToResourcePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: fromOurAlarms,
      }),
    );
    this.topic = new Topic(this, 'AlarmTopic', { displayName: 'CloudSuite sync alarms', masterKey: key, enforceSSL: true });
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromOurAlarms,
      }),
    );
    if (props.config.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.config.alarmEmail));
    const notify = new SnsAction(this.topic);

    const sm = props.stateMachine;
    const period = Duration.minutes(5);
    const failedRuns = new MathExpression({
      label: 'Failed, timed out or aborted executions',
      expression: 'failed + timedOut + aborted',
      usingMetrics: {
        failed: sm.metricFailed({ period, statistic: 'Sum' }),
        timedOut: sm.metricTimedOut({ period, statistic: 'Sum' }),
        aborted: sm.metricAborted({ period, statistic: 'Sum' }),
      },
      period,
    });
    this.executionFailedAlarm = new Alarm(this, 'ExecutionFailed', {
      alarmName: alarmName('execution-failed'),
      alarmDescription:
        'A sync execution failed, timed out or was aborted. Open the failed execution in the Step Functions console: its ' +
        'cause names the failed units; fix the cause, then start {"rerunOf": "<execution name>"} (infra/README.md).',
      metric: failedRuns,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.executionFailedAlarm.addAlarmAction(notify);

    for (const flow of props.config.flows.filter((f) => f.enabled)) {
      const alarm = new Alarm(this, `Freshness-${flow.id}`, {
        alarmName: alarmName(`freshness-${flow.id}`),
        alarmDescription:
          `No successful commit of flow "${flow.id}" in ${flow.freshnessHours} hours: its data in Databricks is getting stale. ` +
          'Check for failed executions, a disabled schedule, or CloudSuite/Databricks outages (infra/README.md).',
        metric: flowMetric(MetricNames.successfulCommits, flow.id, 'Sum', Duration.hours(1)),
        threshold: 1,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: flow.freshnessHours,
        datapointsToAlarm: flow.freshnessHours,
        // No commit metric at all is exactly the failure this alarm is for.
        treatMissingData: TreatMissingData.BREACHING,
      });
      alarm.addAlarmAction(notify);
      this.freshnessAlarms.set(flow.id, alarm);
    }

    // The finance marts: per catalog and schema the flows write to, a GL voucher whose lines do not sum to zero in
    // the warehouse (gl_unbalanced_vouchers, counted after every run). M3 vouchers always balance, so one here is a
    // line lost or not yet loaded, or a source problem; missing data (no run yet, the mart skipped) is not one.
    const schemas = [...new Set(props.config.flows.filter((f) => f.enabled).map((f) => `${f.target.catalog ?? props.config.warehouse.catalog}.${f.target.schema ?? props.config.warehouse.schema}`.toLowerCase()))].sort();
    for (const schema of schemas) {
      const alarm = new Alarm(this, `UnbalancedVouchers-${schema}`, {
        alarmName: alarmName(`unbalanced-vouchers-${schema.replace('.', '-')}`),
        alarmDescription:
          `GL vouchers in ${schema} do not balance: SELECT * FROM ${schema}.gl_unbalanced_vouchers names them. Check that ` +
          'the gl_transactions flow committed (a failed unit: rerun it), then compare the voucher with M3 (infra/README.md, "Alarms").',
        metric: new Metric({ namespace: METRICS_NAMESPACE, metricName: MetricNames.unbalancedVouchers, dimensionsMap: schemaMetricDimensions(schema), statistic: 'Maximum', period: Duration.hours(1) }),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(notify);
      this.unbalancedVoucherAlarms.set(schema, alarm);
    }

    // Any error of a pipeline function, even one a retry then cured (a unit's failure is caught by the state
    // machine and ends the execution Failed: that alarm names the units; this one names the function), and
    // any throttle (the account's concurrency is exhausted: runs slow down or fail).
    for (const [name, fn] of Object.entries(props.functions) as [PipelineFunctionName, IFunction][]) {
      const errors = new Alarm(this, `FunctionErrors-${name}`, {
        alarmName: alarmName(`function-errors-${name}`),
        alarmDescription:
          `The ${name} function failed (an uncaught error, a timeout or running out of memory). Open its log group, find the ` +
          'error by its request id, then check the execution it belonged to (infra/README.md, "Alarms").',
        metric: fn.metricErrors({ period, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      const throttles = new Alarm(this, `FunctionThrottles-${name}`, {
        alarmName: alarmName(`function-throttles-${name}`),
        alarmDescription:
          `Lambda throttled the ${name} function: the account's (or region's) concurrency is used up. Lower maxConcurrency in ` +
          'infra/flows.config.ts or ask AWS for a higher concurrency quota (infra/README.md, "Alarms").',
        metric: fn.metricThrottles({ period, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      errors.addAlarmAction(notify);
      throttles.addAlarmAction(notify);
      this.functionAlarms.set(name, { errors, throttles });
    }

    this.scheduleDeadLettersAlarm = new Alarm(this, 'ScheduleDeadLetters', {
      alarmName: alarmName('schedule-dead-letters'),
      alarmDescription:
        'A scheduled start could not be delivered to the state machine (after Scheduler\'s retries): that run did not happen. ' +
        'Read the message in the schedules\' dead-letter queue for the schedule and time, fix the cause, start the run from the ' +
        'console, then delete the message (infra/README.md, "Alarms").',
      metric: props.scheduleDeadLetters.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.scheduleDeadLettersAlarm.addAlarmAction(notify);

    this.controlTotalsAlarm = new Alarm(this, 'ControlTotalMismatches', {
      alarmName: alarmName('control-total-mismatches'),
      alarmDescription:
        'A load refused a unit because the record count or an amount sum it was about to merge differed from what was staged ' +
        'from CloudSuite: nothing of that unit was merged and its watermark did not move. The failed unit\'s error names the ' +
        'table, unit, period and field; fix the cause, then rerun the execution (infra/README.md, "Alarms").',
      metric: flowMetric(MetricNames.controlTotalMismatches, undefined, 'Sum', period),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.controlTotalsAlarm.addAlarmAction(notify);

    const flows = props.config.flows.filter((f) => f.enabled).map((f) => f.id);
    const perFlow = (name: MetricName, statistic: string) => flows.map((f) => flowMetric(name, f, statistic, Duration.hours(1)).with({ label: f }));
    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.days(7) });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: '# CloudSuite → Databricks sync\nRuns, records per flow, and data freshness. Runbook: infra/README.md in the repository.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({
        title: 'Alarms',
        alarms: [
          this.executionFailedAlarm,
          ...this.freshnessAlarms.values(),
          ...this.unbalancedVoucherAlarms.values(),
          this.scheduleDeadLettersAlarm,
          this.controlTotalsAlarm,
          ...[...this.functionAlarms.values()].flatMap((a) => [a.errors, a.throttles]),
        ],
        width: 24,
        height: 5,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Executions',
        left: [sm.metricSucceeded({ period: Duration.hours(1), statistic: 'Sum' }), sm.metricFailed({ period: Duration.hours(1), statistic: 'Sum' })],
        width: 8,
      }),
      new GraphWidget({ title: 'Records extracted per flow', left: perFlow(MetricNames.recordsExtracted, 'Sum'), width: 8 }),
      new GraphWidget({ title: 'Records loaded per flow', left: perFlow(MetricNames.recordsLoaded, 'Sum'), width: 8 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'Run duration (s)', left: [flowMetric(MetricNames.runSeconds, undefined, 'Maximum', Duration.hours(1))], width: 8 }),
      new GraphWidget({ title: 'Commit lag per flow (s from run start)', left: perFlow(MetricNames.commitLagSeconds, 'Maximum'), width: 8 }),
      new GraphWidget({ title: 'Failed units per flow', left: perFlow(MetricNames.failedUnits, 'Sum'), width: 8 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Units refused by control totals',
        left: [flowMetric(MetricNames.controlTotalMismatches, undefined, 'Sum', Duration.hours(1))],
        width: 8,
      }),
    );
    // Data quality: what M3 changed or deleted without telling an incremental reader, found by reconcile runs and snapshots.
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'Rows changed without a new change stamp, per flow', left: perFlow(MetricNames.changedWithoutNewStamp, 'Sum'), width: 12 }),
      new GraphWidget({ title: 'Keys deleted at the source (soft-deleted), per flow', left: perFlow(MetricNames.keysDeletedAtSource, 'Sum'), width: 12 }),
    );
  }
}
