// Loading staged units into the warehouse emulator through the real @databricks/sql driver, with
// staging in s3rver and leases/watermarks in dynalite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '#shared/aws/s3BlobStore.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import type { EntityDefinition } from '#shared/catalog/entityDefinition.ts';
import { expectLoaded, loadTable } from '#shared/load/loadTable.ts';
import type { LoadCheckpoint, LoadOutcome, TargetTable } from '#shared/load/loadTypes.ts';
import { Deadline } from '#shared/runtime/deadline.ts';
import { DynamoTableLease } from '#shared/state/dynamoTableLease.ts';
import { withLease } from '#shared/state/tableLease.ts';
import { DynamoWatermarkStore } from '#shared/state/dynamoWatermarkStore.ts';
import { startDynalite, startS3rver, type DynamoEmulator, type S3Emulator } from '../support/awsEmulators.ts';
import { stageRecords, tableRows, warehouseWithSession } from '../support/warehouse.ts';
import type { MiRecord } from '#shared/m3/miTypes.ts';

const catalog = EntityCatalog.withDefaults();
const invoices = catalog.get('supplier_invoices');
const suppliers = catalog.get('suppliers');

let s3: S3Emulator;
let dynamo: DynamoEmulator;
let wh: Awaited<ReturnType<typeof warehouseWithSession>>;
let store: S3BlobStore;
let tableCounter = 0;

beforeAll(async () => {
  [s3, dynamo, wh] = await Promise.all([startS3rver(), startDynalite(), warehouseWithSession()]);
  store = new S3BlobStore({ client: s3.s3, bucket: await s3.createBucket() });
});
afterAll(async () => {
  await wh.close();
  await s3.close();
  await dynamo.close();
});

function freshTable(name = 'invoices'): TargetTable {
  tableCounter += 1;
  return { catalog: 'main', schema: `finance_${tableCounter}`, name };
}

function invoice(inbn: string, overrides: Partial<MiRecord> = {}): MiRecord {
  const base: MiRecord = Object.fromEntries(invoices.fields.map((f) => [f.name, f.type === 'A' ? '' : '0']));
  return { ...base, CONO: '100', DIVI: 'A01', INBN: inbn, SUNO: 'S0001', SINO: `INV-${inbn}`, IVDT: '20261101', CUCD: 'SEK', CUAM: '100.00', LMDT: '20261101', CHNO: '1', LMTS: '202611010800000001', ...overrides };
}

function supplier(suno: string, name = `Supplier ${suno}`): MiRecord {
  const base: MiRecord = Object.fromEntries(suppliers.fields.map((f) => [f.name, f.type === 'A' ? '' : '0']));
  return { ...base, CONO: '100', SUNO: suno, SUNM: name, CUCD: 'SEK' };
}

async function load(entity: EntityDefinition, table: TargetTable, units: { unitId: string; unitPrefix: string }[], extra: Partial<Parameters<typeof loadTable>[0]> = {}) {
  return expectLoaded(await loadTable({ tenant: 'ACME_PRD', entity, table, units, runId: 'load', store, warehouse: wh.session, ...extra }));
}

const name = (t: TargetTable, suffix = '') => `${t.catalog}.${t.schema}.${t.name}${suffix}`;

