// `npm run bench:load`: both load modes, loading staged GL transactions (and suppliers) into the warehouse
// emulator through the real @databricks/sql driver, with the emulator's latency model recording what each
// statement would take on a real SQL warehouse. Prints statements per 100k records, bytes sent, rows/s here,
// and the modeled warehouse time of a first backfill of 1 and 10 million GL transactions, split into Load
// invocations as the loader splits them (15-minute Lambda, checkpoints before its deadline).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startLocalS3 } from '../infra/local/emulators/aws/localAwsEmulators.ts';
import { startCloudSuiteEmulator } from '../infra/local/emulators/cloudsuite/index.ts';
import {
  connectToEmulator, PUBLIC_WAREHOUSE_LATENCY, s3ObjectStorage, startWarehouseEmulator, type StatementLogEntry,
} from '../infra/local/emulators/databricks/index.ts';
import { S3BlobStore } from '../shared/aws/s3BlobStore.ts';
import { EntityCatalog } from '../shared/catalog/entityCatalog.ts';
import { connectCloudSuite } from '../shared/cloudsuite/cloudSuiteConnection.ts';
import { extractEntityForCompany } from '../shared/extract/extractEntity.ts';
import { parseIonApiFile } from '../shared/ionapi/ionApiFile.ts';
import { finishDeferredLoads, readFinishedLoads } from '../shared/load/controlTotalsWriter.ts';
import { COPY_FILES_PER_STATEMENT } from '../shared/load/copySql.ts';
import { DatabricksSession } from '../shared/load/databricksSession.ts';
import { expectLoaded, loadTable, MAX_STEP_ESTIMATE_MS, MERGE_PHASE_RESERVE_MS } from '../shared/load/loadTable.ts';
import { STAGE_STEP_RESERVE_MS } from '../shared/load/stageUnit.ts';
import type { LoadMode } from '../shared/load/loadTypes.ts';
import { logger } from '../shared/observability/logger.ts';
import { Deadline } from '../shared/runtime/deadline.ts';
import { machineLine } from './machine.ts';

const MODEL = PUBLIC_WAREHOUSE_LATENCY;
/** A Load invocation: Lambda's 15 minutes less the handler's 30 s margin. */
const INVOCATION_MS = 15 * 60_000 - 30_000;
const RECORDS_PER_PART = 50_000;

export interface LoadRun {
  mode: LoadMode;
  pass: 'first load' | 'reload (no-op)';
  entity: string;
  records: number;
  seconds: number;
  statements: number;
  bytesSent: number;
  currentInserted: number;
  currentUpdated: number;
  historyInserted: number;
  /** What the warehouse executed for this load, with the latency model's figures. */
  log: StatementLogEntry[];
  /**
   * On the last load of a pass: what the run's RefreshMarts then sent for the pass's loads (their control totals in
   * one MERGE per schema, each one's current totals read from its working table, and the working tables dropped).
   */
  refresh?: { loads: number; statements: number; modeledMs: number };
}

