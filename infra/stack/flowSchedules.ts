// One EventBridge Scheduler schedule per (cron, time zone) group of enabled flows, each starting the state
// machine with {trigger: "schedule", schedule, scheduledTime, flows}. Scheduler handles time zones and
// daylight saving time; a redelivered start is recognised by Plan (same schedule + scheduledTime).
import { Duration } from 'aws-cdk-lib';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { TimeZone } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { scheduleGroups, type FlowsConfig } from '../../shared/config/flowsConfig.ts';

export class FlowSchedules extends Construct {
  readonly schedules: Schedule[] = [];

  constructor(scope: Construct, id: string, props: { config: FlowsConfig; stateMachine: IStateMachine }) {
    super(scope, id);
    for (const group of scheduleGroups(props.config)) {
      this.schedules.push(
        new Schedule(this, group.name, {
          description: `CloudSuite sync of ${group.flows.join(', ')}`.slice(0, 512),
          schedule: ScheduleExpression.expression(`cron(${group.cron})`, TimeZone.of(group.timeZone)),
          target: new StepFunctionsStartExecution(props.stateMachine, {
            input: ScheduleTargetInput.fromObject({
              trigger: 'schedule',
              schedule: group.name,
              scheduledTime: ContextAttribute.scheduledTime,
              flows: group.flows,
            }),
            retryAttempts: 3,
            maxEventAge: Duration.hours(2),
          }),
        }),
      );
    }
  }
}
