// The sync's state machine (Standard, JSONPath, inline Maps), drawn like the architecture diagram:
//   Plan → duplicate start? → Map over units [Extract ⟲ while 'continue'; failure → RecordExtractFailure]
//        → GroupByTable → Map over tables [Load ⟲ while 'continue' → Commit; failure → RecordTableFailure]
//        → RefreshMarts (views; a failure is caught) → FinishRun → Succeed | Fail
// Payloads carry the plan's key, unit ids, table names and counts: never records, tokens or secrets.
// Retries do not multiply: HTTP retries live inside the Lambdas; here only Lambda service errors and
// throttles (with backoff and full jitter) and our transient errors, at most twice: the handlers throw
// every transient error under one name (shared/pipeline/taskError.ts), so this list never grows.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  JitterType,
  JsonPath,
  LogLevel,
  Map as MapState,
  Pass,
  Result,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { RETRIED_TASK_ERROR } from '../../shared/pipeline/taskError.ts';
import { FUNCTION_SPECS } from './pipelineFunctions.ts';
import { StateNames, type PipelineFunctionName } from './stateNames.ts';

/** Errors of the Lambda service itself (not of our code): safe to retry, with backoff and full jitter. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

export interface PipelineStateMachineProps {
  functions: Record<PipelineFunctionName, IFunction>;
  maxConcurrency: number;
  /** Fixed, so Plan's permission to describe its executions needs no reference to the machine (a cycle). */
  stateMachineName: string;
}

export class PipelineStateMachine extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: PipelineStateMachineProps) {
    super(scope, id);
    const fns = props.functions;
    const invoke = (name: string, fn: PipelineFunctionName, payload?: Record<string, unknown>) => {
      const task = new LambdaInvoke(this, name, {
        lambdaFunction: fns[fn],
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        // A little above the function's own timeout, so Lambda's timeout is what ends a stuck invocation.
        taskTimeout: Timeout.duration(FUNCTION_SPECS[fn].timeout.plus(Duration.minutes(1))),
        ...(payload ? { payload: TaskInput.fromObject(payload) } : {}),
      });
      task.addRetry({
        errors: LAMBDA_SERVICE_ERRORS,
        interval: Duration.seconds(2),
        maxAttempts: 6,
        backoffRate: 2,
        maxDelay: Duration.minutes(1),
        jitterStrategy: JitterType.FULL,
      });
      task.addRetry({
        errors: [RETRIED_TASK_ERROR],
        interval: Duration.seconds(30),
        maxAttempts: 2,
        backoffRate: 2,
        maxDelay: Duration.minutes(5),
        jitterStrategy: JitterType.FULL,
      });
      return task;
    };
    const plan = JsonPath.stringAt('$.plan');