/** Extracts `records` GL transactions (and 5,000 suppliers) into the local S3, then loads them twice in each mode. */
export async function measureLoad(records = 100_000): Promise<LoadRun[]> {
  const catalog = EntityCatalog.withDefaults();
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-load-'));
  const s3 = await startLocalS3(path.join(dir, 's3'));
  await s3.ensureBucket('bench-staging');
  const store = new S3BlobStore({ client: s3.s3, bucket: 'bench-staging' });
  const cloudsuite = await startCloudSuiteEmulator({ seed: 4, volume: { companies: ['100'], glTransactions: records, suppliers: 5000 } });
  const { mi } = connectCloudSuite(parseIonApiFile(JSON.stringify(cloudsuite.ionapi), 'bench.ionapi'));
  const staged: Record<string, { unitId: string; unitPrefix: string }[]> = {};
  for (const id of ['gl_transactions', 'suppliers']) {
    const units = await extractEntityForCompany({
      tenant: cloudsuite.tenant, entity: { ...catalog.get(id), pageSize: 5000 }, company: '100', window: { since: null, until: null },
      runId: 'bench', runStartedAt: '2026-11-20T00:00:00.000Z', mi, store, prefix: `runs/${id}`,
    });
    staged[id] = units.map((u) => ({ unitId: u.unitPrefix, unitPrefix: u.unitPrefix }));
  }
  await cloudsuite.close();

  const warehouse = await startWarehouseEmulator({
    dbFile: path.join(dir, 'warehouse.duckdb'),
    storage: { objects: s3ObjectStorage(s3.s3), externalLocations: ['s3://bench-staging/runs'] },
    latency: 'public-warehouse',
  });
  const { client } = await connectToEmulator(warehouse);
  // With a workspace, as deployed: a reload trusts the first load's look at the tables (shared/load/rememberedLook.ts).
  const session = new DatabricksSession({ client, workspace: 'bench.local' });
  const runs: LoadRun[] = [];
  try {
    for (const mode of ['merge', 'copy'] as const) {
      for (const pass of ['first load', 'reload (no-op)'] as const) {
        for (const [id, units] of Object.entries(staged)) {
          const started = performance.now();
          const logAt = warehouse.statements.length;
          // As the pipeline loads: the control totals and the working table's drop are left to RefreshMarts.
          const result = expectLoaded(await loadTable({
            tenant: 'ACME_PRD', entity: catalog.get(id), table: { catalog: 'main', schema: `bench_${mode}`, name: id }, units, runId: 'bench', store,
            warehouse: session, mode, controlTotals: 'defer',
          }));
          runs.push({
            mode, pass, entity: id, records: result.units.reduce((n, u) => n + u.records, 0), seconds: (performance.now() - started) / 1000,
            statements: result.statements, bytesSent: result.bytesSent, currentInserted: result.currentInserted,
            currentUpdated: result.currentUpdated, historyInserted: result.historyInserted, log: warehouse.statements.slice(logAt),
          });
        }
        const schema = { catalog: 'main', schema: `bench_${mode}` };
        const finished = await readFinishedLoads(store, session.workspace, schema, logger);
        const logAt = warehouse.statements.length;
        const tables = new Set((await session.execute(`SHOW TABLES IN main.bench_${mode}`)).map((r) => String(r.tableName)));
        const outcome = await finishDeferredLoads(session, store, finished, tables, Deadline.none(), logger);
        runs.at(-1)!.refresh = { loads: outcome.loads, statements: outcome.statements, modeledMs: modeled(warehouse.statements.slice(logAt)) };
      }
    }
  } finally {
    await session.close();
    await client.close();
    await warehouse.close();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
  return runs;
}

const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
const modeled = (log: StatementLogEntry[]) => log.reduce((n, s) => n + (s.modeledMs ?? 0), 0);

export function describeLoad(r: LoadRun): string {
  const per100k = 100_000 / r.records;
  const data = r.log.filter((s) => /^(INSERT|COPY)/.test(s.sql)).length;
  return (
    `${r.mode} mode, ${r.pass}: ${r.entity}: ${r.records} records in ${r.seconds.toFixed(1)} s here = ${Math.round(r.records / r.seconds)} rows/s; ` +
    `${r.statements} statements (${(r.statements * per100k).toFixed(0)} per 100k records; ${data} moving data), ` +
    `${(r.bytesSent / 2 ** 20).toFixed(1)} MiB sent (${((r.bytesSent * per100k) / 2 ** 20).toFixed(1)} MiB per 100k); ` +
    `modeled warehouse time ${minutes(modeled(r.log))}; current +${r.currentInserted} ~${r.currentUpdated}, history +${r.historyInserted}` +
    (r.refresh
      ? `\n${r.mode} mode, ${r.pass}: then RefreshMarts finished the pass's ${r.refresh.loads} loads: ${r.refresh.statements} statements ` +
        `(their control totals in 1 MERGE, current totals and the working table's drop per load), modeled ${(r.refresh.modeledMs / 1000).toFixed(1)} s`
      : '')
  );
}

interface ModeledStatement {
  ms: number;
  phase: 'prepare' | 'stage' | 'merge';
  /** A MERGE or the soft deletes: a step that starts only with time for it (as long as the previous one took). */
  step?: boolean;
}

/**
 * The statements of a first load of `records` GL transactions in one unit, extrapolated from the measured first
 * load (`run`) under the latency model: staging statements scale in number (merge: one per ~0.9 MiB batch;
 * copy: one per 20 part files of 50,000 records) and in bytes; the MERGEs write rows in proportion; the rest
 * is fixed.
 */
export function extrapolate(run: LoadRun, records: number): ModeledStatement[] {
  const factor = records / run.records;
  const ms = (sql: string, bytes: number) => MODEL.statementMs + (/^(INSERT|MERGE|UPDATE|DELETE|COPY|CREATE|ALTER|DROP)/.test(sql) ? MODEL.commitMs : 0) + (bytes / 2 ** 20) * MODEL.msPerMiB;
  const out: ModeledStatement[] = [];
  const stage = run.log.filter((s) => /^(INSERT INTO|COPY INTO)/.test(s.sql));
  const firstStage = run.log.indexOf(stage[0]!);
  const afterStage = run.log.indexOf(stage.at(-1)!) + 1;
  for (const s of run.log.slice(0, firstStage)) out.push({ ms: s.modeledMs ?? 0, phase: 'prepare' });
  const stagedBytes = stage.reduce((n, s) => n + (s.writtenBytes ?? 0), 0) * factor;
  const statements = run.mode === 'copy' ? Math.ceil(Math.ceil(records / RECORDS_PER_PART) / COPY_FILES_PER_STATEMENT) : Math.ceil(stage.length * factor);
  for (let i = 0; i < statements; i++) out.push({ ms: ms(stage[0]!.sql, stagedBytes / statements), phase: 'stage' });
  for (const s of run.log.slice(afterStage)) out.push({ ms: ms(s.sql, (s.writtenBytes ?? 0) * factor), phase: 'merge', step: /^(MERGE|UPDATE)/.test(s.sql) });
  return out;
}

/**
 * How the loader splits those statements into Load invocations (resumed ones look again first: 2 statements).
 * As the loader decides (shared/load/loadTable.ts): staging stops with less than its reserve left; the merge phase
 * starts only with its reserve; a MERGE step starts with time for what the last step of the same invocation took
 * (the most a step may take until one is timed), except as the first thing an invocation does. An invocation
 * that still runs past its budget is reported as such (`overrun`): the Lambda would time out there.
 */
export function invocationsOf(statements: ModeledStatement[]): { invocations: number[]; longestStatementMs: number; overrun: boolean } {
  const resume = 2 * MODEL.statementMs + MODEL.commitMs;
  const invocations = [0];
  const left = () => INVOCATION_MS - invocations.at(-1)!;
  let merging = false;
  let lastStep = MAX_STEP_ESTIMATE_MS;
  let fresh = false; // the first invocation prepares and stages
  for (const s of statements) {
    const stepNeeds = s.step ? (fresh ? MERGE_PHASE_RESERVE_MS : Math.max(MERGE_PHASE_RESERVE_MS, Math.min(1.2 * lastStep, MAX_STEP_ESTIMATE_MS))) : 0;
    if ((s.phase === 'stage' && left() < STAGE_STEP_RESERVE_MS) || (s.phase === 'merge' && !merging && left() < MERGE_PHASE_RESERVE_MS) || left() < stepNeeds) {
      invocations.push(resume);
      // A new invocation knows no step's time yet, and has sent nothing but its two look-again statements.
      lastStep = MAX_STEP_ESTIMATE_MS;
      fresh = s.phase !== 'stage';
    }
    if (s.phase === 'merge') merging = true;
    if (s.phase === 'stage') fresh = false;
    if (s.step) {
      lastStep = s.ms;
      fresh = false;
    }
    invocations[invocations.length - 1]! += s.ms;
  }
  return { invocations, longestStatementMs: Math.max(...statements.map((s) => s.ms)), overrun: invocations.some((ms) => ms > INVOCATION_MS) };
}

export function describeBackfills(runs: LoadRun[]): string[] {
  const lines: string[] = [];
  for (const records of [1_000_000, 10_000_000]) {
    for (const mode of ['merge', 'copy'] as const) {
      const run = runs.find((r) => r.mode === mode && r.pass === 'first load' && r.entity === 'gl_transactions')!;
      const statements = extrapolate(run, records);
      const total = statements.reduce((n, s) => n + s.ms, 0);
      const { invocations, longestStatementMs, overrun } = invocationsOf(statements);
      const longest = Math.max(...invocations);
      lines.push(
        `first backfill of ${records.toLocaleString('en-US')} GL transactions, ${mode} mode: ${statements.length} statements, modeled warehouse time ${minutes(total)}; ` +
          `${invocations.length} Load invocation(s), the longest ${minutes(longest)} (${overrun ? 'OVER' : 'within'} the ${minutes(INVOCATION_MS)} a Load invocation has before its deadline; ` +
          `longest single statement ${minutes(longestStatementMs)}); without continuations one invocation of ${minutes(total)}, ${total > 15 * 60_000 ? 'over' : 'within'} 15 minutes`,
      );
    }
  }
  lines.push(
    `latency model (infra/local/emulators/databricks/README.md): ${MODEL.statementMs} ms per statement, +${MODEL.commitMs} ms per commit, ${MODEL.msPerMiB} ms per MiB written, ${MODEL.bytesPerWrittenRow} bytes per MERGEd row`,
  );
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  logger.setLogLevel('ERROR'); // a line per load would bury the figures
  process.stdout.write(`${machineLine()}\n`);
  const runs = await measureLoad(Number(process.env.BENCH_LOAD_RECORDS ?? 100_000));
  for (const run of runs) process.stdout.write(`${describeLoad(run)}\n`);
  for (const line of describeBackfills(runs)) process.stdout.write(`${line}\n`);
}
