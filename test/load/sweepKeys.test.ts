// The load of a key sweep (shared/load/sweepKeys.ts), in merge and copy mode, on the warehouse emulator through the
// real driver: absent live keys read before the sweep began are soft-deleted and counted, nothing else changes (no
// MERGE of key-only rows, no history), a rerun changes nothing, a row read after the sweep began is left alone, the
// guard refuses a unit alone, a key set never loads beside content units, and a table with no rows yet is left as it is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3ObjectStorage } from '#emulators/databricks/index.ts';
import { S3BlobStore } from '#shared/aws/s3BlobStore.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import { keySetEntity } from '#shared/extract/keySet.ts';
import { LoadError, VanishedKeysError } from '#shared/load/loadErrors.ts';
import { expectLoaded, loadTable } from '#shared/load/loadTable.ts';
import type { LoadMode, TargetTable } from '#shared/load/loadTypes.ts';
import type { MiRecord } from '#shared/m3/miTypes.ts';
import { startS3rver, type S3Emulator } from '../support/awsEmulators.ts';
import { stageRecords, warehouseWithSession } from '../support/warehouse.ts';

const orders = EntityCatalog.withDefaults().get('purchase_orders');
let s3: S3Emulator;
let store: S3BlobStore;
let wh: Awaited<ReturnType<typeof warehouseWithSession>>;
let tables = 0;

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

function order(company: string, puno: string): MiRecord {
  const base: MiRecord = Object.fromEntries(orders.fields.map((f) => [f.name, f.type === 'A' ? '' : '0']));
  return { ...base, CONO: company, PUNO: puno, SUNO: 'S0001', CUCD: 'SEK', LMDT: '20261101', CHNO: '1', LMTS: '202611010800000001' };
}

const numbers = (n: number) => Array.from({ length: n }, (_, i) => `P${String(i + 1).padStart(4, '0')}`);

async function setUp(mode: LoadMode) {
  tables += 1;
  const table: TargetTable = { catalog: 'main', schema: `sweep_${mode}_${tables}`, name: 'purchase_orders' };
  const load = async (units: { unitId: string; unitPrefix: string }[], maxVanishedShare = 0.5) =>
    loadTable({ tenant: 'ACME_PRD', entity: orders, table, units, runId: 'sweep', store, warehouse: wh.session, mode, maxVanishedShare });
  // Twenty orders in each of companies 100 and 200, loaded by an incremental run read at 08:00.
  const content = [];
  for (const company of ['100', '200']) {
    const prefix = `runs/${table.schema}/incr/${company}`;
    await stageRecords(store, prefix, orders, numbers(20).map((p) => order(company, p)), { company, runId: 'incr', runStartedAt: '2026-11-20T08:00:00.000Z', extractedAt: '2026-11-20T08:00:00.000Z' });
    content.push({ unitId: `purchase-orders/${company}`, unitPrefix: prefix });
  }
  expectLoaded(await load(content));
  /** A key set of the company's orders (PUNO), read now. */
  const keySet = async (name: string, company: string, punos: string[]) => {
    const prefix = `runs/${table.schema}/${name}/${company}`;
    await stageRecords(store, prefix, keySetEntity(orders), punos.map((PUNO) => ({ CONO: company, PUNO })), { company, runId: name, runStartedAt: new Date().toISOString(), keysOnly: true });
    return { unitId: `purchase-orders/${company}`, unitPrefix: prefix };
  };
  const name = `${table.catalog}.${table.schema}.${table.name}`;
  const current = () => wh.warehouse.query(`SELECT * FROM ${name} ORDER BY _record_key`);
  const history = () => wh.warehouse.query(`SELECT * FROM ${name}_history ORDER BY _record_key`);
  const quality = () => wh.warehouse.query(`SELECT company, changed_without_new_stamp AS changed, keys_deleted_at_source AS deleted FROM ${table.catalog}.${table.schema}._sync_quality ORDER BY loaded_at, company`);
  return { table, load, keySet, current, history, quality, content };
}

