// One execution of the REAL state machine (synthesized from the CDK app) run by aws-local-stepfunctions,
// each Task state served by the real Lambda handler in process: payloads cross a JSON boundary as in Step
// Functions, each invocation gets a Lambda-like context with its function's timeout, and the result is read
// back from the plan and the ledger.
import { randomBytes } from 'node:crypto';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { createCommitHandler } from '../../functions/commit.ts';
import { createExtractHandler } from '../../functions/extract.ts';
import { createFinishRunHandler } from '../../functions/finishRun.ts';
import { createGroupByTableHandler } from '../../functions/groupByTable.ts';
import { createWarehouseStepHandler } from '../../functions/load.ts';
import { createPlanHandler } from '../../functions/plan.ts';
import { createRecordFailureHandler } from '../../functions/recordFailure.ts';
import type { InvocationContext } from '../../functions/support/handlerSupport.ts';
import { tableKey } from '../../shared/config/targetTable.ts';
import { planKeyOf } from '../../shared/pipeline/runPlan.ts';
import type { RefreshMartsResult } from '../../shared/pipeline/refreshMarts.ts';
import { FUNCTION_SPECS } from '../stack/pipelineFunctions.ts';
import { StateNames, TaskStates, type PipelineFunctionName } from '../stack/stateNames.ts';
import { awsHistoryEventCount, type LocalEvent } from './historyEvents.ts';
import { withInvocationBudget } from './invocationBudget.ts';
import type { LocalEnvironment } from './localEnvironment.ts';
import { synthesizeStateMachineDefinition } from './stateMachineDefinition.ts';
import { describeOutcome, describeTaskFailure } from './syncProgress.ts';
import type { LocalExecutionOptions, LocalSyncResult, LocalSyncTestHooks, TaskHandler, TaskInvocation } from './runLocalSync.ts';

function executionInput(options: LocalExecutionOptions): Record<string, unknown> {
  if (options.input) return options.input;
  if (options.rerunOf) return { rerunOf: options.rerunOf };
  return {
    trigger: 'local',
    ...(options.flows?.length ? { flows: options.flows } : {}),
    ...(options.companies?.length ? { companies: options.companies } : {}),
    ...(options.divisions?.length ? { divisions: options.divisions } : {}),
    ...(options.since ? { since: options.since } : {}),
    ...(options.until ? { until: options.until } : {}),
    ...(options.mode ? { mode: options.mode } : {}),
  };
}

/** Definitions already validated in this process (by their ASL text). */
const validatedDefinitions = new Set<string>();

/**
 * The definition as aws-local-stepfunctions runs it, validated against the ASL schemas once per process: its
 * validator compiles every schema anew on each construction (tenths of a second for each execution otherwise).
 */
function runnableStateMachine(definition: object): StateMachine {
  const text = JSON.stringify(definition);
  const machine = new StateMachine(definition as never, validatedDefinitions.has(text) ? { validationOptions: { noValidate: true } } : undefined);
  validatedDefinitions.add(text);
  return machine;
}

/** local-<UTC time>-<random>, as the CLI names executions. */
export function newExecutionName(prefix = 'local'): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${prefix}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** A Lambda-like context: the function's configured timeout counts down from the invocation's start. */
function contextFor(fn: PipelineFunctionName): InvocationContext {
  const endsAt = Date.now() + FUNCTION_SPECS[fn].timeout.toMilliseconds();
  return { getRemainingTimeInMillis: () => endsAt - Date.now() };
}

