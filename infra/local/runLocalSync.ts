// The main job on a laptop: the REAL state machine (synthesized from the CDK app) run by aws-local-stepfunctions
// with the real Lambda handlers in process, DynamoDB and S3 served by dynalite and s3rver, secrets in memory,
// CloudSuite and Databricks from the bundled emulators (or a real tenant and warehouse). All state lives in
// the state folder, so the next run is incremental; `reset` starts over. `startLocalSync` keeps those services
// up for several executions, which may run at the same time (e.g. a schedule and a rerun racing for a table).
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { createExtractHandler } from '../../functions/extract.ts';
import { createCommitHandler } from '../../functions/commit.ts';
import { createFinishRunHandler } from '../../functions/finishRun.ts';
import { createGroupByTableHandler } from '../../functions/groupByTable.ts';
import { createLoadHandler } from '../../functions/load.ts';
import { createPlanHandler } from '../../functions/plan.ts';
import { createRecordFailureHandler } from '../../functions/recordFailure.ts';
import type { InvocationContext } from '../../functions/support/handlerSupport.ts';
import { DynamoTokenCache, tokenCachePk } from '../../shared/aws/dynamoTokenCache.ts';
import { LocalKeyEncryptor } from '../../shared/aws/encryptor.ts';
import { startLocalDynamo, startLocalS3 } from './emulators/aws/localAwsEmulators.ts';
import { S3BlobStore } from '../../shared/aws/s3BlobStore.ts';
import { ConfigError } from '../../shared/config/configError.ts';
import type { MiExecutor } from '../../shared/extract/miExecutor.ts';
import { logger, type Log } from '../../shared/observability/logger.ts';
import type { RunMode } from '../../shared/pipeline/executionInput.ts';
import { FUNCTION_SPECS } from '../stack/pipelineFunctions.ts';
import type { ValidatedFlowsConfig } from '../../shared/config/flowsConfig.ts';
import { loadFlowsConfig } from '../../shared/config/loadFlowsConfig.ts';
import { tableKey } from '../../shared/config/targetTable.ts';
import { loadTable } from '../../shared/load/loadTable.ts';
import type { PipelineDeps, TableLoader } from '../../shared/pipeline/pipelineDeps.ts';
import { RecordingPipelineMetrics } from '../../shared/pipeline/pipelineMetrics.ts';
import { planKeyOf, PlanStore, type RunPlan } from '../../shared/pipeline/runPlan.ts';
import { tenantConnector } from '../../shared/pipeline/tenantConnections.ts';
import { warehouseOpener } from '../../shared/pipeline/warehouseSessions.ts';
import { Deadline, DeadlineExceededError } from '../../shared/runtime/deadline.ts';
import type { WarehouseSession } from '../../shared/load/loadTypes.ts';
import { DynamoRunLedger } from '../../shared/state/dynamoRunLedger.ts';
import { DynamoTableLease } from '../../shared/state/dynamoTableLease.ts';
import type { TableLease } from '../../shared/state/tableLease.ts';
import { DynamoWatermarkStore } from '../../shared/state/dynamoWatermarkStore.ts';
import type { RunRecord, UnitRecord } from '../../shared/state/runLedger.ts';
import { ensureStateTable } from '../../shared/state/stateTable.ts';
import type { CloudSuiteEmulator, Knobs, Volume } from './emulators/cloudsuite/index.ts';
import { s3ObjectStorage, type WarehouseEmulator } from './emulators/databricks/index.ts';
import defaultFlowsConfig from '../flows.config.ts';
import { StateNames, TaskStates, type PipelineFunctionName } from '../stack/stateNames.ts';
import { InProcessExecutions } from '../../shared/pipeline/executionStatus.ts';
import { awsHistoryEventCount, type LocalEvent } from './historyEvents.ts';
import {
  InMemorySecretSource,
  realCloudSuite,
  realWarehouse,
  startLocalCloudSuite,
  startLocalWarehouse,
  type DatabricksTarget,
  type LocalCloudSuite,
  type LocalWarehouse,
} from './localSources.ts';
import { synthesizeStateMachineDefinition } from './stateMachineDefinition.ts';