describe.each(['merge', 'copy'] as const)('the load of a key sweep (%s mode)', (mode) => {
  it('soft-deletes exactly the absent keys, changes nothing else, reports them, and a rerun changes nothing', async () => {
    const t = await setUp(mode);
    const [before, historyBefore] = [await t.current(), await t.history()];
    // Company 100 lost P0003 and P0007; company 200 lost nothing. A key M3 has that the warehouse lacks (P9999) is left to the incremental run.
    const units = [await t.keySet('sweep1', '100', numbers(20).filter((p) => p !== 'P0003' && p !== 'P0007').concat('P9999')), await t.keySet('sweep1', '200', numbers(20))];
    const result = expectLoaded(await t.load(units));
    expect(result).toMatchObject({ currentInserted: 0, currentUpdated: 0, historyInserted: 0, currentSoftDeleted: 2, refused: [] });
    expect(result.quality).toEqual([{ company: '100', changedWithoutNewStamp: 0, softDeleted: 2 }]);
    expect(result.units.map((u) => [u.unitId, u.maxChangeStamp, u.maxChangeDate])).toEqual([['purchase-orders/100', null, null], ['purchase-orders/200', null, null]]);
    const after = await t.current();
    const deleted = after.filter((r) => r._deleted_at !== null).map((r) => `${r._company} ${JSON.parse(String(r._record_key))[1]}`);
    expect(deleted).toEqual(['100 P0003', '100 P0007']);
    for (const [i, row] of after.entries()) {
      const old = before[i]!;
      const { _deleted_at: _a, _loaded_at: _b, _extracted_at: _c, _run_id: _d, ...kept } = row;
      const { _deleted_at: _e, _loaded_at: _f, _extracted_at: _g, _run_id: _h, ...was } = old;
      expect(kept).toEqual(was);
      if (row._deleted_at === null) expect(row).toEqual(old);
    }
    expect(after).toHaveLength(40);
    expect(await t.history()).toEqual(historyBefore);
    expect(await t.quality()).toEqual([{ company: '100', changed: 0n, deleted: 2n }, { company: '200', changed: 0n, deleted: 0n }]);
    // The same sweep again (a rerun, a retried Lambda): nothing changes but a record of zeros.
    const again = expectLoaded(await t.load(units));
    expect(again.currentSoftDeleted).toBe(0);
    expect(await t.current()).toEqual(after);
  });

  it('leaves a row read after the sweep began for the next sweep, refuses a unit alone under the guard, and fails when every unit is refused', async () => {
    const t = await setUp(mode);
    // The sweep of company 100 began before an incremental run read P0020 again (at 08:00 + a day): absent from the keys, but not deleted.
    const late = `runs/${t.table.schema}/late/100`;
    const sweep = await t.keySet('sweep2', '100', numbers(18));
    await stageRecords(store, late, orders, [order('100', 'P0020')].map((r) => ({ ...r, CHNO: '2' })), { runId: 'late', runStartedAt: '2099-01-01T00:00:00.000Z', extractedAt: '2099-01-01T00:00:00.000Z' });
    expectLoaded(await t.load([{ unitId: 'purchase-orders/100', unitPrefix: late }]));
    // Company 200 lost half its keys: refused alone (guard 25 %), naming the company and the counts.
    const refusedUnit = await t.keySet('sweep2', '200', numbers(10));
    const result = expectLoaded(await t.load([sweep, refusedUnit], 0.25));
    expect(result.currentSoftDeleted).toBe(1);
    expect((await t.current()).filter((r) => r._deleted_at !== null).map((r) => `${r._company} ${JSON.parse(String(r._record_key))[1]}`)).toEqual(['100 P0019']);
    expect(result.refused).toEqual([{
      unitId: 'purchase-orders/200', kind: 'vanished-keys',
      reason: expect.stringMatching(/key sweep would mark too many keys deleted at once \(company 200: 10 of 20 keys \(50\.0%\); tolerated: 25\.0%\)/),
    }]);
    expect(result.units.map((u) => u.unitId)).toEqual(['purchase-orders/100']);
    await expect(t.load([await t.keySet('sweep3', '200', numbers(10))], 0.25)).rejects.toThrow(VanishedKeysError);
    expect((await t.current()).filter((r) => r._company === '200' && r._deleted_at !== null)).toEqual([]);
  });

  it('never loads a key set beside content units, and leaves a table that holds no rows yet as it is', async () => {
    const t = await setUp(mode);
    const error = await t.load([await t.keySet('mixed', '100', numbers(20)), t.content[1]!]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoadError);
    expect((error as Error).message).toMatch(/hold keys only and load alone .*units purchase-orders\/200 hold content\. Nothing was loaded/);
    const empty: TargetTable = { ...t.table, name: 'purchase_orders_new' };
    const prefix = `runs/${t.table.schema}/empty/100`;
    await stageRecords(store, prefix, keySetEntity(orders), [{ CONO: '100', PUNO: 'P0001' }], { runId: 'empty', runStartedAt: new Date().toISOString(), keysOnly: true });
    const result = expectLoaded(await loadTable({ tenant: 'ACME_PRD', entity: orders, table: empty, units: [{ unitId: 'purchase-orders/100', unitPrefix: prefix }], runId: 'e', store, warehouse: wh.session, mode }));
    expect(result).toMatchObject({ currentSoftDeleted: 0, refused: [], statements: 1 });
    expect(await wh.warehouse.query(`SHOW TABLES IN ${t.table.catalog}.${t.table.schema}`).then((rows) => rows.map((r) => r.tableName))).not.toContain('purchase_orders_new');
  });
});
