// `npm run bench:pipeline`: what one incremental day of a mid-market tenant costs on AWS, measured on the
// real state machine run locally (infra/local/runLocalSync.ts): Lambda invocations and the wall-clock
// duration of each handler invocation, GB-seconds at each function's configured memory, Step Functions
// state transitions from the execution's event log, and the bill at list prices. CloudSuite is the
// bundled emulator with a per-call latency; Databricks is the warehouse emulator (DuckDB in process),
// whose statement latency is NOT a real warehouse's: see the sensitivity line it prints. The same day runs
// twice from one copied starting state: as deployed (Map concurrency 10, handlers share the local cores)
// and one handler at a time (closer to Lambda, where each invocation has its own CPU).
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startLocalSync, type LocalSyncResult } from '../infra/local/runLocalSync.ts';
import defaultFlowsConfig from '../infra/flows.config.ts';
import { FUNCTION_SPECS } from '../infra/stack/pipelineFunctions.ts';
import type { PipelineFunctionName } from '../infra/stack/stateNames.ts';
import { logger, routeLogsToStderr } from '../shared/observability/logger.ts';
import type { Volume } from '../infra/local/emulators/cloudsuite/index.ts';
import { machineLine } from './machine.ts';

/** AWS list prices, us-east-1 (the figures infra/README.md uses); the free tier is left out. */
export const PRICES = {
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  stepFunctionsStandardPerThousandTransitions: 0.025,
} as const;

export interface PipelineBenchOptions {
  seed: number;
  /** Emulated tenant size per company (3 companies, the default flows). */
  volume: Partial<Volume>;
  /** Emulator days of changes the measured incremental run picks up. */
  daysOfChanges: number;
  /** Added to every MI call of the measured run (ION API gateway + M3). */
  latencyMs: number;
}

/**
 * A mid-market tenant: ≈160k rows over the nine tables in 3 companies, 1,500 suppliers, 300 accounts per
 * division. The emulator changes ≈1.9% of the rows a day (≈3,100 records here), so the measured run picks
 * up 7 days of changes: ≈20k changed records, the day of a tenant about 7 times this size.
 */
export const MID_MARKET_DAY: PipelineBenchOptions = {
  seed: 1,
  volume: { suppliers: 1500, glAccountsPerDivision: 300, agreements: 300, purchaseOrders: 2400, invoices: 3200, glTransactions: 12000 },
  daysOfChanges: 7,
  latencyMs: 150,
};

export interface FunctionUsage {
  fn: PipelineFunctionName;
  memoryMb: number;
  invocations: number;
  seconds: number;
  p50Ms: number;
  maxMs: number;
  gbSeconds: number;
}

export interface DayRun {
  /** The Map states' maxConcurrency the run used. */
  concurrency: number;
  status: LocalSyncResult['status'];
  units: number;
  tables: number;
  continuations: number;
  recordsExtracted: number;
  /** Of which full re-reads of snapshot entities. */
  snapshotRecords: number;
  miCalls: number;
  statements: number;
  /** Sum of the warehouse emulator's per-statement times. */
  statementSeconds: number;
  wallSeconds: number;
  functions: FunctionUsage[];
  requests: number;
  gbSeconds: number;
  /** StateEntered + StateRetried events: what a Standard workflow bills. */
  transitions: number;
  cost: { lambdaCompute: number; lambdaRequests: number; stepFunctions: number; total: number };
}

export interface PipelineMeasurement {
  options: PipelineBenchOptions;
  setup: { records: number; seconds: number };
  tenantRows: number;
  changedRecords: number;
  /** Of which in the tables of incremental entities (the rest are master data, re-read in full anyway). */
  changedIncremental: number;
  /** os.loadavg() when the measured runs started: other work on the machine inflates durations. */
  loadAverage: number[];
  /** The same day measured as deployed (Map concurrency from flows.config.ts) and one handler at a time. */
  runs: DayRun[];
}

const SNAPSHOT_TABLES = ['CIDMAS', 'FCHACC', 'MPAGRH'];
const INCREMENTAL_TABLES = ['MPHEAD', 'MPLINE', 'FAPIBH', 'FAPIBL', 'FPLEDG', 'FGLEDG'];

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const extracted = (result: LocalSyncResult) => result.units.reduce((n, u) => n + (u.recordsExtracted ?? 0), 0);