export const STATE_TABLE = 'cloudsuite-sync-state';
export const STAGING_BUCKET = 'cloudsuite-sync-staging';

export type TaskHandler = (input: unknown) => Promise<unknown>;

export interface LocalSyncOptions {
  /** Default .cloudsuite-sync */
  stateDir?: string;
  /** Delete the state folder first: the next run reads everything again. */
  reset?: boolean;
  /** The flows configuration object (default: infra/flows.config.ts). */
  config?: unknown;
  flows?: string[];
  companies?: string[];
  divisions?: string[];
  /** YYYY-MM-DD */
  since?: string;
  until?: string;
  mode?: RunMode;
  /** Replay the failed units of this earlier execution. */
  rerunOf?: string;
  /** The execution input as given (e.g. what a schedule sends); replaces the options above. */
  input?: Record<string, unknown>;
  /** Move the bundled emulator's calendar forward first (each day brings that day's changes). */
  advanceDays?: number;
  /** A real tenant instead of the bundled emulator. */
  ionapiFile?: string;
  /** A real Databricks SQL warehouse instead of the bundled emulator. */
  databricks?: DatabricksTarget;
  /** The execution's name (default local-<time>-<random>). */
  executionName?: string;
  /** A progress line per unit and table (default: stderr). */
  progress?: (line: string) => void;
  log?: Log;

  // Seams for tests.
  /** The loader (default: shared/load/loadTable.ts, the real one). */
  loadTable?: TableLoader;
  /** Emulator seed and data sizes for the first run of a state folder. */
  emulator?: { seed?: number; volume?: Partial<Volume>; knobs?: Partial<Knobs> };
  /** Called with the CloudSuite emulator before the execution starts (faults, data changes). */
  onCloudSuite?: (emulator: CloudSuiteEmulator) => void | Promise<void>;
  /** Simulates Lambda's time limit: an Extract invocation runs out of time after this many MI calls. */
  miCallsPerExtract?: number;
  /** Simulates Lambda's time limit for Load: each statement spends a nominal minute of an invocation of this many. */
  loadStatementsPerInvocation?: number;
  /** Wraps a Task state's handler (e.g. to make one unit fail). */
  wrapTask?: (state: string, handler: TaskHandler) => TaskHandler;
  /** Wraps the table leases the Load handlers use (e.g. to record who waited for whom). */
  wrapLeases?: (leases: TableLease) => TableLease;
}

export interface TaskInvocation {
  state: string;
  fn: PipelineFunctionName;
  durationMs: number;
  failed: boolean;
}

export interface LocalSyncResult {
  executionName: string;
  status: 'succeeded' | 'failed' | 'duplicate';
  /** The Fail state's cause, or the error that stopped the execution. */
  cause?: string;
  error?: string;
  plan?: RunPlan;
  run?: RunRecord;
  /** The ledger records of this execution's units. */
  units: UnitRecord[];
  /** Every event of the local execution's log. */
  events: LocalEvent[];
  /** What the same execution would write to its AWS history. */
  awsHistoryEvents: number;
  invocations: TaskInvocation[];
  durationMs: number;
  cloudSuite: string;
  warehouse: string;
  howToQuery: string;
  tables: string[];
  /** Metric points published so far (shared by the executions of one session). */
  metrics: RecordingPipelineMetrics;
}

/** What belongs to one execution; everything else in LocalSyncOptions belongs to the session's services. */
export type LocalExecutionOptions = Pick<
  LocalSyncOptions,
  'flows' | 'companies' | 'divisions' | 'since' | 'until' | 'mode' | 'rerunOf' | 'input' | 'executionName' | 'wrapTask'
>;

/** Started services (dynalite, s3rver, secrets, CloudSuite, warehouse) on which executions run. */
export interface LocalSyncSession {
  /** Runs one execution of the state machine to its end; several may run at once on one session. */
  execute(options?: LocalExecutionOptions): Promise<LocalSyncResult>;
  /** The handlers' collaborators on these services (watermarks, ledger, leases, …), to look at state. */
  deps: PipelineDeps;
  /** The bundled emulators, when in use. */
  cloudSuiteEmulator?: CloudSuiteEmulator;
  warehouseEmulator?: WarehouseEmulator;
  /** The SDK clients behind the ledger, watermarks, leases and staging store (chaos tests add fault middleware). */
  aws: LocalEnvironment['aws'];
  close(): Promise<void>;
}