describe('loading into current and history tables', () => {
  it('loads a run, and loading the same run again changes nothing (not even _loaded_at)', async () => {
    const table = freshTable();
    await stageRecords(store, 'r1/inv', invoices, [invoice('1'), invoice('2')], { runId: 'r1', runStartedAt: '2026-11-20T02:00:00.000Z' });
    const first = await load(invoices, table, [{ unitId: 'u1', unitPrefix: 'r1/inv' }]);
    expect(first).toMatchObject({ currentInserted: 2, currentUpdated: 0, historyInserted: 2 });
    const current = await tableRows(wh.warehouse, name(table));
    const history = await tableRows(wh.warehouse, name(table, '_history'));
    const again = await load(invoices, table, [{ unitId: 'u1', unitPrefix: 'r1/inv' }]);
    expect(again).toMatchObject({ currentInserted: 0, currentUpdated: 0, historyInserted: 0, currentSoftDeleted: 0 });
    expect(await tableRows(wh.warehouse, name(table))).toEqual(current);
    expect(await tableRows(wh.warehouse, name(table, '_history'))).toEqual(history);
  });

  it('never lets an older run overwrite a newer one, and keeps each version once in history', async () => {
    const table = freshTable();
    await stageRecords(store, 'old/inv', invoices, [invoice('7', { CUAM: '10.00' })], { runId: 'old', runStartedAt: '2026-11-19T02:00:00.000Z' });
    await stageRecords(store, 'new/inv', invoices, [invoice('7', { CUAM: '12.50', CHNO: '2', LMDT: '20261102', LMTS: '202611020800000001' })], { runId: 'new', runStartedAt: '2026-11-20T02:00:00.000Z' });
    await load(invoices, table, [{ unitId: 'new', unitPrefix: 'new/inv' }]);
    const before = await tableRows(wh.warehouse, name(table));
    const older = await load(invoices, table, [{ unitId: 'old', unitPrefix: 'old/inv' }]);
    expect(older.currentUpdated).toBe(0);
    expect(await tableRows(wh.warehouse, name(table))).toEqual(before);
    expect(before[0]).toMatchObject({ cuam: '12.50', chno: 2n });
    expect((await tableRows(wh.warehouse, name(table, '_history'))).map((r) => r.cuam)).toEqual(expect.arrayContaining(['10.00', '12.50']));
  });

  it('loads a batch whose files hold the same key twice, keeping the newest version', async () => {
    const table = freshTable();
    await stageRecords(store, 'dup/a', invoices, [invoice('5', { CUAM: '1.00' })], { runId: 'a', runStartedAt: '2026-11-19T00:00:00.000Z' });
    await stageRecords(store, 'dup/b', invoices, [invoice('5', { CUAM: '2.00', CHNO: '3', LMTS: '202611010900000001' })], { runId: 'b', runStartedAt: '2026-11-19T00:00:00.000Z' });
    const result = await load(invoices, table, [{ unitId: 'a', unitPrefix: 'dup/a' }, { unitId: 'b', unitPrefix: 'dup/b' }]);
    expect(result).toMatchObject({ currentInserted: 1, historyInserted: 2 });
    expect((await tableRows(wh.warehouse, name(table)))[0]).toMatchObject({ cuam: '2.00' });
  });

  it('round-trips amounts, an 18-digit LMTS and hostile text exactly', async () => {
    const table = freshTable();
    const hostile = `Åsa's "AB" \\ back; 株式会社 😀 '; DROP TABLE x; --`;
    await stageRecords(store, 'exact/inv', invoices, [
      invoice('9', { CUAM: '123456789012.34', VTAM: '-0.05', LMTS: '987654321098765432', TX40: hostile, SINO: 'a|b~c^d' }),
    ], { runId: 'x', runStartedAt: '2026-11-20T00:00:00.000Z' });
    await load(invoices, table, [{ unitId: 'x', unitPrefix: 'exact/inv' }]);
    const [row] = await wh.warehouse.query(`SELECT CAST(cuam AS STRING) AS cuam, CAST(vtam AS STRING) AS vtam, CAST(lmts AS STRING) AS lmts, tx40, sino, ivdt, _record FROM ${name(table)}`);
    expect(row).toMatchObject({ cuam: '123456789012.34', vtam: '-0.05', lmts: '987654321098765432', tx40: hostile, sino: 'a|b~c^d', ivdt: '2026-11-01' });
    expect(JSON.parse(String(row!._record)).CUAM).toBe('123456789012.34');
    expect((await wh.warehouse.query('SHOW TABLES IN main.default')).length).toBeGreaterThanOrEqual(0);
  });

  it('adds a column when a new field appears, with one ADD COLUMNS per table (and the view shows it)', async () => {
    const table = freshTable();
    await stageRecords(store, 'drift/1', invoices, [invoice('1')], { runId: 'd1', runStartedAt: '2026-11-19T00:00:00.000Z' });
    await load(invoices, table, [{ unitId: 'd1', unitPrefix: 'drift/1' }]);
    const wider: EntityDefinition = { ...invoices, fields: [...invoices.fields, { name: 'BKID', type: 'A', length: 5, decimals: 0 }] };
    await stageRecords(store, 'drift/2', wider, [{ ...invoice('2'), BKID: 'SEB01' }], { runId: 'd2', runStartedAt: '2026-11-20T00:00:00.000Z' });
    const before = wh.warehouse.statements.length;
    await load(wider, table, [{ unitId: 'd2', unitPrefix: 'drift/2' }]);
    const alters = wh.warehouse.statements.slice(before).filter((s) => s.sql.startsWith('ALTER TABLE') && s.sql.includes('ADD COLUMNS'));
    expect(alters.map((s) => s.sql)).toEqual([expect.stringContaining('`_history`'.replace('`_history`', '`invoices`')), expect.stringContaining('invoices_history')]);
    expect((await wh.warehouse.query(`SELECT bkid FROM ${name(table)} ORDER BY inbn`)).map((r) => r.bkid)).toEqual([null, 'SEB01']);
    expect((await wh.warehouse.query(`SELECT bkid FROM ${name(table, '_v')} ORDER BY invoice_batch_number`)).map((r) => r.bkid)).toEqual([null, 'SEB01']);
  });

  it('fails a type conflict before changing anything', async () => {
    const table = freshTable();
    await stageRecords(store, 'conf/1', invoices, [invoice('1')], { runId: 'c1', runStartedAt: '2026-11-19T00:00:00.000Z' });
    await load(invoices, table, [{ unitId: 'c1', unitPrefix: 'conf/1' }]);
    const changed: EntityDefinition = { ...invoices, fields: invoices.fields.map((f) => (f.name === 'SINO' ? { ...f, type: 'N' as const, length: 10 } : f)) };
    await stageRecords(store, 'conf/2', changed, [invoice('2', { SINO: '42' })], { runId: 'c2', runStartedAt: '2026-11-20T00:00:00.000Z' });
    const before = await tableRows(wh.warehouse, name(table));
    await expect(load(changed, table, [{ unitId: 'c2', unitPrefix: 'conf/2' }])).rejects.toThrow(/column sino is string but entity supplier_invoices now needs bigint; nothing was loaded/);
    expect(await tableRows(wh.warehouse, name(table))).toEqual(before);
  });

  it('retries a 503 on ExecuteStatement and succeeds', async () => {
    const table = freshTable();
    await stageRecords(store, 'retry/inv', invoices, [invoice('1')], { runId: 'r', runStartedAt: '2026-11-20T00:00:00.000Z' });
    wh.warehouse.injectFault({ rpc: 'ExecuteStatement', kind: 'http503', count: 2 });
    const result = await load(invoices, table, [{ unitId: 'r', unitPrefix: 'retry/inv' }]);
    expect(result.currentInserted).toBe(1);
  });

  it('leaves the watermark where it was when the MERGE fails', async () => {
    const table = freshTable();
    const watermarks = new DynamoWatermarkStore({ documents: dynamo.documents, stateTableName: await dynamo.createStateTable() });
    const key = { tenant: 'ACME_PRD', entity: invoices.id, company: '100', division: '' };
    await watermarks.advance(key, { changeDate: '20261101', changeStamp: '2026110100001000000000000000001', runId: 'earlier' });
    const { manifest } = await stageRecords(store, 'wm/inv', invoices, [invoice('1', { LMDT: '20261105' })], { runId: 'wm', runStartedAt: '2026-11-20T00:00:00.000Z' });
    wh.warehouse.injectFault({ rpc: 'ExecuteStatement', kind: 'error-state', errorClass: 'DELTA_MERGE_MATERIALIZE_SOURCE_FAILED_REPEATEDLY', sqlState: 'XXKST', matchSql: /^MERGE INTO `main`\.`finance_\d+`\.`invoices` AS t/ });
    const loadThenCommit = async () => {
      await load(invoices, table, [{ unitId: 'wm', unitPrefix: 'wm/inv' }]);
      await watermarks.advance(key, { changeDate: manifest.maxChangeDate!, changeStamp: manifest.maxChangeStamp!, runId: 'wm' });
    };
    await expect(loadThenCommit()).rejects.toThrow(/DELTA_MERGE_MATERIALIZE_SOURCE_FAILED_REPEATEDLY/);
    expect((await watermarks.get(key))?.changeDate).toBe('20261101');
  });
});

