// Runs one chaos scenario (scenarioPlan.ts) on the real local sync: the synthesized state machine, the real
// handlers, dynalite, s3rver and both emulators, kept up for the whole scenario by one local sync session.
// Day by day it changes CloudSuite, arms the day's faults, runs the scheduled execution (and a racing
// duplicate or an overlapping run), lets the operator rerun, and checks the invariants after every
// execution. Then the faults stop, the latest failed executions are rerun, one clean scheduled run must
// succeed, and the warehouse must equal CloudSuite (convergence.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import defaultConfig from '../../infra/flows.config.ts';
import { startLocalSync, STATE_TABLE, type LocalSyncResult, type LocalSyncSession, type TaskHandler } from '../../infra/local/runLocalSync.ts';
import { DEFAULT_KNOBS, type ChangeSummary, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { INCREMENTAL_TABLES } from '#emulators/cloudsuite/changes.ts';
import type { WarehouseEmulator } from '#emulators/databricks/index.ts';
import { defaultCatalog } from '#shared/catalog/defaultCatalog.ts';
import { loadTable } from '#shared/load/loadTable.ts';
import { readManifest, readStagedRecords } from '#shared/staging/stagedUnitReader.ts';
import type { Log } from '#shared/observability/logger.ts';
import type { FlowsConfigInput } from '#shared/config/flowsConfig.ts';
import type { TableLoader } from '#shared/pipeline/pipelineDeps.ts';
import { DynamoWatermarkStore } from '#shared/state/dynamoWatermarkStore.ts';
import { keyOf } from '#shared/state/stateTable.ts';
import { AwsFaultInjector } from './awsFaults.ts';
import {
  checkConvergence,
  checkInvariants,
  KeyHistory,
  loadEvidenceKey,
  versionKey,
  type ConvergenceReport,
  type LoadedVersions,
  type LoadEvidence,
} from './convergence.ts';
import { NO_HIDDEN_CHANGES, type ExecutionPlan, type FaultSpec, type MidRunEvent, type ScenarioPlan } from './scenarioPlan.ts';
import { TaskFaultInjector } from './taskFaults.ts';
import { UnitRef } from '#shared/pipeline/unitRef.ts';
import type { RecordingPipelineMetrics } from '#shared/pipeline/pipelineMetrics.ts';

export const TENANT = 'ACME_PRD';
/** The flows of incremental entities (the ones a reconcile reads completely). */
const INCREMENTAL_FLOWS: ReadonlySet<string> = new Set(
  defaultConfig.flows.filter((flow) => defaultCatalog.get(flow.entity)?.strategy === 'incremental').map((flow) => flow.id),
);
/** At the end, the operator reruns this many of the latest failed executions (older ones are left to the clean run). */
const FINAL_RERUNS = 3;
const SCHEMA = 'main.cloudsuite';
const SCHEDULE = 'chaos-nightly';
const RECONCILE_SCHEDULE = 'chaos-weekly-reconcile';
/** Clean reruns of a failed reconcile after its planned follow-ups, before the scenario counts as not converged. */
const RECONCILE_CLEAN_RERUNS = 3;

export interface ExecutionRecord {
  day: number;
  name: string;
  kind: ExecutionPlan['kind'] | 'duplicate' | 'overlapping' | 'final-rerun' | 'final' | 'reconcile-rerun';
  rerunOf?: string;
  status: LocalSyncResult['status'];
  error?: string;
  /** The first 240 characters of the failure's cause. */
  cause?: string;
  failedUnits: number;
  /** The failed units' error names, counted. */
  unitErrors: Record<string, number>;
  /** Labels of the faults armed for it (gateway, AWS and warehouse faults hit any execution running then). */
  faults: string[];
  /** Task faults, AWS faults and mid-run events that fired during it. */
  fired: string[];
  durationMs: number;
}

export interface ScenarioOutcome {
  seed: number;
  plan: ScenarioPlan;
  converged: boolean;
  /** 'converged', or why not. */
  verdict: string;
  report: ConvergenceReport;
  executions: ExecutionRecord[];
  /** Fault and event labels → times armed or triggered. */
  injected: Record<string, number>;
  /** Faults that demonstrably fired. */
  fired: { gateway: number; rateLimited: number; unauthorized: number; aws: number; task: number; midRun: number };
  durationMs: number;
  stateDir: string;
  /** AWS SDK attempts per "service command" over the scenario. */
  attempts: Record<string, number>;
  /** Time spent checking invariants between executions. */
  checkMs: number;
  /** What no LMDT window showed (emulator knobs and explicit changes, incremental tables), and what the reconcile repaired. */
  hidden: HiddenTally;
}

export interface HiddenTally {
  /** Rows of incremental tables M3 changed without a new change stamp, and rows it deleted. */
  silentlyChanged: number;
  deleted: number;
  /** The reconcile's data-quality figures (metrics ChangedWithoutNewStamp and KeysDeletedAtSource). */
  repairedSilentChanges: number;
  softDeletedKeys: number;
}

export interface RunScenarioOptions {
  /** A line per execution (default: none). */
  progress?: (line: string) => void;
  /** Keep the state folder even when the scenario converged. */
  keepStateDir?: boolean;
  /** Check the invariants after every execution, not only at the end (default true). */
  checkEveryExecution?: boolean;
}

/** The pipeline logs retries and failures at length; a scenario provokes thousands of them. */
export const silentLog: Log = (() => {
  const noop = () => undefined;
  const log = { debug: noop, info: noop, warn: noop, error: noop, appendKeys: noop, createChild: () => log };
  return log as unknown as Log;
})();

export function chaosConfig(plan: ScenarioPlan): FlowsConfigInput {
  const config = structuredClone(defaultConfig) as FlowsConfigInput;
  config.maxConcurrency = plan.maxConcurrency;
  config.warehouse = { ...config.warehouse, loadMode: plan.loadMode ?? 'merge' };
  config.flows = config.flows.map((flow) => ({
    ...flow,
    companies: [...plan.companies],
    overlapDays: plan.overlapDays,
    // Tiny tenants lose more than 5 % of a snapshot's keys in a day, and a reconcile after days of deletes 5–40 % of
    // a table's: the guard has its own tests (README.md, "The vanished-keys guard").
    maxVanishedShare: 1,
  }));
  config.extraEntities = [...defaultCatalog.values()].map((entity) => ({ ...entity, pageSize: plan.pageSize }));
  return config;
}

function scheduledTime(day: number): string {
  return new Date(Date.UTC(2026, 10, 21 + day, 1, 0, 0)).toISOString().replace('.000Z', 'Z');
}

interface MidRun {
  base: number;
  events: MidRunEvent[];
  fired: string[];
}

/** One scenario's session: its executions, faults, evidence and checks (runScenario drives it). */
export class ScenarioRun {
  readonly executions: ExecutionRecord[] = [];
  readonly injected: Record<string, number> = {};
  readonly evidence: LoadEvidence = new Map();
  readonly versions: LoadedVersions = new Set();
  readonly invariantProblems: string[] = [];
  readonly fired = { task: 0, midRun: 0 };
  readonly hidden: HiddenTally = { silentlyChanged: 0, deleted: 0, repairedSilentChanges: 0, softDeletedKeys: 0 };
  private midRun: MidRun | undefined;
  private sequence = 0;
  private readonly flows: string[];
  session!: LocalSyncSession;
  emulator!: CloudSuiteEmulator;
  warehouse!: WarehouseEmulator;
  aws!: AwsFaultInjector;
  /** The SDK clients of dynalite and s3rver behind the session's state and staging. */
  awsClients!: NonNullable<LocalSyncSession['aws']>;
  keys!: KeyHistory;

  constructor(readonly plan: ScenarioPlan, readonly options: RunScenarioOptions) {
    this.flows = chaosConfig(plan).flows.map((f) => f.id);
  }

  /**
   * The real loader, remembering what each completed load committed: the largest stamp per unit and run
   * (for the watermark check) and every record version it delivered (each must be in history once).
   */
  readonly loader: TableLoader = async (request) => {
    const result = await loadTable(request);
    if (result.status !== 'loaded') return result;
    for (const unit of result.units) {
      // A split backfill's sub-units (…/~n) are parts of their scope: the evidence is the scope's.
      const { company, division } = UnitRef.parse(unit.unitId);
      const key = loadEvidenceKey(request.entity.id, company, division, request.runId);
      // '' for a unit that staged no stamp (an empty snapshot unit): loaded, with nothing to compare.
      const stamp = unit.maxChangeStamp ?? '';
      if (!this.evidence.has(key) || this.evidence.get(key)! < stamp) this.evidence.set(key, stamp);
    }
    for (const unit of request.units) {
      const manifest = await readManifest(request.store, unit.unitPrefix);
      for await (const record of readStagedRecords(request.store, unit.unitPrefix, manifest)) {
        this.versions.add(versionKey(request.entity.id, record._tenant, record._record_key, record._record_hash));
      }
    }
    return result;
  };

  async start(stateDir: string): Promise<void> {
    this.session = await startLocalSync(
      { stateDir, config: chaosConfig(this.plan), progress: () => undefined, log: silentLog },
      {
        emulator: { seed: this.plan.seed, volume: this.plan.volume },
        ...(this.plan.miCallsPerExtract ? { miCallsPerExtract: this.plan.miCallsPerExtract } : {}),
        ...(this.plan.loadStatementsPerInvocation ? { loadStatementsPerInvocation: this.plan.loadStatementsPerInvocation } : {}),
        loadTable: this.loader,
      },
    );
    this.emulator = this.session.cloudSuiteEmulator!;
    this.warehouse = this.session.warehouseEmulator!;
    if (!this.session.aws) throw new Error('chaos runs on the local sync\'s emulator path (dynalite and s3rver): their SDK clients carry the faults');
    this.awsClients = this.session.aws;
    this.aws = new AwsFaultInjector(this.awsClients);
    this.keys = new KeyHistory(this.emulator, this.plan.companies);
    this.emulator.onBeforeMiCall = ({ callIndex }) => this.onMiCall(callIndex);
  }

  private onMiCall(callIndex: number): void {
    const run = this.midRun;
    while (run && run.events.length > 0 && callIndex - run.base >= run.events[0]!.afterCalls) {
      const event = run.events.shift()!;
      run.fired.push(event.label);
      this.fired.midRun += 1;
      if (event.action === 'mutate') {
        this.changed(this.emulator.mutate(event.plan));
      } else if (event.action === 'next-day') {
        this.changed(this.emulator.clock.advanceDays(1));
      } else if (event.action === 'expire-tokens') this.emulator.expireAccessTokens();
      else this.emulator.revokeAllTokens();
    }
  }

  /** After CloudSuite changed: remember its keys, count what no LMDT window shows. */
  changed(summary: ChangeSummary): void {
    this.keys.observe();
    for (const table of INCREMENTAL_TABLES) {
      this.hidden.silentlyChanged += summary.byTable[table]?.silentlyChanged ?? 0;
      this.hidden.deleted += summary.byTable[table]?.deleted ?? 0;
    }
  }

  private count(label: string): void {
    this.injected[label] = (this.injected[label] ?? 0) + 1;
  }

  private arm(faults: readonly FaultSpec[]): TaskFaultInjector {
    for (const fault of faults) {
      this.count(fault.label);
      if (fault.where === 'gateway') this.emulator.injectFault(fault.rule);
      else if (fault.where === 'knobs') {
        Object.assign(this.emulator.knobs, structuredClone(fault.knobs));
        // Tokens issued before keep their lifetime: expire them so the short-lived ones are used.
        if (fault.knobs.tokenLifetimeSeconds !== undefined) this.emulator.expireAccessTokens();
      }
      else if (fault.where === 'aws') this.aws.arm(fault.aws);
      else if (fault.where === 'warehouse') {
        const { matchSql, ...rest } = fault.warehouse;
        this.warehouse.injectFault({ ...rest, ...(matchSql ? { matchSql: new RegExp(matchSql) } : {}) });
      }
    }
    return new TaskFaultInjector(faults.flatMap((f) => (f.where === 'task' ? [f.task] : [])));
  }

  private disarm(): void {
    this.emulator.clearFaults();
    Object.assign(this.emulator.knobs, {
      rateLimit: null,
      tokenLifetimeSeconds: DEFAULT_KNOBS.tokenLifetimeSeconds,
      issueRefreshTokens: DEFAULT_KNOBS.issueRefreshTokens,
      maxrecsCap: null,
    });
    this.warehouse.clearFaults();
    this.aws.clear();
    this.midRun = undefined;
  }

  /**
   * A table lease left behind by an execution that has ended (its release failed, or the answer to its
   * acquire was lost) expires after its 2-minute wall-clock ttl; the next execution of a real deployment
   * starts later than that. Local executions follow each other within milliseconds, so the harness
   * lets that time pass for leases before each start (none is held by a running execution then).
   */
  private async expireLeftoverLeases(): Promise<void> {
    for (const entity of defaultCatalog.keys()) {
      await this.awsClients.documents
        .send(
          new UpdateCommand({
            TableName: STATE_TABLE,
            Key: { pk: keyOf('lease', `${SCHEMA}.${entity}`), sk: 'lease' },
            UpdateExpression: 'SET #expiresAt = :past',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#expiresAt': 'expiresAt' },
            ExpressionAttributeValues: { ':past': Date.now() - 1 },
          }),
        )
        .catch(() => undefined);
    }
  }

  private name(day: number, kind: string): string {
    this.sequence += 1;
    return `chaos-${this.plan.seed}-d${day}-${this.sequence}-${kind}`.slice(0, 80);
  }

  private record(day: number, kind: ExecutionRecord['kind'], result: LocalSyncResult, faults: readonly FaultSpec[], fired: string[], rerunOf?: string): ExecutionRecord {
    const record: ExecutionRecord = {
      day,
      name: result.executionName,
      kind,
      ...(rerunOf ? { rerunOf } : {}),
      status: result.status,
      ...(result.error ? { error: result.error } : {}),
      ...(result.cause ? { cause: result.cause.slice(0, 240) } : {}),
      failedUnits: result.units.filter((u) => u.status === 'failed').length,
      unitErrors: result.units.reduce<Record<string, number>>((counts, u) => {
        if (u.status === 'failed') counts[u.error?.name ?? '?'] = (counts[u.error?.name ?? '?'] ?? 0) + 1;
        return counts;
      }, {}),
      faults: faults.map((f) => f.label),
      fired,
      durationMs: Math.round(result.durationMs),
    };
    this.executions.push(record);
    this.options.progress?.(
      `  day ${day} ${kind}${rerunOf ? ` of ${rerunOf}` : ''}${kind === 'operator' ? ` ${JSON.stringify(result.plan?.mode ?? '')} ${result.plan?.units.length ?? 0} units` : ''}: ${result.status}${result.error ? ` (${result.error})` : ''}` +
        `${record.failedUnits ? ` units ${JSON.stringify(record.unitErrors)}` : ''}` +
        `${faults.length ? ` faults [${faults.map((f) => f.label).join(', ')}]` : ''}${fired.length ? ` fired [${fired.join(', ')}]` : ''}`,
    );
    return record;
  }

  /** The latest failed execution that planned (so it can be rerun), if any. */
  private lastFailed(): ExecutionRecord | undefined {
    return [...this.executions].reverse().find((e) => e.status === 'failed' && e.kind !== 'duplicate' && this.planned.has(e.name));
  }

  /** Executions that wrote a plan (the ones a rerunOf can name). */
  readonly planned = new Set<string>();

  async execute(day: number, plan: ExecutionPlan, final?: 'final' | 'final-rerun' | 'reconcile-rerun', rerunTarget?: string): Promise<ExecutionRecord> {
    await this.expireLeftoverLeases();
    let kind: ExecutionRecord['kind'] = final ?? plan.kind;
    let input: Record<string, unknown>;
    let rerunOf: string | undefined = rerunTarget;
    if (plan.kind === 'rerun-of-failed' && !final) {
      rerunOf = this.lastFailed()?.name;
      if (!rerunOf) kind = 'plain';
    }
    if (rerunOf) input = { rerunOf };
    else if (plan.kind === 'operator') input = { ...plan.input };
    else if (plan.kind === 'schedule') input = { trigger: 'schedule', schedule: SCHEDULE, scheduledTime: scheduledTime(final ? 1000 : day), flows: this.flows };
    else if (plan.kind === 'reconcile') input = { trigger: 'schedule', schedule: RECONCILE_SCHEDULE, scheduledTime: scheduledTime(1001), flows: this.flows, mode: 'reconcile' };
    else input = {};

    const tasks = this.arm(plan.faults);
    const awsFired = this.aws.fired.length;
    const gatewayFired = this.emulator.counters.faultsInjected;
    const rateLimited = this.emulator.counters.rateLimited;
    const midRun: MidRun = { base: this.emulator.counters.miCalls, events: [...plan.midRun].sort((a, b) => a.afterCalls - b.afterCalls), fired: [] };
    this.midRun = midRun;
    for (const event of plan.midRun) this.count(event.label);

    // The session's metrics (a local sync records them): what a reconcile repaired is read from its own points.
    const metricsBefore = (this.session.deps.metrics as RecordingPipelineMetrics).points.length;
    const wrap = (state: string, handler: TaskHandler) => tasks.wrap(state, handler);
    const main = this.session.execute({ input, executionName: this.name(day, kind) }, { wrapTask: wrap });
    const racing: Promise<[ExecutionRecord['kind'], LocalSyncResult]>[] = [];
    if (plan.duplicateStart && (input.trigger === 'schedule' || rerunOf)) {
      // The same scheduled start delivered twice, or an operator starting the same rerun twice.
      this.count(rerunOf ? 'duplicate-rerun' : 'duplicate-schedule-start');
      racing.push(this.session.execute({ input, executionName: this.name(day, 'duplicate') }, { wrapTask: new TaskFaultInjector([]).wrap }).then((r) => ['duplicate', r]));
    }
    if (plan.overlappingRun) {
      this.count('overlapping-run');
      racing.push(this.session.execute({ input: {}, executionName: this.name(day, 'overlapping') }, { wrapTask: new TaskFaultInjector([]).wrap }).then((r) => ['overlapping', r]));
    }
    const [result, ...others] = await Promise.all([main, ...racing]);
    this.disarm();
    if (kind === 'reconcile' || kind === 'reconcile-rerun') {
      for (const point of result.metrics.points.slice(metricsBefore)) {
        if (point.name === 'ChangedWithoutNewStamp') this.hidden.repairedSilentChanges += point.value;
        if (point.name === 'KeysDeletedAtSource' && INCREMENTAL_FLOWS.has(point.flow ?? '')) this.hidden.softDeletedKeys += point.value;
      }
    }

    const gateway = this.emulator.counters.faultsInjected - gatewayFired;
    const limited = this.emulator.counters.rateLimited - rateLimited;
    const fired = [
      ...(gateway ? [`gateway faults ×${gateway}`] : []),
      ...(limited ? [`rate-limited ×${limited}`] : []),
      ...tasks.fired,
      ...this.aws.fired.slice(awsFired),
      ...midRun.fired,
    ];
    this.fired.task += tasks.fired.length;
    if (result.plan) this.planned.add(result.executionName);
    const record = this.record(day, kind, result, plan.faults, fired, rerunOf);
    for (const [otherKind, other] of others) {
      if (other.plan) this.planned.add(other.executionName);
      // A reconcile (or its rerun) started twice is two reconcile executions: either may be the one that claimed the
      // units, so a failure of the duplicate is the reconcile's failure, and what the next rerun replays.
      const reconciling = otherKind === 'duplicate' && (kind === 'reconcile' || kind === 'reconcile-rerun');
      this.record(day, reconciling ? 'reconcile-rerun' : otherKind, other, [], [], reconciling ? rerunOf : undefined);
      // The duplicate-start guard: of two deliveries of one scheduled start, one plans and one does nothing.
      if (otherKind === 'duplicate' && !rerunOf && result.plan && other.plan) {
        this.invariantProblems.push(`${result.executionName} and ${other.executionName}: both executions of one scheduled start planned and ran`);
      }
    }
    if (this.options.checkEveryExecution !== false) await this.checkInvariantsNow(`after ${record.name}`);
    for (const change of plan.changesAfter) this.changed(this.emulator.mutate(change));
    return record;
  }

  /**
   * The scheduled reconcile after the final runs, then while it has failed: its follow-ups (rerunOf under faults),
   * then clean reruns. A reconcile that failed before it planned is started again (from the console: the
   * scheduled start was taken). The latest reconcile execution is what the scenario's verdict reads.
   */
  async reconcile(day: number): Promise<ExecutionRecord> {
    let latest = await this.attemptReconcile(() => this.execute(day, this.plan.reconcile.run));
    const attempts = [...this.plan.reconcile.followUps, ...Array.from({ length: RECONCILE_CLEAN_RERUNS }, () => ({ ...CLEAN, kind: 'rerun-of-failed' as const }))];
    for (const attempt of attempts) {
      if (latest.status === 'succeeded') break;
      const target = this.lastFailedReconcile();
      latest = await this.attemptReconcile(() =>
        target
          ? this.execute(day, attempt, 'reconcile-rerun', target.name)
          : this.execute(day, { ...attempt, kind: 'operator', input: { mode: 'reconcile' } }, 'reconcile-rerun'),
      );
    }
    return latest;
  }

  /** One reconcile attempt: failed if any of its executions (a duplicate start included) failed. */
  private async attemptReconcile(start: () => Promise<ExecutionRecord>): Promise<ExecutionRecord> {
    const before = this.executions.length;
    const main = await start();
    const failed = this.executions.slice(before).find((e) => (e.kind === 'reconcile' || e.kind === 'reconcile-rerun') && e.status === 'failed');
    return failed ?? main;
  }

  /** The latest failed reconcile execution that planned (what a rerunOf can replay). */
  private lastFailedReconcile(): ExecutionRecord | undefined {
    return [...this.executions].reverse().find((e) => (e.kind === 'reconcile' || e.kind === 'reconcile-rerun') && e.status === 'failed' && this.planned.has(e.name));
  }

  private async watermarks() {
    return new DynamoWatermarkStore({ documents: this.awsClients.documents, stateTableName: STATE_TABLE }).list(TENANT);
  }

  checkMs = 0;

  async checkInvariantsNow(when: string): Promise<void> {
    const at = performance.now();
    const findings = await checkInvariants({
      warehouse: this.warehouse,
      tenant: TENANT,
      watermarks: await this.watermarks(),
      evidence: this.evidence,
      schema: SCHEMA,
    });
    for (const problem of findings.problems) this.invariantProblems.push(`${when}: ${problem}`);
    this.checkMs += performance.now() - at;
  }

  /** The convergence check; `reconciled`: a reconcile ran after CloudSuite's last change (incremental deletes must show). */
  async converge(options: { reconciled?: boolean } = {}): Promise<ConvergenceReport> {
    return checkConvergence({
      reconciled: options.reconciled ?? false,
      warehouse: this.warehouse,
      tenant: TENANT,
      watermarks: await this.watermarks(),
      evidence: this.evidence,
      schema: SCHEMA,
      emulator: this.emulator,
      companies: this.plan.companies,
      keys: this.keys,
      versions: this.versions,
    });
  }
}

/** An execution without faults, changes or racing starts: the scheduled run after the faults stopped. */
export const CLEAN: ExecutionPlan = { kind: 'schedule', onlyIfFailed: false, faults: [], midRun: [], duplicateStart: false, overlappingRun: false, changesAfter: [] };

export async function runScenario(plan: ScenarioPlan, options: RunScenarioOptions = {}): Promise<ScenarioOutcome> {
  const started = performance.now();
  const stateDir = await mkdtemp(path.join(tmpdir(), `chaos-${plan.seed}-`));
  const run = new ScenarioRun(plan, options);
  let verdict = 'converged';
  let report: ConvergenceReport = { lostRecords: 0, duplicatedRows: 0, otherProblems: 0, problems: [], checked: { rows: 0, watermarks: 0, deletedKeys: 0 } };
  let gateway = { faultsInjected: 0, rateLimited: 0, unauthorized: 0 };
  try {
    await run.start(stateDir);
    for (const day of plan.days) {
      Object.assign(run.emulator.knobs, day.hidden);
      if (day.advanceDays > 0) run.changed(run.emulator.clock.advanceDays(day.advanceDays));
      for (const change of day.changesBefore) run.changed(run.emulator.mutate(change));
      let latest: ExecutionRecord | undefined;
      for (const execution of day.executions) {
        if (execution.onlyIfFailed && latest?.status !== 'failed') continue;
        latest = await run.execute(day.day, execution);
      }
    }

    // The faults stop. The latest failed executions are rerun, then one clean scheduled run must succeed.
    const lastDay = plan.days.length;
    if (plan.rerunFailedAtEnd) {
      const failed = run.executions.filter((e) => e.status === 'failed' && run.planned.has(e.name)).slice(-FINAL_RERUNS);
      for (const execution of failed) await run.execute(lastDay, { ...CLEAN, kind: 'rerun-of-failed' }, 'final-rerun', execution.name);
    }
    const final = await run.execute(lastDay, CLEAN, 'final');
    // Nothing changes in CloudSuite any more: the reconcile (with its reruns) must bring every table to the truth,
    // deleted keys soft-deleted and silently changed rows current.
    Object.assign(run.emulator.knobs, NO_HIDDEN_CHANGES);
    const reconcile = final.status === 'succeeded' ? await run.reconcile(lastDay) : undefined;
    report = await run.converge({ reconciled: reconcile?.status === 'succeeded' });
    const { counters } = run.emulator;
    gateway = { faultsInjected: counters.faultsInjected, rateLimited: counters.rateLimited, unauthorized: counters.unauthorized };

    const during = [...new Set(run.invariantProblems)];
    if (during.length > 0) {
      report.otherProblems += during.length;
      report.problems = [...during.slice(0, 10), ...report.problems];
    }
    if (final.status !== 'succeeded') verdict = `the final clean run failed: ${final.error ?? ''} ${final.cause ?? ''}`.trim();
    else if (reconcile?.status !== 'succeeded') verdict = `the reconcile failed after ${RECONCILE_CLEAN_RERUNS} clean reruns: ${reconcile?.error ?? ''} ${reconcile?.cause ?? ''}`.trim();
    else if (report.lostRecords + report.duplicatedRows + report.otherProblems > 0) {
      verdict = `not converged: ${report.lostRecords} lost, ${report.duplicatedRows} duplicated, ${report.otherProblems} other problems`;
    }
  } catch (error) {
    verdict = `the harness failed: ${(error as Error).stack ?? String(error)}`;
  } finally {
    await run.session?.close().catch(() => undefined);
  }
  const converged = verdict === 'converged';
  if (converged && !options.keepStateDir) await rm(stateDir, { recursive: true, force: true }).catch(() => undefined);
  return {
    seed: plan.seed,
    plan,
    converged,
    verdict,
    report,
    executions: run.executions,
    injected: run.injected,
    fired: {
      gateway: gateway.faultsInjected,
      rateLimited: gateway.rateLimited,
      unauthorized: gateway.unauthorized,
      aws: run.aws?.fired.length ?? 0,
      task: run.fired.task,
      midRun: run.fired.midRun,
    },
    durationMs: performance.now() - started,
    stateDir,
    attempts: Object.fromEntries(run.aws?.attempts ?? []),
    checkMs: Math.round(run.checkMs),
    hidden: run.hidden,
  };
}