function usageOf(day: LocalSyncResult, concurrency: number, counts: Pick<DayRun, 'miCalls' | 'statements' | 'statementSeconds' | 'wallSeconds'>): DayRun {
  const functions: FunctionUsage[] = (Object.keys(FUNCTION_SPECS) as PipelineFunctionName[]).map((fn) => {
    const durations = day.invocations.filter((i) => i.fn === fn).map((i) => i.durationMs).sort((a, b) => a - b);
    const memoryMb = FUNCTION_SPECS[fn].memorySize;
    // Lambda bills each invocation's duration rounded up to the millisecond.
    const seconds = durations.reduce((sum, ms) => sum + Math.ceil(ms), 0) / 1000;
    return { fn, memoryMb, invocations: durations.length, seconds, p50Ms: percentile(durations, 0.5), maxMs: durations.at(-1) ?? 0, gbSeconds: seconds * (memoryMb / 1024) };
  });
  const requests = functions.reduce((n, f) => n + f.invocations, 0);
  const gbSeconds = functions.reduce((n, f) => n + f.gbSeconds, 0);
  const transitions = day.events.filter((e) => e.type === 'StateEntered' || e.type === 'StateRetried').length;
  const lambdaCompute = gbSeconds * PRICES.lambdaArmPerGbSecond;
  const lambdaRequests = (requests / 1e6) * PRICES.lambdaPerMillionRequests;
  const stepFunctions = (transitions / 1000) * PRICES.stepFunctionsStandardPerThousandTransitions;
  const snapshot = new Set(Object.values(day.plan!.entities).filter((e) => e.strategy === 'snapshot').map((e) => e.id));
  return {
    concurrency,
    status: day.status,
    units: day.units.length,
    tables: day.tables.length,
    continuations: day.invocations.filter((i) => i.fn === 'extract').length - day.units.length,
    recordsExtracted: extracted(day),
    snapshotRecords: day.units.filter((u) => snapshot.has(u.entity)).reduce((n, u) => n + (u.recordsExtracted ?? 0), 0),
    ...counts,
    functions,
    requests,
    gbSeconds,
    transitions,
    cost: { lambdaCompute, lambdaRequests, stepFunctions, total: lambdaCompute + lambdaRequests + stepFunctions },
  };
}

