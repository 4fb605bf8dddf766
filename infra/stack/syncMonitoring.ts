// Alarms and the dashboard: a failed (or timed out, or aborted) execution, and per flow "no successful
// commit within its freshness interval" (missing data counts as breaching: a schedule that silently stops
// running alarms too). Alarms notify an SNS topic encrypted with its own key.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
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
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { FlowsConfig } from '../../shared/config/flowsConfig.ts';
import { metricDimensions, MetricNames, METRICS_NAMESPACE, type MetricName } from '../../shared/pipeline/pipelineMetrics.ts';

export function flowMetric(name: MetricName, flow: string | undefined, statistic: string, period: Duration): Metric {
  return new Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: metricDimensions(flow), statistic, period });
}

export class SyncMonitoring extends Construct {
  readonly topic: Topic;
  readonly executionFailedAlarm: Alarm;
  readonly freshnessAlarms = new Map<string, Alarm>();
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: { config: FlowsConfig; stateMachine: StateMachine }) {
    super(scope, id);
    const key = new Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the CloudSuite sync alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch alarms publish to an encrypted topic only if they may use its key.
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey');
    this.topic = new Topic(this, 'AlarmTopic', { displayName: 'CloudSuite sync alarms', masterKey: key, enforceSSL: true });
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
      new AlarmStatusWidget({ title: 'Alarms', alarms: [this.executionFailedAlarm, ...this.freshnessAlarms.values()], width: 24, height: 3 }),
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
  }
}
