// The main job on a laptop: the REAL state machine (synthesized from the CDK app) run by aws-local-stepfunctions
// with the real Lambda handlers in process, CloudSuite and Databricks from the bundled emulators or a real
// tenant and warehouse, secrets in memory. All state lives in the state folder, so the next run is
// incremental; `reset` starts over. `startLocalSync` keeps the services up for several executions, which
// may run at the same time (e.g. a schedule and a rerun racing for a table).
// The parts: the services (localEnvironment.ts, with the state in localState.ts and the sources in
// localSources.ts), one execution (localExecution.ts) and the progress text (syncProgress.ts). Tests reach
// in through LocalSyncTestHooks only, passed apart from what a user chooses.
import type { RefreshMartsResult } from '../../shared/pipeline/refreshMarts.ts';
import path from 'node:path';
import type { Log } from '../../shared/observability/logger.ts';
import { logger } from '../../shared/observability/logger.ts';
import type { RunMode } from '../../shared/pipeline/executionInput.ts';
import type { PipelineDeps, TableLoader } from '../../shared/pipeline/pipelineDeps.ts';
import type { RecordingPipelineMetrics } from '../../shared/pipeline/pipelineMetrics.ts';
import type { RunPlan } from '../../shared/pipeline/runPlan.ts';
import type { RunRecord, UnitRecord } from '../../shared/state/runLedger.ts';
import type { TableLease } from '../../shared/state/tableLease.ts';
import type { PipelineFunctionName } from '../stack/stateNames.ts';
import type { CloudSuiteEmulator, Knobs, Volume } from './emulators/cloudsuite/index.ts';
import type { WarehouseEmulator } from './emulators/databricks/index.ts';
import type { LocalEvent } from './historyEvents.ts';
import { openLocalEnvironment, type LocalEnvironment } from './localEnvironment.ts';
import { executeLocally } from './localExecution.ts';
import type { DatabricksTarget } from './localSources.ts';
import { resetStateFolder } from './stateFolder.ts';
import { describeSources } from './syncProgress.ts';

export { newExecutionName } from './localExecution.ts';
export { STAGING_BUCKET, STATE_TABLE } from './localState.ts';

export type TaskHandler = (input: unknown) => Promise<unknown>;

/** What a user chooses (the CLI's `sync` options). */
export interface LocalSyncOptions {
  /** Default .cloudsuite-sync */
  stateDir?: string;
  /** Delete the state folder first (only one this tool created, or an empty one): the next run reads everything again. */
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
  /** Knobs of the bundled CloudSuite emulator for this run, e.g. tables lacking fields (see its README). */
  emulatorKnobs?: Partial<Knobs>;
  /** A real tenant instead of the bundled emulator. */
  ionapiFile?: string;
  /** A real Databricks SQL warehouse instead of the bundled emulator. */
  databricks?: DatabricksTarget;
  /** The execution's name (default local-<time>-<random>). */
  executionName?: string;
  /** A progress line per unit and table (default: stderr). */
  progress?: (line: string) => void;
  log?: Log;
}

/** Seams for tests, passed apart from the user's options. */
export interface LocalSyncTestHooks {
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
  /** Wraps a Task state's handler (e.g. to make one unit fail); a session's default for its executions. */
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
  /** The execution's output when it succeeded (FinishRun's answer, as Step Functions shows it). */
  output?: unknown;
  /** What the RefreshMarts step answered (absent when the execution did not reach it). */
  marts?: RefreshMartsResult;
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
  /** How to run a statement against the warehouse (the closing lines' example query over the marts). */
  howToRun: (sql: string) => string;
  tables: string[];
  /** Metric points published so far (shared by the executions of one session). */
  metrics: RecordingPipelineMetrics;
}

/** What belongs to one execution; the rest of LocalSyncOptions belongs to the session's services. */
export type LocalExecutionOptions = Pick<
  LocalSyncOptions,
  'flows' | 'companies' | 'divisions' | 'since' | 'until' | 'mode' | 'rerunOf' | 'input' | 'executionName'
>;

/** Started services (state, secrets, CloudSuite, warehouse) on which executions run. */
export interface LocalSyncSession {
  /** Runs one execution of the state machine to its end; several may run at once on one session. */
  execute(options?: LocalExecutionOptions, hooks?: Pick<LocalSyncTestHooks, 'wrapTask'>): Promise<LocalSyncResult>;
  /** The handlers' collaborators on these services (watermarks, ledger, leases, …), to look at state. */
  deps: PipelineDeps;
  /** The bundled emulators, when in use. */
  cloudSuiteEmulator?: CloudSuiteEmulator;
  warehouseEmulator?: WarehouseEmulator;
  /** The SDK clients behind the ledger, watermarks, leases and staging store: on the emulator path only (chaos tests add fault middleware). */
  aws?: LocalEnvironment['aws'];
  close(): Promise<void>;
}

export async function runLocalSync(options: LocalSyncOptions = {}, hooks: LocalSyncTestHooks = {}): Promise<LocalSyncResult> {
  const started = performance.now();
  const session = await startLocalSync(options, hooks);
  try {
    return { ...(await session.execute(options)), durationMs: performance.now() - started };
  } finally {
    await session.close();
  }
}

/** Starts the services of a local sync; the caller runs executions on them and closes the session. */
export async function startLocalSync(options: LocalSyncOptions = {}, hooks: LocalSyncTestHooks = {}): Promise<LocalSyncSession> {
  const stateDir = path.resolve(options.stateDir ?? '.cloudsuite-sync');
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = options.log ?? logger;
  // The folder is created (and marked as the tool's) once the configuration and real systems are validated.
  if (options.reset) await resetStateFolder(stateDir);

  const env = await openLocalEnvironment(options, hooks, stateDir, log);
  try {
    if (env.cloudSuite.emulator) await hooks.onCloudSuite?.(env.cloudSuite.emulator);
  } catch (error) {
    await env.close();
    throw error;
  }
  for (const line of describeSources(env.cloudSuite, env.warehouse)) progress(line);
  return {
    execute: (execution = {}, executionHooks = {}) => executeLocally(env, execution, { wrapTask: executionHooks.wrapTask ?? hooks.wrapTask }, progress),
    deps: env.deps,
    ...(env.cloudSuite.emulator ? { cloudSuiteEmulator: env.cloudSuite.emulator } : {}),
    ...(env.warehouse.emulator ? { warehouseEmulator: env.warehouse.emulator } : {}),
    ...(env.aws ? { aws: env.aws } : {}),
    close: () => env.close(),
  };
}