interface LocalEnvironment {
  deps: PipelineDeps;
  flows: ValidatedFlowsConfig;
  /** Executions running in this process (a rerun asks whether the one it replays has ended). */
  executions: InProcessExecutions;
  cloudSuite: LocalCloudSuite;
  warehouse: LocalWarehouse;
  metrics: RecordingPipelineMetrics;
  aws: { s3: S3Client; documents: DynamoDBDocumentClient };
  close(): Promise<void>;
}

/** Extract invocations run in this context, so a budgeted MI client knows whose calls it counts. */
const invocationBudget = new AsyncLocalStorage<{ calls: number }>();

function budgeted(mi: MiExecutor, callsPerInvocation: number | undefined): MiExecutor {
  if (!callsPerInvocation) return mi;
  return {
    execute(request, options) {
      const budget = invocationBudget.getStore();
      if (budget && budget.calls++ >= callsPerInvocation) {
        // What Lambda's remaining time does to a long extraction, made deterministic.
        return Promise.reject(new DeadlineExceededError(`${request.program}/${request.transaction} (local invocation budget)`, 1, 0));
      }
      return mi.execute(request, options);
    },
  };
}

/**
 * A loader whose invocations run out of time after `statements` statements, deterministically: each statement
 * spends a nominal minute of the deadline the loader sees (what a slow warehouse does to a 15-minute Lambda).
 */
function budgetedLoader(loader: TableLoader, statements: number | undefined): TableLoader {
  if (!statements) return loader;
  return (request) => {
    let used = 0;
    const warehouse: WarehouseSession = {
      get stats() {
        return request.warehouse.stats;
      },
      execute: (sql, params, callOptions) => {
        used += 1;
        return request.warehouse.execute(sql, params, callOptions);
      },
      close: () => request.warehouse.close(),
    };
    const outer = request.deadline ?? Deadline.none();
    const deadline = Deadline.measuredBy(() => Math.min(outer.remainingMs(), (statements - used) * 60_000));
    return loader({ ...request, warehouse, deadline });
  };
}