describe('snapshots and deletes', () => {
  it('a load stopped right after the current MERGE (with its soft deletes) continues without deleting or counting them again', async () => {
    const table = freshTable('suppliers');
    const all = Array.from({ length: 40 }, (_, i) => supplier(`S${String(i).padStart(4, '0')}`));
    await stageRecords(store, 'c1', suppliers, all, { runId: 'c1', runStartedAt: '2026-11-18T02:00:00.000Z' });
    await load(suppliers, table, [{ unitId: 'c1', unitPrefix: 'c1' }]);
    await stageRecords(store, 'c2', suppliers, all.slice(1), { runId: 'c2', runStartedAt: '2026-11-19T02:00:00.000Z' });
    const outcomes: LoadOutcome[] = [];
    let resume: LoadCheckpoint | undefined;
    for (let i = 0; i < 3; i++) {
      // A 15-minute invocation in which the current MERGE takes a nominal 11 minutes: the first invocation has time
      // for it (the most a step may take, 10 minutes) and then none for the history MERGE.
      let used = 0;
      const timing = {
        execute: (sql: string, p?: never, o?: never) => ((used += /^MERGE INTO \S+suppliers` AS t /.test(sql) ? 11 : 0), wh.session.execute(sql, p, o)),
        stats: wh.session.stats, close: async () => {},
      };
      const outcome = await loadTable({
        tenant: 'ACME_PRD', entity: suppliers, table, units: [{ unitId: 'c2', unitPrefix: 'c2' }], runId: 'c2', store, warehouse: timing as never,
        deadline: Deadline.measuredBy(() => (15 - used) * 60_000), loadId: 'stopped-after-current', ...(resume ? { resume } : {}),
      });
      outcomes.push(outcome);
      if (outcome.status === 'loaded') break;
      resume = outcome.checkpoint;
    }
    expect(outcomes).toHaveLength(2);
    expect(outcomes[0]).toMatchObject({ status: 'continue', checkpoint: { merge: { steps: ['softDeletes', 'current'], vanished: { c2: 1 } } } });
    expect(outcomes[1]).toMatchObject({ status: 'loaded', currentSoftDeleted: 1, currentUpdated: 0, historyInserted: 0 });
    expect(expectLoaded(outcomes[1]!).quality).toEqual([{ company: '100', changedWithoutNewStamp: 0, softDeleted: 1 }]);
    expect(await wh.warehouse.query(`SELECT suno FROM ${name(table)} WHERE _deleted_at IS NOT NULL`)).toEqual([{ suno: 'S0000' }]);
  });

  it('soft-deletes a vanished key and revives it when it comes back', async () => {
    const table = freshTable('suppliers');
    const all = Array.from({ length: 40 }, (_, i) => supplier(`S${String(i).padStart(4, '0')}`));
    await stageRecords(store, 's1', suppliers, all, { runId: 's1', runStartedAt: '2026-11-18T02:00:00.000Z' });
    await load(suppliers, table, [{ unitId: 's1', unitPrefix: 's1' }]);
    await stageRecords(store, 's2', suppliers, all.slice(1), { runId: 's2', runStartedAt: '2026-11-19T02:00:00.000Z' });
    const before = wh.warehouse.statements.length;
    const second = await load(suppliers, table, [{ unitId: 's2', unitPrefix: 's2' }]);
    expect(second).toMatchObject({ currentSoftDeleted: 1, currentUpdated: 0, currentInserted: 0 });
    expect(second.quality).toEqual([{ company: '100', changedWithoutNewStamp: 0, softDeleted: 1 }]);
    // The current MERGE soft-deletes (WHEN NOT MATCHED BY SOURCE): no UPDATE of its own.
    const sent = wh.warehouse.statements.slice(before).map((s) => s.sql);
    expect(sent.filter((sql) => /^UPDATE\b/.test(sql))).toEqual([]);
    expect(sent.filter((sql) => /^MERGE INTO \S+suppliers` AS t /.test(sql)).map((sql) => sql.includes('WHEN NOT MATCHED BY SOURCE'))).toEqual([true]);
    const deleted = await wh.warehouse.query(`SELECT suno FROM ${name(table)} WHERE _deleted_at IS NOT NULL`);
    expect(deleted.map((r) => r.suno)).toEqual(['S0000']);
    await stageRecords(store, 's3', suppliers, all, { runId: 's3', runStartedAt: '2026-11-20T02:00:00.000Z' });
    const third = await load(suppliers, table, [{ unitId: 's3', unitPrefix: 's3' }]);
    expect(third).toMatchObject({ currentSoftDeleted: 0, currentUpdated: 1 });
    expect(await wh.warehouse.query(`SELECT suno FROM ${name(table)} WHERE _deleted_at IS NOT NULL`)).toEqual([]);
    expect((await wh.warehouse.query(`SELECT count(*) AS n FROM ${name(table, '_history')}`))[0]!.n).toBe(40n);
  });

  it('refuses a snapshot in which too many keys vanished, and marks nothing', async () => {
    const table = freshTable('suppliers');
    const all = Array.from({ length: 40 }, (_, i) => supplier(`T${String(i).padStart(4, '0')}`));
    await stageRecords(store, 't1', suppliers, all, { runId: 't1', runStartedAt: '2026-11-18T02:00:00.000Z' });
    await load(suppliers, table, [{ unitId: 't1', unitPrefix: 't1' }]);
    const before = await tableRows(wh.warehouse, name(table));
    await stageRecords(store, 't2', suppliers, all.slice(10), { runId: 't2', runStartedAt: '2026-11-19T02:00:00.000Z' });
    await expect(load(suppliers, table, [{ unitId: 't2', unitPrefix: 't2' }])).rejects.toThrow(/too many keys would be marked deleted at once \(company 100: 10 of 40 keys \(25\.0%\); tolerated: 5\.0%\)/);
    expect(await tableRows(wh.warehouse, name(table))).toEqual(before);
  });
});

describe('a snapshot unit in which too many keys vanished, loaded with healthy units', () => {
  it('is refused and left as it was, while the other units of the table load', async () => {
    const table = freshTable('suppliers');
    const of = (cono: string, n: number) => Array.from({ length: n }, (_, i) => ({ ...supplier(`U${String(i).padStart(4, '0')}`), CONO: cono }));
    await stageRecords(store, 'u1/100', suppliers, of('100', 40), { company: '100', runId: 'u1', runStartedAt: '2026-11-18T02:00:00.000Z' });
    await stageRecords(store, 'u1/200', suppliers, of('200', 40), { company: '200', runId: 'u1', runStartedAt: '2026-11-18T02:00:00.000Z' });
    await load(suppliers, table, [{ unitId: 'suppliers/100', unitPrefix: 'u1/100' }, { unitId: 'suppliers/200', unitPrefix: 'u1/200' }]);
    const company100 = async () => tableRows(wh.warehouse, `${name(table)} WHERE _company = '100'`);
    const before100 = await company100();

    // Company 100 lost a quarter of its suppliers (a wrong filter?); company 200 renamed one and lost one (2.5 %).
    const renamed = of('200', 40).slice(1).map((r, i) => (i === 0 ? { ...r, SUNM: 'Renamed AB' } : r));
    await stageRecords(store, 'u2/100', suppliers, of('100', 40).slice(10), { company: '100', runId: 'u2', runStartedAt: '2026-11-19T02:00:00.000Z' });
    await stageRecords(store, 'u2/200', suppliers, renamed, { company: '200', runId: 'u2', runStartedAt: '2026-11-19T02:00:00.000Z' });
    const historyBefore = (await wh.warehouse.query(`SELECT count(*) AS n FROM ${name(table, '_history')} WHERE _company = '100'`))[0]!.n;
    const result = await load(suppliers, table, [{ unitId: 'suppliers/100', unitPrefix: 'u2/100' }, { unitId: 'suppliers/200', unitPrefix: 'u2/200' }]);

    expect(result.units.map((u) => u.unitId)).toEqual(['suppliers/200']);
    expect(result.refused).toEqual([
      {
        unitId: 'suppliers/100',
        kind: 'vanished-keys',
        reason: expect.stringMatching(/too many keys would be marked deleted at once \(company 100: 10 of 40 keys \(25\.0%\); tolerated: 5\.0%\)\. Nothing of this unit was loaded/),
      },
    ]);
    expect(result).toMatchObject({ currentUpdated: 1, currentSoftDeleted: 1, currentInserted: 0, historyInserted: 1 });
    expect(await company100()).toEqual(before100);
    expect((await wh.warehouse.query(`SELECT count(*) AS n FROM ${name(table, '_history')} WHERE _company = '100'`))[0]!.n).toBe(historyBefore);
    const company200 = await wh.warehouse.query(`SELECT suno, sunm, _deleted_at IS NOT NULL AS deleted FROM ${name(table)} WHERE _company = '200' AND (sunm = 'Renamed AB' OR _deleted_at IS NOT NULL) ORDER BY suno`);
    expect(company200).toEqual([{ suno: 'U0000', sunm: 'Supplier U0000', deleted: true }, { suno: 'U0001', sunm: 'Renamed AB', deleted: false }]);
  });
});

describe('refusing bad input before any SQL', () => {
  it('rejects an invalid catalog name without running a statement', async () => {
    const before = wh.warehouse.statements.length;
    for (const bad of ['main`; DROP', 'my catalog', 'a.b', "x'y", '']) {
      await expect(load(invoices, { catalog: bad, schema: 's', name: 't' }, [])).rejects.toThrow(/is not a valid Databricks identifier/);
    }
    expect(wh.warehouse.statements.length).toBe(before);
  });

  it('fails a unit whose staged file no longer matches its manifest', async () => {
    const table = freshTable();
    await stageRecords(store, 'tamper/a', invoices, [invoice('1')], { runId: 'a', runStartedAt: '2026-11-20T00:00:00.000Z' });
    await stageRecords(store, 'tamper/b', invoices, [invoice('2')], { runId: 'a', runStartedAt: '2026-11-20T00:00:00.000Z' });
    // Swap in another unit's file: valid gzip JSON, wrong bytes.
    const { Readable } = await import('node:stream');
    const other = await store.get('tamper/b/part-00001.jsonl.gz');
    const chunks: Buffer[] = [];
    for await (const c of other) chunks.push(c as Buffer);
    await store.put('tamper/a/part-00001.jsonl.gz', Readable.from([Buffer.concat(chunks)]));
    await expect(load(invoices, table, [{ unitId: 'a', unitPrefix: 'tamper/a' }])).rejects.toThrow(/does not match the manifest/);
    expect(await wh.warehouse.query(`SELECT count(*) AS n FROM ${name(table)}`)).toEqual([{ n: 0n }]);
  });
});

describe('concurrency', () => {
  it('serializes two loads of one table on the table lease', async () => {
    const table = freshTable();
    const leases = new DynamoTableLease({ documents: dynamo.documents, stateTableName: await dynamo.createStateTable() });
    await stageRecords(store, 'c/a', invoices, [invoice('1')], { runId: 'a', runStartedAt: '2026-11-19T00:00:00.000Z' });
    await stageRecords(store, 'c/b', invoices, [invoice('1', { CHNO: '2', CUAM: '5.00', LMTS: '202611010900000001' })], { runId: 'b', runStartedAt: '2026-11-20T00:00:00.000Z' });
    const spans: { holder: string; start: number; end: number }[] = [];
    const run = (holder: string, prefix: string) =>
      withLease(leases, name(table), holder, 60_000, async () => {
        const start = performance.now();
        await load(invoices, table, [{ unitId: holder, unitPrefix: prefix }]);
        spans.push({ holder, start, end: performance.now() });
      }, { waitMs: 30_000_000 }); // nominal ms, scaled by the test time scale (0.001): 30 s real
    await Promise.all([run('schedule', 'c/a'), run('rerun', 'c/b')]);
    const [first, second] = spans.sort((x, y) => x.start - y.start);
    expect(first!.end).toBeLessThanOrEqual(second!.start);
    expect((await tableRows(wh.warehouse, name(table)))[0]).toMatchObject({ cuam: '5.00' });
  });
});