    // One unit: Extract until complete; a failure is caught here so the other units go on.
    const extract = invoke(StateNames.extract, 'extract');
    const recordExtractFailure = invoke(StateNames.recordExtractFailure, 'recordFailure', {
      plan,
      unitId: JsonPath.stringAt('$.unitId'),
      error: JsonPath.objectAt('$.error'),
    }).next(new Pass(this, StateNames.unitFailed, { result: Result.fromObject({}) }));
    extract.addCatch(recordExtractFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    const unitExtracted = new Pass(this, StateNames.unitExtracted, { result: Result.fromObject({}) });
    const unit = extract.next(
      new Choice(this, StateNames.extractFinished).when(Condition.stringEquals('$.status', 'continue'), extract).otherwise(unitExtracted),
    );
    const extractUnits = new MapState(this, StateNames.extractUnits, {
      itemsPath: '$.units',
      itemSelector: { plan, unitId: JsonPath.stringAt('$$.Map.Item.Value') },
      maxConcurrency: props.maxConcurrency,
      // Iterations end in an empty Pass and the result is dropped: the state stays small for any unit count.
      resultPath: JsonPath.DISCARD,
    }).itemProcessor(unit);

    // One table: Load, then Commit; a failure of either is caught and fails the table's units.
    const recordTableFailure = invoke(StateNames.recordTableFailure, 'recordFailure', {
      plan,
      table: JsonPath.stringAt('$.table'),
      error: JsonPath.objectAt('$.error'),
    }).next(new Pass(this, StateNames.tableFailed, { result: Result.fromObject({}) }));
    const load = invoke(StateNames.load, 'load');
    const commit = invoke(StateNames.commit, 'commit');
    load.addCatch(recordTableFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    commit.addCatch(recordTableFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    // A load that reached its deadline answers 'continue' with a checkpoint, and is invoked again (as Extract is).
    const table = load.next(
      new Choice(this, StateNames.loadFinished)
        .when(Condition.stringEquals('$.status', 'continue'), load)
        .otherwise(commit.next(new Pass(this, StateNames.tableCommitted, { result: Result.fromObject({}) }))),
    );
    const loadTables = new MapState(this, StateNames.loadTables, {
      itemsPath: '$.tables',
      itemSelector: { plan, table: JsonPath.stringAt('$$.Map.Item.Value') },
      maxConcurrency: props.maxConcurrency,
      resultPath: JsonPath.DISCARD,
    }).itemProcessor(table);

    const outcome = new Choice(this, StateNames.runOutcome)
      .when(
        Condition.stringEquals('$.status', 'failed'),
        new Fail(this, StateNames.runFailed, { error: 'UnitsFailed', causePath: '$.cause' }),
      )
      .otherwise(new Succeed(this, StateNames.runSucceeded));

    // A step between the units and the tables (a Map itself, GroupByTable) that fails after its retries
    // would end the execution with its run still "running" and no rerun possible: FinishRun closes the run
    // instead, failing every unit that did not commit with the step's error, so {"rerunOf"} replays them.
    const finishStopped = invoke(StateNames.finishStopped, 'finishRun', { plan, stoppedBy: JsonPath.objectAt('$.error') }).next(outcome);
    const group = invoke(StateNames.group, 'groupByTable', { plan });
    for (const step of [extractUnits, group, loadTables]) step.addCatch(finishStopped, { errors: ['States.ALL'], resultPath: '$.error' });

    // The finance marts are views over the committed tables: refreshed once every table is done, and a failure
    // here (reported in the step's result and logs) goes on to FinishRun: it never undoes committed data.
    const finish = invoke(StateNames.finish, 'finishRun', { plan });
    const refreshMarts = invoke(StateNames.refreshMarts, 'load', { plan, step: 'refreshMarts' });
    // The Pass keeps its input (the plan key, and the error under martsError) for FinishRun.
    refreshMarts.addCatch(new Pass(this, StateNames.martsNotRefreshed).next(finish), {
      errors: ['States.ALL'],
      resultPath: '$.martsError',
    });

    const definition = invoke(StateNames.plan, 'plan', {
      execution: JsonPath.stringAt('$$.Execution.Name'),
      stateMachine: JsonPath.stringAt('$$.StateMachine.Id'),
      startedAt: JsonPath.stringAt('$$.Execution.StartTime'),
      input: JsonPath.objectAt('$'),
    }).next(
      new Choice(this, StateNames.isDuplicate)
        .when(
          Condition.booleanEquals('$.duplicate', true),
          new Succeed(this, StateNames.alreadyStarted, { comment: 'This schedule time already ran: nothing to do' }),
        )
        .otherwise(
          extractUnits
            .next(group)
            .next(loadTables)
            .next(refreshMarts)
            .next(finish)
            .next(outcome),
        ),
    );

    const logGroup = new LogGroup(this, 'ExecutionLogs', { retention: RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      definitionBody: DefinitionBody.fromChainable(definition),
      stateMachineType: StateMachineType.STANDARD,
      timeout: Duration.hours(12),
      tracingEnabled: true,
      comment: 'CloudSuite (M3) to Databricks sync: plan, extract units, load tables, commit watermarks',
      // ALL events, without payloads: they hold only ids and counts, but there is no need to keep them twice.
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
    });
    NagSuppressions.addResourceSuppressions(
      this.stateMachine,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Generated by CDK for LambdaInvoke: lambda:InvokeFunction on "<function arn>:*" covers the versions and aliases of ' +
            "the pipeline's own functions only.",
          appliesTo: [{ regex: '/^Resource::<Pipeline[A-Za-z]+[0-9A-F]{8}\\.Arn>:\\*$/g' }],
        },
        {
          id: 'AwsSolutions-IAM5',
          reason: 'X-Ray tracing and CloudWatch Logs delivery (execution logging) do not support resource-level permissions.',
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
  }
}