async function openEnvironment(options: LocalSyncOptions, stateDir: string, log: Log): Promise<LocalEnvironment> {
  const flows = loadFlowsConfig(options.config ? { raw: options.config, source: 'the flows configuration' } : { raw: defaultFlowsConfig });
  if (options.ionapiFile && options.advanceDays) throw new ConfigError('--advance-days moves the bundled emulator\'s calendar; it has no meaning with --ionapi');
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const dynamo = await startLocalDynamo(path.join(stateDir, 'dynamodb'));
    closers.push(() => dynamo.close());
    const s3 = await startLocalS3(path.join(stateDir, 's3'));
    closers.push(() => s3.close());
    await ensureStateTable(dynamo.documents, STATE_TABLE);
    await s3.ensureBucket(STAGING_BUCKET);

    const cloudSuite = options.ionapiFile
      ? await realCloudSuite(options.ionapiFile)
      : await startLocalCloudSuite({ stateDir, ...options.emulator, ...(options.advanceDays ? { advanceDays: options.advanceDays } : {}) });
    closers.push(() => cloudSuite.close());
    if (options.databricks && flows.config.warehouse.loadMode === 'copy') {
      throw new ConfigError(
        'loadMode "copy" has a real warehouse read the staged files, but a local sync stages them in its own S3 emulator, ' +
          'which the warehouse cannot reach: run the local sync with loadMode "merge", or deploy (infra/README.md, "Loading with COPY INTO")',
      );
    }
    // The bundled warehouse reads the local staging bucket through an external location over runs/.
    const storage = { objects: s3ObjectStorage(s3.s3), externalLocations: [`s3://${STAGING_BUCKET}/runs`] };
    const warehouse = options.databricks ? realWarehouse(options.databricks, log) : await startLocalWarehouse(stateDir, log, storage);
    closers.push(() => warehouse.close());

    // The selected flows' tenants must be the one this run can reach.
    const secrets = new InMemorySecretSource();
    const tenants = Object.entries(flows.config.tenants);
    const matching = tenants.find(([id]) => id === cloudSuite.tenant);
    if (!matching) {
      throw new ConfigError(
        `${cloudSuite.description}: tenant "${cloudSuite.tenant}" is not configured; configured tenants: ${tenants.map(([id]) => id).join(', ')}`,
      );
    }
    secrets.set(matching[1].secretName, cloudSuite.ionapi);
    secrets.set(flows.config.warehouse.secretName, warehouse.secret);

    const stateTableName = STATE_TABLE;
    const documents = dynamo.documents;
    const tokenCache = new DynamoTokenCache({
      documents,
      stateTableName,
      encryptor: await LocalKeyEncryptor.fromKeyFile(path.join(stateDir, 'token-cache.key')),
      log,
    });
    // An emulator restarts with no memory of the tokens it issued: a cached one would only earn a 401.
    if (cloudSuite.emulator) {
      await documents.send(new DeleteCommand({ TableName: stateTableName, Key: { pk: tokenCachePk(cloudSuite.tenant), sk: 'token' } }));
    }
    const store = new S3BlobStore({ client: s3.s3, bucket: STAGING_BUCKET });
    const tenantsConnector = tenantConnector(secrets, tokenCache, log);
    const metrics = new RecordingPipelineMetrics();
    const deps: PipelineDeps = {
      ledger: new DynamoRunLedger({ documents, stateTableName }),
      watermarks: new DynamoWatermarkStore({ documents, stateTableName }),
      leases: (options.wrapLeases ?? ((leases) => leases))(new DynamoTableLease({ documents, stateTableName })),
      store,
      plans: new PlanStore(store),
      connectTenant: async (secretName) => budgeted(await tenantsConnector.connect(secretName), options.miCallsPerExtract),
      openWarehouse: warehouseOpener(secrets, warehouse.connect),
      loadTable: budgetedLoader(options.loadTable ?? loadTable, options.loadStatementsPerInvocation),
      metrics,
      log,
      now: Date.now,
    };
    return { deps, flows, executions: new InProcessExecutions(), cloudSuite, warehouse, metrics, aws: { s3: s3.s3, documents }, close };
  } catch (error) {
    await close();
    throw error;
  }
}

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

export function newExecutionName(prefix = 'local'): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${prefix}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** A Lambda-like context: the function's configured timeout counts down from the invocation's start. */
function contextFor(fn: PipelineFunctionName): InvocationContext {
  const endsAt = Date.now() + FUNCTION_SPECS[fn].timeout.toMilliseconds();
  return { getRemainingTimeInMillis: () => endsAt - Date.now() };
}

function describeOutcome(state: string, output: Record<string, unknown>): string | undefined {
  switch (state) {
    case StateNames.plan:
      return `plan: ${String(output.message)}`;
    case StateNames.extract:
      return output.status === 'continue'
        ? `  … ${String(output.unitId)}: ${String(output.records)} records so far, continuing (invocation ${String(output.invocation)})`
        : `  ✓ ${String(output.unitId)}: ${String(output.records)} records extracted`;
    case StateNames.recordExtractFailure:
    case StateNames.recordTableFailure:
      return `  ✗ failed: ${(output.failed as string[]).join(', ')}`;
    case StateNames.load: {
      if (output.status === 'continue') {
        return `  … ${String(output.table)}: ${String(output.records)} records staged so far, continuing (invocation ${String(output.invocation)})`;
      }
      const refused = (output.refused as string[] | undefined) ?? [];
      return `  ✓ ${String(output.table)}: ${String(output.records)} records loaded${refused.length ? `; refused (too many keys would vanish): ${refused.join(', ')}` : ''}`;
    }
    case StateNames.finish:
    case StateNames.finishStopped:
      return `run ${String(output.status)}: ${String(output.units)} unit(s), ${String(output.failed)} failed`;
    default:
      return undefined;
  }
}

export async function runLocalSync(options: LocalSyncOptions = {}): Promise<LocalSyncResult> {
  const started = performance.now();
  const session = await startLocalSync(options);
  try {
    return { ...(await session.execute(options)), durationMs: performance.now() - started };
  } finally {
    await session.close();
  }
}

