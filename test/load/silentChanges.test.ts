// The merge rule for changes M3 makes without moving the change stamp (APS455 setting SUPA/VONO/ACDT, APS450
// setting BIST/IBLE): a later read with the same stamp and other content replaces the current row, an older
// read never does, whichever load runs first; both versions are in history once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '#shared/aws/s3BlobStore.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import { expectLoaded, loadTable } from '#shared/load/loadTable.ts';
import type { TargetTable } from '#shared/load/loadTypes.ts';
import type { MiRecord } from '#shared/m3/miTypes.ts';
import { startS3rver, type S3Emulator } from '../support/awsEmulators.ts';
import { stageRecords, warehouseWithSession } from '../support/warehouse.ts';

const invoices = EntityCatalog.withDefaults().get('supplier_invoices');
let s3: S3Emulator;
let wh: Awaited<ReturnType<typeof warehouseWithSession>>;
let store: S3BlobStore;
let tables = 0;

beforeAll(async () => {
  [s3, wh] = await Promise.all([startS3rver(), warehouseWithSession()]);
  store = new S3BlobStore({ client: s3.s3, bucket: await s3.createBucket() });
});
afterAll(async () => {
  await wh.close();
  await s3.close();
});

function freshTable(): TargetTable {
  tables += 1;
  return { catalog: 'main', schema: `silent_${tables}`, name: 'invoices' };
}

function invoice(inbn: string, overrides: Partial<MiRecord> = {}): MiRecord {
  const base: MiRecord = Object.fromEntries(invoices.fields.map((f) => [f.name, f.type === 'A' ? '' : '0']));
  return { ...base, CONO: '100', DIVI: 'A01', INBN: inbn, SUNO: 'S0001', SINO: `INV-${inbn}`, IVDT: '20261101', CUCD: 'SEK', CUAM: '100.00', LMDT: '20261101', CHNO: '1', LMTS: '202611010800000001', SUPA: '10', ...overrides };
}

/** A read of invoice 7 at `at`: before APS455 updated it (SUPA 10) or after (SUPA 90, a voucher number), same stamp. */
async function read(prefix: string, at: string, updated: boolean) {
  const record = updated ? invoice('7', { SUPA: '90', TX40: 'voucher 4711' }) : invoice('7');
  await stageRecords(store, prefix, invoices, [record, invoice('8')], { runId: prefix, runStartedAt: at, extractedAt: at });
  return { unitId: `supplier_invoices/100/${prefix}`, unitPrefix: prefix };
}

async function load(table: TargetTable, units: { unitId: string; unitPrefix: string }[]) {
  return expectLoaded(await loadTable({ tenant: 'ACME_PRD', entity: invoices, table, units, runId: 'load', store, warehouse: wh.session }));
}

async function current(table: TargetTable) {
  return wh.warehouse.query(`SELECT inbn, supa, tx40, _extracted_at FROM ${table.catalog}.${table.schema}.${table.name} ORDER BY inbn`);
}

async function history(table: TargetTable) {
  return wh.warehouse.query(`SELECT inbn, supa FROM ${table.catalog}.${table.schema}.${table.name}_history ORDER BY inbn, supa`);
}

const EXPECTED_HISTORY = [{ inbn: 7n, supa: '10' }, { inbn: 7n, supa: '90' }, { inbn: 8n, supa: '10' }];

describe('a change M3 made without a new change stamp', () => {
  it('replaces the current row when read later, is counted, and keeps both versions once in history', async () => {
    const table = freshTable();
    await load(table, [await read('inc1', '2026-11-01T10:00:00.000Z', false)]);
    const repaired = await load(table, [await read('rec1', '2026-11-01T11:00:00.000Z', true)]);
    expect(repaired).toMatchObject({ currentUpdated: 1, currentInserted: 0, historyInserted: 1 });
    expect(repaired.quality).toEqual([{ company: '100', changedWithoutNewStamp: 1, softDeleted: 0 }]);
    expect((await current(table)).map((r) => [r.inbn, r.supa, r.tx40])).toEqual([[7n, '90', 'voucher 4711'], [8n, '10', '']]);
    expect(await history(table)).toEqual(EXPECTED_HISTORY);
    // A finance user can ask the warehouse: _sync_quality has the load's figures per company.
    const recorded = await wh.warehouse.query(`SELECT run_id, entity, company, changed_without_new_stamp AS changed, keys_deleted_at_source AS deleted FROM ${table.catalog}.${table.schema}._sync_quality`);
    expect(recorded).toEqual([{ run_id: 'load', entity: 'supplier_invoices', company: '100', changed: 1n, deleted: 0n }]);

    // Read again later with the same content: nothing changes, nothing is counted.
    const before = await current(table);
    const again = await load(table, [await read('rec2', '2026-11-01T12:00:00.000Z', true)]);
    expect(again).toMatchObject({ currentUpdated: 0, currentInserted: 0, historyInserted: 0, quality: [] });
    expect(await current(table)).toEqual(before);
  });

  // The race: an incremental run read the invoice at 10:15, before APS455 updated it at 10:30; a reconcile run
  // read it at 11:00. Their loads may come in either order, or together.
  it.each([
    ['the reconcile load first, the overlapping incremental load after it', [['rec'], ['inc']]],
    ['the overlapping incremental load first, the reconcile load after it', [['inc'], ['rec']]],
    ['both reads in one load', [['inc', 'rec']]],
  ])('keeps the later read with %s', async (_, order) => {
    const table = freshTable();
    await load(table, [await read(`base-${tables}`, '2026-11-01T10:00:00.000Z', false)]);
    const units = {
      inc: await read(`inc-${tables}`, '2026-11-01T10:15:00.000Z', false),
      rec: await read(`rec-${tables}`, '2026-11-01T11:00:00.000Z', true),
    };
    let changed = 0;
    for (const loadOf of order) changed += (await load(table, loadOf.map((u) => units[u as 'inc' | 'rec']))).quality.reduce((n, q) => n + q.changedWithoutNewStamp, 0);
    const rows = await current(table);
    expect(rows.map((r) => [r.inbn, r.supa, r.tx40])).toEqual([[7n, '90', 'voucher 4711'], [8n, '10', '']]);
    expect(String(rows[0]!._extracted_at)).toBe('2026-11-01 11:00:00');
    expect(await history(table)).toEqual(EXPECTED_HISTORY);
    expect(changed).toBe(1);
  });

  it('never lets an older read win: a smaller stamp, or the same stamp read earlier', async () => {
    const table = freshTable();
    await load(table, [await read('late', '2026-11-01T11:00:00.000Z', true)]);
    const before = await current(table);
    const earlier = await load(table, [await read('early', '2026-11-01T10:15:00.000Z', false)]);
    expect(earlier).toMatchObject({ currentUpdated: 0, quality: [] });
    await stageRecords(store, 'older-stamp', invoices, [invoice('7', { CHNO: '0', LMTS: '202611010700000001', SUPA: '20' })], { runId: 'o', runStartedAt: '2026-11-02T00:00:00.000Z', extractedAt: '2026-11-02T00:00:00.000Z' });
    const older = await load(table, [{ unitId: 'older', unitPrefix: 'older-stamp' }]);
    expect(older).toMatchObject({ currentUpdated: 0, quality: [] });
    expect(await current(table)).toEqual(before);
  });
});
