// What a real warehouse does to a load that the emulator used to hide: answers lost after the statement ran
// (INSERT, ALTER, MERGE, COPY INTO), a principal without CREATE SCHEMA, another writer loading the same table
// without the lease, and a Lambda deadline in the middle of staging. Each must end exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3ObjectStorage } from '#emulators/databricks/index.ts';
import { S3BlobStore } from '#shared/aws/s3BlobStore.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import type { EntityDefinition } from '#shared/catalog/entityDefinition.ts';
import { expectLoaded, loadTable } from '#shared/load/loadTable.ts';
import type { LoadCheckpoint, LoadMode, LoadOutcome, TargetTable } from '#shared/load/loadTypes.ts';
import type { MiRecord } from '#shared/m3/miTypes.ts';
import { Deadline } from '#shared/runtime/deadline.ts';
import { startS3rver, type S3Emulator } from '../support/awsEmulators.ts';
import { stageRecords, tableRows, warehouseWithSession } from '../support/warehouse.ts';

const catalog = EntityCatalog.withDefaults();
const invoices = catalog.get('supplier_invoices');
const suppliers = catalog.get('suppliers');
let s3: S3Emulator;
let store: S3BlobStore;
let wh: Awaited<ReturnType<typeof warehouseWithSession>>;
let counter = 0;

beforeAll(async () => {
  s3 = await startS3rver();
  const bucket = await s3.createBucket();
  store = new S3BlobStore({ client: s3.s3, bucket });
  wh = await warehouseWithSession({ storage: { objects: s3ObjectStorage(s3.s3), externalLocations: [`s3://${bucket}/runs`] } });
});
afterAll(async () => {
  await wh?.close();
  await s3?.close();
});

const fresh = (name = 'invoices'): TargetTable => ({ catalog: 'main', schema: `resilience_${++counter}`, name });
const qualified = (t: TargetTable, suffix = '') => `${t.catalog}.${t.schema}.${t.name}${suffix}`;

function invoice(inbn: string, overrides: Partial<MiRecord> = {}): MiRecord {
  const base: MiRecord = Object.fromEntries(invoices.fields.map((f) => [f.name, f.type === 'A' ? '' : '0']));
  return { ...base, CONO: '100', DIVI: 'A01', INBN: inbn, SUNO: 'S1', IVDT: '20261101', CUAM: `${inbn}.25`, LMDT: '20261101', CHNO: '1', LMTS: '202611010800000001', ...overrides };
}

function supplier(cono: string, suno: string): MiRecord {
  const base: MiRecord = Object.fromEntries(suppliers.fields.map((f) => [f.name, f.type === 'A' ? '' : '0']));
  return { ...base, CONO: cono, SUNO: suno, SUNM: `Supplier ${suno}` };
}

/** Stages `n` invoices in part files of `perPart` records under runs/. */
async function stageInvoices(prefix: string, n: number, perPart = 50_000, entity: EntityDefinition = invoices) {
  const records = Array.from({ length: n }, (_, i) => invoice(String(i + 1)));
  return stageRecords(store, `runs/${prefix}`, entity, records, { runId: prefix, runStartedAt: '2026-11-20T00:00:00.000Z', recordsPerPart: perPart });
}

const load = (entity: EntityDefinition, table: TargetTable, unitPrefix: string, mode: LoadMode, extra: Partial<Parameters<typeof loadTable>[0]> = {}) =>
  loadTable({ tenant: 'ACME_PRD', entity, table, units: [{ unitId: unitPrefix, unitPrefix: `runs/${unitPrefix}` }], runId: unitPrefix, store, warehouse: wh.session, mode, ...extra });

async function duplicates(table: TargetTable): Promise<bigint> {
  const [current] = await wh.warehouse.query(`SELECT count(*) - count(DISTINCT _record_key) AS d FROM ${qualified(table)}`);
  const [history] = await wh.warehouse.query(`SELECT count(*) - count(DISTINCT _record_key || _record_hash) AS d FROM ${qualified(table, '_history')}`);
  return (current!.d as bigint) + (history!.d as bigint);
}

