// One EventBridge Scheduler schedule per (cron, time zone) group of enabled flows, each starting the state
// machine with {trigger: "schedule", schedule, scheduledTime, flows}; and one per (cron, time zone) group of the
// incremental flows' reconcile schedules, whose input adds "mode": "reconcile", and of their daily key sweeps
// ("mode": "sweep", flows with deleteDetection "sweep"). Scheduler handles time zones and
// daylight saving time; a redelivered start is recognised by Plan (same schedule + scheduledTime). A start
// that still fails after Scheduler's retries (throttled, the machine deleted, a permission removed) lands in
// a dead-letter queue, which SyncMonitoring alarms on, instead of vanishing.
import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { TimeZone } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { createHash } from 'node:crypto';
import { reconcileScheduleOf, sweepScheduleOf, type ValidatedFlowsConfig } from '../../shared/config/flowsConfig.ts';

export interface ScheduleGroup {
  /** Stable name, sent in the execution input and part of the duplicate-start key. */
  name: string;
  cron: string;
  timeZone: string;
  flows: string[];
  /** What the schedule starts: the flows' nightly incremental run, their reconcile run or their key sweep. */
  mode: 'incremental' | 'reconcile' | 'sweep';
}

/**
 * Enabled flows grouped by (cron, time zone): one EventBridge schedule (and one execution) per group, so
 * flows due at the same time share a run, a token and the Map's concurrency.
 */
export function scheduleGroups({ config, catalog }: ValidatedFlowsConfig): ScheduleGroup[] {
  const groups = new Map<string, ScheduleGroup>();
  const add = (flow: string, schedule: { cron: string; timeZone: string }, mode: ScheduleGroup['mode']) => {
    const cron = schedule.cron.trim().split(/\s+/).join(' ');
    const key = `${mode}|${cron}|${schedule.timeZone}`;
    let group = groups.get(key);
    if (!group) {
      const name = scheduleName(cron, schedule.timeZone);
      group = { name: mode === 'incremental' ? name : `${mode}-${name}`.slice(0, 64), cron, timeZone: schedule.timeZone, flows: [], mode };
      groups.set(key, group);
    }
    group.flows.push(flow);
  };
  for (const flow of config.flows) {
    if (!flow.enabled) continue;
    add(flow.id, flow.schedule, 'incremental');
    const reconcile = reconcileScheduleOf(flow, config, catalog);
    if (reconcile) add(flow.id, reconcile, 'reconcile');
    const sweep = sweepScheduleOf(flow, config, catalog);
    if (sweep) add(flow.id, sweep, 'sweep');
  }
  return [...groups.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function scheduleName(cron: string, zone: string): string {
  const zonePart = zone.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const daily = /^(\d{1,2}) (\d{1,2}) \* \* \? \*$/.exec(cron);
  if (daily) return `daily-${daily[2]!.padStart(2, '0')}${daily[1]!.padStart(2, '0')}-${zonePart}`.slice(0, 64);
  const hash = createHash('sha256').update(`${cron}|${zone}`).digest('hex').slice(0, 8);
  return `cron-${hash}-${zonePart}`.slice(0, 64);
}

export class FlowSchedules extends Construct {
  readonly schedules: Schedule[] = [];
  /** Starts Scheduler could not deliver, kept 14 days with their input (schedule name, scheduled time, flows). */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: { flows: ValidatedFlowsConfig; stateMachine: IStateMachine }) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    NagSuppressions.addResourceSuppressions(this.deadLetterQueue, [
      {
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself the dead-letter queue of the EventBridge Scheduler schedules (cdk-nag cannot see that use); a DLQ needs no DLQ.',
      },
    ]);
    for (const group of scheduleGroups(props.flows)) {
      this.schedules.push(
        new Schedule(this, group.name, {
          description: `CloudSuite ${group.mode === 'incremental' ? 'sync' : group.mode} of ${group.flows.join(', ')}`.slice(0, 512),
          schedule: ScheduleExpression.expression(`cron(${group.cron})`, TimeZone.of(group.timeZone)),
          target: new StepFunctionsStartExecution(props.stateMachine, {
            input: ScheduleTargetInput.fromObject({
              trigger: 'schedule',
              schedule: group.name,
              scheduledTime: ContextAttribute.scheduledTime,
              flows: group.flows,
              ...(group.mode === 'incremental' ? {} : { mode: group.mode }),
            }),
            retryAttempts: 3,
            maxEventAge: Duration.hours(2),
            deadLetterQueue: this.deadLetterQueue,
          }),
        }),
      );
    }
  }
}