export async function executeLocally(
  env: LocalEnvironment,
  options: LocalExecutionOptions,
  hooks: Pick<LocalSyncTestHooks, 'wrapTask'>,
  progress: (line: string) => void,
): Promise<LocalSyncResult> {
  const started = performance.now();
  const { deps, flows } = env;
  const handlers: Record<PipelineFunctionName, (event: unknown, context?: InvocationContext) => Promise<unknown>> = {
    plan: createPlanHandler(() => ({ ...deps, flows, executions: env.executions })),
    extract: createExtractHandler(() => deps),
    recordFailure: createRecordFailureHandler(() => deps),
    groupByTable: createGroupByTableHandler(() => deps),
    load: createWarehouseStepHandler(() => deps),
    commit: createCommitHandler(() => deps),
    finishRun: createFinishRunHandler(() => deps),
  };
  const invocations: TaskInvocation[] = [];
  let marts: RefreshMartsResult | undefined;
  const taskHandlers: Record<string, TaskHandler> = {};
  for (const [state, fn] of Object.entries(TaskStates) as [string, PipelineFunctionName][]) {
    const invoke: TaskHandler = async (input) => {
      const at = performance.now();
      // Payloads cross a JSON boundary in Step Functions: so they do here.
      const event = JSON.parse(JSON.stringify(input)) as unknown;
      const run = () => handlers[fn](event, contextFor(fn));
      try {
        const output = fn === 'extract' ? await withInvocationBudget(run) : await run();
        invocations.push({ state, fn, durationMs: performance.now() - at, failed: false });
        if (state === StateNames.refreshMarts) marts = output as RefreshMartsResult;
        const line = describeOutcome(state, output as Record<string, unknown>);
        if (line) progress(line);
        return JSON.parse(JSON.stringify(output)) as unknown;
      } catch (error) {
        invocations.push({ state, fn, durationMs: performance.now() - at, failed: true });
        const line = describeTaskFailure(state, fn, event, error);
        if (line) progress(line);
        throw error;
      }
    };
    taskHandlers[state] = hooks.wrapTask ? hooks.wrapTask(state, invoke) : invoke;
  }

  const executionName = options.executionName ?? newExecutionName();
  const machine = runnableStateMachine(synthesizeStateMachineDefinition(flows));
  const retryIntervalOverrides = Object.fromEntries(Object.keys(TaskStates).map((state) => [state, 0]));
  const events: LocalEvent[] = [];
  let status: LocalSyncResult['status'] = 'succeeded';
  let cause: string | undefined;
  let error: string | undefined;
  let output: unknown;
  await env.executions.track(executionName, async () => {
    const execution = machine.run(executionInput(options) as never, {
      overrides: { taskResourceLocalHandlers: taskHandlers as never, retryIntervalOverrides },
      context: {
        Execution: {
          Id: `arn:aws:states:eu-west-1:123456789012:execution:LocalSync:${executionName}`,
          Name: executionName,
        },
        StateMachine: { Id: 'arn:aws:states:eu-west-1:123456789012:stateMachine:LocalSync', Name: 'LocalSync' },
      },
    });
    const collecting = (async () => {
      for await (const event of execution.eventLogs) events.push(event as LocalEvent);
    })();
    try {
      output = await execution.result;
    } catch (failure) {
      status = 'failed';
      const inner = failure instanceof ExecutionError ? (failure.cause as Error | undefined) : (failure as Error);
      error = inner?.name ?? 'Error';
      cause = inner?.message ?? String(failure);
    }
    await collecting;
  });

  const plan = await deps.plans.find(planKeyOf(executionName));
  const planned = new Set(plan?.units.map((u) => u.unitId) ?? []);
  const units = plan ? (await deps.ledger.listUnits(plan.unitsRunKey)).filter((u) => planned.has(u.unitId)) : [];
  const run = plan ? await deps.ledger.getRun(plan.runKey) : undefined;
  if (status === 'succeeded' && !plan) status = 'duplicate';
  const tables = [...new Set(plan?.units.map((u) => tableKey(u.table)) ?? [])].sort();
  return {
    executionName,
    status,
    ...(cause !== undefined ? { cause } : {}),
    ...(error !== undefined ? { error } : {}),
    ...(plan ? { plan } : {}),
    ...(run ? { run } : {}),
    ...(output !== undefined ? { output } : {}),
    ...(marts ? { marts } : {}),
    units,
    events,
    awsHistoryEvents: awsHistoryEventCount(events),
    invocations,
    durationMs: performance.now() - started,
    cloudSuite: env.cloudSuite.description,
    warehouse: env.warehouse.description,
    tables,
    howToQuery: env.warehouse.howToQuery(tables[0] ?? `${flows.config.warehouse.catalog}.${flows.config.warehouse.schema}.<table>`),
    howToRun: (sql) => env.warehouse.howToRun(sql),
    metrics: env.metrics,
  };
}