export async function measurePipeline(options: PipelineBenchOptions = MID_MARKET_DAY, progress: (line: string) => void = () => undefined): Promise<PipelineMeasurement> {
  const root = await mkdtemp(path.join(tmpdir(), 'bench-pipeline-'));
  const setupDir = path.join(root, 'setup');
  const quiet = { progress: () => undefined };
  try {
    // Day 1 (not measured): the first full read, without latency, so the measured run is incremental.
    progress('setup: first full sync (no latency)…');
    const setupStarted = performance.now();
    const session = await startLocalSync({ ...quiet, stateDir: setupDir }, { emulator: { seed: options.seed, volume: options.volume } });
    let setup: PipelineMeasurement['setup'];
    let setupDay: string;
    try {
      setupDay = session.cloudSuiteEmulator!.clock.today();
      const first = await session.execute();
      if (first.status !== 'succeeded') throw new Error(`setup run ${first.status}: ${first.cause ?? ''}`);
      setup = { records: extracted(first), seconds: (performance.now() - setupStarted) / 1000 };
    } finally {
      await session.close();
    }
    progress(`setup: ${setup.records} records in ${setup.seconds.toFixed(1)} s`);

    // The same day twice, each from a copy of the setup's state: as deployed, and one handler at a time.
    const runs: DayRun[] = [];
    let tenantRows = 0;
    let changedRecords = 0;
    let changedIncremental = 0;
    const loadAverage = os.loadavg();
    for (const concurrency of [defaultFlowsConfig.maxConcurrency ?? 10, 1]) {
      const dir = path.join(root, `day-${concurrency}`);
      await cp(setupDir, dir, { recursive: true });
      const day = await startLocalSync(
        { ...quiet, stateDir: dir, config: { ...defaultFlowsConfig, maxConcurrency: concurrency }, advanceDays: options.daysOfChanges },
        { emulator: { knobs: { latencyMs: options.latencyMs } } },
      );
      try {
        const cloudSuite = day.cloudSuiteEmulator!;
        tenantRows = 0;
        changedRecords = 0;
        changedIncremental = 0;
        for (const table of [...SNAPSHOT_TABLES, ...INCREMENTAL_TABLES]) {
          const rows = cloudSuite.truth(table);
          const changed = rows.filter((r) => (r.LMDT ?? '0') > setupDay).length;
          tenantRows += rows.length;
          changedRecords += changed;
          if (INCREMENTAL_TABLES.includes(table)) changedIncremental += changed;
        }
        cloudSuite.resetCounters();
        progress(`measured run, Map concurrency ${concurrency}: ${changedRecords} changed records, ${options.latencyMs} ms per MI call…`);
        const started = performance.now();
        const result = await day.execute();
        const wallSeconds = (performance.now() - started) / 1000;
        if (result.status !== 'succeeded') throw new Error(`measured run ${result.status}: ${result.cause ?? ''}`);
        const statements = day.warehouseEmulator!.statements;
        runs.push(usageOf(result, concurrency, {
          miCalls: cloudSuite.counters.miCalls,
          statements: statements.length,
          statementSeconds: statements.reduce((sum, st) => sum + st.ms, 0) / 1000,
          wallSeconds,
        }));
      } finally {
        await day.close();
      }
    }
    return { options, setup, tenantRows, changedRecords, changedIncremental, loadAverage, runs };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const usd = (n: number) => `$${n < 0.01 ? n.toFixed(5) : n.toFixed(4)}`;

export function describePipeline(m: PipelineMeasurement, date = new Date()): string[] {
  const [deployed, serial] = m.runs as [DayRun, DayRun];
  const col = (text: string, width: number) => text.padStart(width);
  const lines = [
    `tenant: ${m.tenantRows} rows in 3 companies after the measured days (emulator seed ${m.options.seed}, volume per company ` +
      `${JSON.stringify(m.options.volume)}); setup run (full read, not measured): ${m.setup.records} records in ${m.setup.seconds.toFixed(1)} s`,
    `measured run: incremental, ${m.options.daysOfChanges} emulator days of changes = ${m.changedRecords} changed records; ` +
      `${m.options.latencyMs} ms added to every MI call; warehouse = the DuckDB emulator in the same process; ` +
      `load average ${m.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
    ...m.runs.map(
      (r) =>
        `  Map concurrency ${r.concurrency}: ${r.status}, ${r.units} units into ${r.tables} tables, ${r.continuations} continuations; ` +
        `${r.recordsExtracted} records extracted and loaded (${m.changedIncremental} changed, ${r.recordsExtracted - r.snapshotRecords - m.changedIncremental} ` +
        `re-read by the 2-day overlap, ${r.snapshotRecords} snapshot re-reads); ` +
        `${r.miCalls} MI calls, ${r.statements} SQL statements (${r.statementSeconds.toFixed(1)} s of emulator statement time); ${r.wallSeconds.toFixed(1)} s wall clock`,
    ),
    '',
    `                        as deployed (Map concurrency ${deployed.concurrency})        one handler at a time`,
    'function      memory  calls   duration     p50      max    GB-s   duration     p50    GB-s',
    ...deployed.functions.map((f, i) => {
      const s = serial.functions[i]!;
      return (
        `${f.fn.padEnd(13)} ${col(`${f.memoryMb} MB`, 7)} ${col(String(f.invocations), 6)} ${col(`${f.seconds.toFixed(1)} s`, 10)} ` +
        `${col(`${Math.round(f.p50Ms)} ms`, 7)} ${col(`${Math.round(f.maxMs)} ms`, 8)} ${col(f.gbSeconds.toFixed(1), 7)} ` +
        `${col(`${s.seconds.toFixed(1)} s`, 10)} ${col(`${Math.round(s.p50Ms)} ms`, 7)} ${col(s.gbSeconds.toFixed(1), 7)}`
      );
    }),
    `total                 ${col(String(deployed.requests), 6)} ${' '.repeat(36)}${col(deployed.gbSeconds.toFixed(1), 7)} ${' '.repeat(18)}${col(serial.gbSeconds.toFixed(1), 7)}`,
    '',
    `state transitions (Standard workflow, StateEntered + StateRetried in the event log): ${deployed.transitions}`,
    `prices: AWS list prices, us-east-1, as in infra/README.md, free tier ignored (run on ${date.toISOString().slice(0, 10)}): ` +
      `Lambda arm64 $${PRICES.lambdaArmPerGbSecond} per GB-s + $${PRICES.lambdaPerMillionRequests} per 1M requests; ` +
      `Step Functions Standard $${PRICES.stepFunctionsStandardPerThousandTransitions} per 1,000 state transitions`,
    ...m.runs.map(
      (r) =>
        `cost of the run (Map concurrency ${r.concurrency}): Lambda compute ${usd(r.cost.lambdaCompute)} + requests ${usd(r.cost.lambdaRequests)} ` +
        `+ Step Functions ${usd(r.cost.stepFunctions)} = ${usd(r.cost.total)}; 30 daily runs ${usd(30 * r.cost.total)} a month`,
    ),
    `sensitivity: Load ran ${serial.statements} statements, ${((1000 * serial.statementSeconds) / Math.max(1, serial.statements)).toFixed(0)} ms each ` +
      `on the emulator one at a time; every extra second per statement on a real SQL warehouse adds ${serial.statements} GB-s = ` +
      `${usd(serial.statements * PRICES.lambdaArmPerGbSecond)} a run (Load has 1 GB)`,
    'not measured: Lambda cold starts (INIT is billed since 2025-08-01; ≈0.5–1 s per new execution environment), ' +
      'Lambda CPU speed (1 GB ≈ 0.6 vCPU; here every handler shares 2 local cores), S3/DynamoDB/CloudWatch request charges',
  ];
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  routeLogsToStderr();
  if (!process.env.POWERTOOLS_LOG_LEVEL) logger.setLogLevel('WARN');
  process.stdout.write(`${machineLine()}\n`);
  const measurement = await measurePipeline(MID_MARKET_DAY, (line) => process.stderr.write(`${line}\n`));
  for (const line of describePipeline(measurement)) process.stdout.write(`${line}\n`);
}