describe('answers lost after the statement ran', () => {
  for (const [mode, statement] of [
    ['merge', /^INSERT INTO/],
    ['merge', /^MERGE INTO `main`\.`resilience_\d+`\.`invoices` AS t/],
    ['merge', /_history` AS h/],
    ['copy', /^COPY INTO/],
    ['copy', /^MERGE INTO/],
  ] as const) {
    it(`converge to exactly once (${mode} mode, ${statement.source.slice(0, 20)})`, async () => {
      const table = fresh();
      const prefix = `lost-${counter}`;
      await stageInvoices(prefix, 2500, 1000);
      wh.warehouse.injectFault({ rpc: 'ExecuteStatement', kind: 'lost-answer', matchSql: statement, count: 2 });
      const result = expectLoaded(await load(invoices, table, prefix, mode));
      expect(result.units[0]!.records).toBe(2500);
      expect((await wh.warehouse.query(`SELECT count(*) AS n FROM ${qualified(table)}`))[0]!.n).toBe(2500n);
      expect((await wh.warehouse.query(`SELECT count(*) AS n FROM ${qualified(table, '_history')}`))[0]!.n).toBe(2500n);
      expect(await duplicates(table)).toBe(0n);
      wh.warehouse.clearFaults();
    });
  }

  it('re-checks the table after a lost answer to ALTER TABLE … ADD COLUMNS (which is not idempotent)', async () => {
    const table = fresh();
    await stageInvoices(`alter-a-${counter}`, 3);
    expectLoaded(await load(invoices, table, `alter-a-${counter}`, 'merge'));
    const wider: EntityDefinition = { ...invoices, fields: [...invoices.fields, { name: 'BKID', type: 'A', length: 5, decimals: 0 }] };
    await stageRecords(store, `runs/alter-b-${counter}`, wider, [{ ...invoice('9'), BKID: 'SEB01' }], { runId: 'b', runStartedAt: '2026-11-21T00:00:00.000Z' });
    wh.warehouse.injectFault({ rpc: 'ExecuteStatement', kind: 'lost-answer', matchSql: /^ALTER TABLE .* ADD COLUMNS/, count: 2 });
    const before = wh.warehouse.statements.length;
    expectLoaded(await load(wider, table, `alter-b-${counter}`, 'merge'));
    const alters = wh.warehouse.statements.slice(before).filter((s) => /ADD COLUMNS/.test(s.sql));
    expect(alters.some((s) => s.error?.includes('FIELDS_ALREADY_EXISTS'))).toBe(true);
    expect(await wh.warehouse.query(`SELECT bkid FROM ${qualified(table)} WHERE inbn = '9'`)).toEqual([{ bkid: 'SEB01' }]);
  });
});

describe('a principal without CREATE SCHEMA', () => {
  it('loads into an existing schema (looking first, never sending CREATE SCHEMA), and is told what to grant otherwise', async () => {
    const table = fresh();
    await wh.session.execute(`CREATE SCHEMA ${table.catalog}.${table.schema}`);
    wh.warehouse.settings.privileges.createSchema = false;
    try {
      await stageInvoices(`grant-${counter}`, 5);
      const before = wh.warehouse.statements.length;
      expectLoaded(await load(invoices, table, `grant-${counter}`, 'merge'));
      expect(wh.warehouse.statements.slice(before).filter((s) => s.sql.startsWith('CREATE SCHEMA'))).toEqual([]);
      const missing = fresh();
      await expect(load(invoices, missing, `grant-${counter - 1}`, 'merge')).rejects.toThrow(/does not exist .* creating it failed .*INSUFFICIENT_PERMISSIONS.*grant CREATE SCHEMA on the catalog/);
    } finally {
      wh.warehouse.settings.privileges.createSchema = true;
    }
  });
});

describe('two writers on one table', () => {
  it('never merge each other\'s rows: each load has its own working table, even without a lease', async () => {
    const table = fresh('suppliers');
    const of = (cono: string) => Array.from({ length: 300 }, (_, i) => supplier(cono, `S${String(i).padStart(4, '0')}`));
    await stageRecords(store, `runs/w1-${counter}`, suppliers, of('100'), { company: '100', runId: 'deployed', runStartedAt: '2026-11-20T02:00:00.000Z', recordsPerPart: 50 });
    await stageRecords(store, `runs/w2-${counter}`, suppliers, of('200'), { company: '200', runId: 'cli', runStartedAt: '2026-11-20T02:00:00.000Z', recordsPerPart: 50 });
    // Two sessions, as a deployed Load and a CLI `load` would have; their statements interleave.
    const second = await import('#emulators/databricks/index.ts').then(async ({ connectToEmulator }) => (await connectToEmulator(wh.warehouse)).client);
    const { DatabricksSession } = await import('#shared/load/databricksSession.ts');
    const session2 = new DatabricksSession({ client: second });
    try {
      const [a, b] = await Promise.all([
        load(suppliers, table, `w1-${counter}`, 'merge', { loadId: 'deployed-execution' }),
        loadTable({ tenant: 'ACME_PRD', entity: suppliers, table, units: [{ unitId: `w2-${counter}`, unitPrefix: `runs/w2-${counter}` }], runId: 'cli', store, warehouse: session2, mode: 'copy' }),
      ]);
      expect([expectLoaded(a).currentInserted, expectLoaded(b).currentInserted]).toEqual([300, 300]);
      expect([expectLoaded(a).currentSoftDeleted, expectLoaded(b).currentSoftDeleted]).toEqual([0, 0]);
      const rows = await tableRows(wh.warehouse, qualified(table));
      expect(rows.length).toBe(600);
      expect(rows.filter((r) => r._deleted_at !== null)).toEqual([]);
      const working = wh.warehouse.statements.filter((s) => s.sql.startsWith('CREATE OR REPLACE TABLE') && s.sql.includes('`suppliers__ld')).map((s) => /`(suppliers__ld\w+)`/.exec(s.sql)![1]);
      expect(new Set(working).size).toBe(2);
      expect((await wh.warehouse.query(`SHOW TABLES IN ${table.catalog}.${table.schema}`)).map((r) => r.tableName).sort()).toEqual(['_sync_control_totals', 'suppliers', 'suppliers_history', 'suppliers_v']);
    } finally {
      await session2.close();
      await second.close();
    }
  });

  it('drops the working table a load left behind once its heartbeat is an hour old, and no other', async () => {
    const table = fresh();
    await stageInvoices(`left-${counter}`, 3);
    // A load that answered 'continue' and was never invoked again (its execution aborted) leaves its working table.
    let used = 0;
    const counting = { execute: (sql: string, p?: never, o?: never) => ((used += 1), wh.session.execute(sql, p, o)), stats: wh.session.stats, close: async () => {} };
    const stopped = await load(invoices, table, `left-${counter}`, 'merge', { warehouse: counting as never, deadline: Deadline.measuredBy(() => (9 - used) * 60_000), loadId: 'aborted' });
    expect(stopped.status).toBe('continue');
    const tables = async () => (await wh.warehouse.query(`SHOW TABLES IN ${table.catalog}.${table.schema}`)).map((r) => String(r.tableName)).sort();
    const left = (await tables()).filter((n) => n.includes('__ld'));
    expect(left).toHaveLength(1);
    expectLoaded(await load(invoices, table, `left-${counter}`, 'merge'));
    expect((await tables()).filter((n) => n.includes('__ld'))).toEqual(left); // its heartbeat is fresh: it may be a live load
    await wh.session.execute(`ALTER TABLE ${table.catalog}.${table.schema}.${left[0]} SET TBLPROPERTIES ('cloudsuite_sync.heartbeat' = '${new Date(Date.now() - 61 * 60_000).toISOString()}')`);
    expectLoaded(await load(invoices, table, `left-${counter}`, 'merge'));
    expect(await tables()).toEqual(['_sync_control_totals', 'invoices', 'invoices_history', 'invoices_v']);
  });
});

