// A steady-state load trusts what today's look at its tables established (remembered in the staging store per
// workspace and table) and sends no SHOW/DESCRIBE; a changed entity, a look older than a day or a table dropped
// or altered behind the loader's back makes the (retried) load look again, and it repairs what it finds.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import type { MiRecord } from '#shared/m3/miTypes.ts';
import { TableChangedError } from '#shared/load/loadErrors.ts';
import { expectLoaded, loadTable } from '#shared/load/loadTable.ts';
import type { TargetTable } from '#shared/load/loadTypes.ts';
import { isShapeChanged, LOOK_MAX_AGE_MS, lookFingerprint, rememberedLookKey, rememberLook } from '#shared/load/rememberedLook.ts';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import { stageRecords, warehouseWithSession } from '../support/warehouse.ts';

const catalog = EntityCatalog.withDefaults();
const suppliers = catalog.get('suppliers');
const WORKSPACE = 'dbc-emulated.cloud.databricks.com';
let wh: Awaited<ReturnType<typeof warehouseWithSession>>;
let store: LocalFolderBlobStore;
beforeAll(async () => {
  wh = await warehouseWithSession({}, { workspace: WORKSPACE });
  store = new LocalFolderBlobStore(await mkdtemp(path.join(tmpdir(), 'remembered-look-')));
  await stageRecords(store, 'r1/sup', suppliers, [supplier('S1'), supplier('S2')], { runId: 'r1', runStartedAt: '2026-11-20T02:00:00.000Z' });
});
afterAll(() => wh.close());

let schemas = 0;
const freshTable = (): TargetTable => ({ catalog: 'main', schema: `look_${(schemas += 1)}`, name: 'suppliers' });
const name = (t: TargetTable, suffix = '') => `${t.catalog}.${t.schema}.${t.name}${suffix}`;

function supplier(suno: string): MiRecord {
  const base: MiRecord = Object.fromEntries(suppliers.fields.map((f) => [f.name, f.type === 'A' ? '' : '0']));
  return { ...base, CONO: '100', SUNO: suno, SUNM: `Supplier ${suno}`, CUCD: 'SEK' };
}

/** One load; answers its result and the statements it sent (from the emulator's log). */
async function load(table: TargetTable) {
  const before = wh.warehouse.statements.length;
  const result = expectLoaded(await loadTable({ tenant: 'ACME_PRD', entity: suppliers, table, units: [{ unitId: 'u1', unitPrefix: 'r1/sup' }], runId: 'r1', store, warehouse: wh.session }));
  return { result, sent: wh.warehouse.statements.slice(before).map((s) => s.sql) };
}
const looks = (sent: string[]) => sent.filter((sql) => /^(SHOW|DESCRIBE)\b/.test(sql));

describe('remembered looks at the target tables', () => {
  it('a second load of unchanged tables sends no SHOW or DESCRIBE; a first load creates everything and remembers it', async () => {
    const table = freshTable();
    const first = await load(table);
    expect(looks(first.sent).length).toBeGreaterThan(0);
    expect(first.sent.filter((sql) => /^CREATE TABLE IF NOT EXISTS/.test(sql)).length).toBeGreaterThanOrEqual(2);
    expect(await store.list('_warehouse/')).toEqual([`_warehouse/${WORKSPACE}/main.${table.schema}.suppliers.json`]);
    const second = await load(table);
    expect(looks(second.sent)).toEqual([]);
    expect(second.sent.length).toBeLessThan(first.sent.length);
    expect(second.result).toMatchObject({ currentInserted: 0, currentUpdated: 0, historyInserted: 0 });
  });

  it('looks again when the entity is not the shape the look was made for, or the look is a day old', async () => {
    const table = freshTable();
    await load(table);
    const key = rememberedLookKey(WORKSPACE, table);
    await rememberLook(store, key, 'the fingerprint of another shape of the entity', new Date());
    expect(looks((await load(table)).sent).length).toBeGreaterThan(0);
    expect(looks((await load(table)).sent)).toEqual([]);
    await rememberLook(store, key, lookFingerprint(suppliers, table), new Date(Date.now() - LOOK_MAX_AGE_MS - 60_000));
    expect(looks((await load(table)).sent).length).toBeGreaterThan(0);
  });

  it('a table dropped behind the loader fails the load as transient, and the retried load looks, recreates it and loads', async () => {
    const table = freshTable();
    await load(table);
    await wh.warehouse.query(`DROP TABLE ${name(table, '_history')}`);
    const failure = await load(table).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TableChangedError);
    expect((failure as TableChangedError).transient).toBe(true);
    expect((failure as Error).message).toMatch(/suppliers: a table or column is not what the load expected.*TABLE_OR_VIEW_NOT_FOUND.*the retried load looks again/);
    const retry = await load(table);
    expect(looks(retry.sent).length).toBeGreaterThan(0);
    expect(retry.result.historyInserted).toBe(2);
    expect(await wh.warehouse.query(`SELECT count(*) AS n FROM ${name(table, '_history')}`)).toEqual([{ n: 2n }]);
  });

  it('a table altered behind the loader (columns gone) recovers on the retry: the look adds the columns back', async () => {
    const table = freshTable();
    await load(table);
    await wh.warehouse.query(`DROP TABLE ${name(table)}`);
    await wh.warehouse.query(`CREATE TABLE ${name(table)} (\`_tenant\` STRING, \`_record_key\` STRING)`);
    const failure = await load(table).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TableChangedError);
    expect(isShapeChanged(failure)).toBe(true);
    expect((failure as Error).message).toMatch(/UNRESOLVED_COLUMN/);
    const retry = await load(table);
    expect(looks(retry.sent).length).toBeGreaterThan(0);
    expect(retry.result.currentInserted).toBe(2);
    expect(await wh.warehouse.query(`SELECT suno FROM ${name(table)} ORDER BY suno`)).toEqual([{ suno: 'S1' }, { suno: 'S2' }]);
  });

  it('a session without a workspace looks every time (nothing remembered)', async () => {
    const plain = await warehouseWithSession();
    try {
      const table = freshTable();
      const local = new LocalFolderBlobStore(await mkdtemp(path.join(tmpdir(), 'no-look-memory-')));
      await stageRecords(local, 'r1/sup', suppliers, [supplier('S1')], { runId: 'r1', runStartedAt: '2026-11-20T02:00:00.000Z' });
      for (let i = 0; i < 2; i += 1) {
        const before = plain.warehouse.statements.length;
        expectLoaded(await loadTable({ tenant: 'ACME_PRD', entity: suppliers, table, units: [{ unitId: 'u1', unitPrefix: 'r1/sup' }], runId: 'r1', store: local, warehouse: plain.session }));
        expect(looks(plain.warehouse.statements.slice(before).map((s) => s.sql)).length).toBeGreaterThan(0);
      }
      expect(await local.list('_warehouse/')).toEqual([]);
    } finally {
      await plain.close();
    }
  });
});