/** Starts the services of a local sync; the caller runs executions on them and closes the session. */
export async function startLocalSync(options: LocalSyncOptions = {}): Promise<LocalSyncSession> {
  const stateDir = path.resolve(options.stateDir ?? '.cloudsuite-sync');
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = options.log ?? logger;
  if (options.reset) await rm(stateDir, { recursive: true, force: true });
  await mkdir(stateDir, { recursive: true });

  const env = await openEnvironment(options, stateDir, log);
  try {
    if (env.cloudSuite.emulator) await options.onCloudSuite?.(env.cloudSuite.emulator);
  } catch (error) {
    await env.close();
    throw error;
  }
  progress(`CloudSuite: ${env.cloudSuite.description}`);
  progress(`Databricks: ${env.warehouse.description}`);
  return {
    execute: (execution = {}) => executeLocally(env, execution, progress),
    deps: env.deps,
    ...(env.cloudSuite.emulator ? { cloudSuiteEmulator: env.cloudSuite.emulator } : {}),
    ...(env.warehouse.emulator ? { warehouseEmulator: env.warehouse.emulator } : {}),
    aws: env.aws,
    close: () => env.close(),
  };
}

async function executeLocally(env: LocalEnvironment, options: LocalExecutionOptions, progress: (line: string) => void): Promise<LocalSyncResult> {
  const started = performance.now();
  const { deps, flows } = env;
  const handlers: Record<PipelineFunctionName, (event: unknown, context?: InvocationContext) => Promise<unknown>> = {
    plan: createPlanHandler(() => ({ ...deps, flows, executions: env.executions })),
    extract: createExtractHandler(() => deps),
    recordFailure: createRecordFailureHandler(() => deps),
    groupByTable: createGroupByTableHandler(() => deps),
    load: createLoadHandler(() => deps),
    commit: createCommitHandler(() => deps),
    finishRun: createFinishRunHandler(() => deps),
  };
  const invocations: TaskInvocation[] = [];
  const taskHandlers: Record<string, TaskHandler> = {};
  for (const [state, fn] of Object.entries(TaskStates) as [string, PipelineFunctionName][]) {
    const invoke: TaskHandler = async (input) => {
      const at = performance.now();
      // Payloads cross a JSON boundary in Step Functions: so they do here.
      const event = JSON.parse(JSON.stringify(input)) as unknown;
      const run = () => handlers[fn](event, contextFor(fn));
      try {
        const output = fn === 'extract' ? await invocationBudget.run({ calls: 0 }, run) : await run();
        invocations.push({ state, fn, durationMs: performance.now() - at, failed: false });
        const line = describeOutcome(state, output as Record<string, unknown>);
        if (line) progress(line);
        return JSON.parse(JSON.stringify(output)) as unknown;
      } catch (error) {
        invocations.push({ state, fn, durationMs: performance.now() - at, failed: true });
        if (fn === 'extract' || fn === 'load' || fn === 'commit') {
          const what = (event as { unitId?: string; table?: string }).unitId ?? (event as { table?: string }).table;
          progress(`  ✗ ${state} ${what ?? ''}: ${(error as Error).name}: ${(error as Error).message.split('\n')[0]}`);
        }
        throw error;
      }
    };
    taskHandlers[state] = options.wrapTask ? options.wrapTask(state, invoke) : invoke;
  }

  const executionName = options.executionName ?? newExecutionName();
  const definition = synthesizeStateMachineDefinition(flows);
  const machine = new StateMachine(definition as never);
  const retryIntervalOverrides = Object.fromEntries(Object.keys(TaskStates).map((state) => [state, 0]));
  const events: LocalEvent[] = [];
  let status: LocalSyncResult['status'] = 'succeeded';
  let cause: string | undefined;
  let error: string | undefined;
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
      await execution.result;
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
    units,
    events,
    awsHistoryEvents: awsHistoryEventCount(events),
    invocations,
    durationMs: performance.now() - started,
    cloudSuite: env.cloudSuite.description,
    warehouse: env.warehouse.description,
    tables,
    howToQuery: env.warehouse.howToQuery(tables[0] ?? `${flows.config.warehouse.catalog}.${flows.config.warehouse.schema}.<table>`),
    metrics: env.metrics,
  };
}