describe('a load that reaches its deadline', () => {
  for (const mode of ['merge', 'copy'] as const) {
    it(`continues from its checkpoint in later invocations and commits once (${mode} mode)`, async () => {
      const table = fresh();
      const prefix = `deadline-${mode}-${counter}`;
      // merge: 8 part files of ~1 batch each; copy: 42 part files, 3 COPY INTO statements of at most 20 files.
      const records = mode === 'copy' ? 4200 : 4000;
      await stageInvoices(prefix, records, mode === 'copy' ? 100 : 500);
      let resume: LoadCheckpoint | undefined;
      const invocations: LoadOutcome[] = [];
      for (let i = 0; i < 20; i++) {
        // Each invocation may send 9 statements: a nominal minute each, and the loader keeps its reserves.
        let used = 0;
        const counting = { execute: (sql: string, p?: never, o?: never) => ((used += 1), wh.session.execute(sql, p, o)), stats: wh.session.stats, close: async () => {} };
        const deadline = Deadline.measuredBy(() => (9 - used) * 60_000);
        const outcome = await load(invoices, table, prefix, mode, { warehouse: counting as never, deadline, loadId: 'one-load', ...(resume ? { resume } : {}) });
        invocations.push(outcome);
        if (outcome.status === 'loaded') break;
        if (!outcome.checkpoint.merge) {
          expect((await wh.warehouse.query(`SELECT count(*) AS n FROM ${qualified(table)}`))[0]!.n, 'nothing merged while staging').toBe(0n);
        }
        resume = outcome.checkpoint;
      }
      expect(invocations.length).toBeGreaterThan(2);
      // The merge phase, too, stopped for the deadline and went on in the next invocation (its steps recorded).
      expect(invocations.some((o) => o.status === 'continue' && o.checkpoint.merge !== undefined)).toBe(true);
      const last = invocations.at(-1)!;
      expect(last).toMatchObject({ status: 'loaded', currentInserted: records, historyInserted: records });
      const staged = invocations.filter((o) => o.status === 'continue').map((o) => (o.status === 'continue' ? o.stagedRecords : 0));
      expect(staged).toEqual([...staged].sort((x, y) => x - y)); // progress never goes back
      expect(await duplicates(table)).toBe(0n);
      expect((await wh.warehouse.query(`SELECT count(*) AS n FROM ${qualified(table)}`))[0]!.n).toBe(BigInt(records));
    });
  }
});

describe('a MERGE step and the time left', () => {
  it('does not start a MERGE after staging took most of the invocation, but as the first thing of the next one', async () => {
    const table = fresh();
    const prefix = `late-merge-${counter}`;
    await stageInvoices(prefix, 4200, 100); // 42 part files: 3 COPY INTO statements
    const outcomes: LoadOutcome[] = [];
    let resume: LoadCheckpoint | undefined;
    for (let i = 0; i < 4; i++) {
      // A 15-minute invocation in which each COPY INTO takes a nominal 2 minutes and everything else no time:
      // the first has 9 minutes left after staging, more than the merge phase's reserve, less than a MERGE may take.
      let used = 0;
      const counting = {
        execute: (sql: string, p?: never, o?: never) => ((used += sql.startsWith('COPY INTO') ? 2 : 0), wh.session.execute(sql, p, o)),
        stats: wh.session.stats, close: async () => {},
      };
      const outcome = await load(invoices, table, prefix, 'copy', { warehouse: counting as never, deadline: Deadline.measuredBy(() => (15 - used) * 60_000), loadId: 'late', ...(resume ? { resume } : {}) });
      outcomes.push(outcome);
      if (outcome.status === 'loaded') break;
      resume = outcome.checkpoint;
    }
    const [first, second] = outcomes;
    expect(first).toMatchObject({ status: 'continue', checkpoint: { merge: { steps: [] } } });
    expect(second).toMatchObject({ status: 'loaded', currentInserted: 4200, historyInserted: 4200 });
    expect(outcomes).toHaveLength(2);
  });
});
