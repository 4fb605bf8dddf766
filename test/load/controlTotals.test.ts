// Finance control totals at load time, through the real driver into the warehouse emulator: per unit and period
// the record count and every amount's sum as staged must equal what the MERGE writes, or the unit is refused with
// its period and field named and nothing of it is merged; every loaded unit leaves its totals in
// `_sync_control_totals` (as staged, as merged, as found in the current table), once however often it is loaded.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import type { EntityDefinition } from '#shared/catalog/entityDefinition.ts';
import type { MiRecord } from '#shared/m3/miTypes.ts';
import { ControlTotalError } from '#shared/load/loadErrors.ts';
import { finishDeferredLoads, readFinishedLoads } from '#shared/load/controlTotalsWriter.ts';
import { expectLoaded, loadTable } from '#shared/load/loadTable.ts';
import { Deadline } from '#shared/runtime/deadline.ts';
import type { TargetTable } from '#shared/load/loadTypes.ts';
import { joinKey } from '#shared/staging/blobStore.ts';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import { MANIFEST_NAME, type UnitManifest } from '#shared/staging/manifest.ts';
import { readManifest } from '#shared/staging/stagedUnitReader.ts';
import { capturingLog } from '../support/cloudSuite.ts';
import { stageRecords, warehouseWithSession } from '../support/warehouse.ts';

const catalog = EntityCatalog.withDefaults();
const gl = catalog.get('gl_transactions');
let wh: Awaited<ReturnType<typeof warehouseWithSession>>;
let store: LocalFolderBlobStore;
beforeAll(async () => {
  wh = await warehouseWithSession();
  store = new LocalFolderBlobStore(await mkdtemp(path.join(tmpdir(), 'control-totals-')));
});
afterAll(() => wh.close());

let schemas = 0;
const freshTable = (): TargetTable => ({ catalog: 'main', schema: `totals_${(schemas += 1)}`, name: 'gl_transactions' });

function line(jrno: string, values: Partial<MiRecord>): MiRecord {
  const base: MiRecord = Object.fromEntries(gl.fields.map((f) => [f.name, f.type === 'A' ? '' : '0']));
  return { ...base, CONO: '100', DIVI: 'A01', YEA4: '2026', JRNO: jrno, JSNO: '1', LMDT: '20261201', CHNO: '1', LMTS: '202612010800000001', ...values };
}

async function stage(prefix: string, company: string, records: MiRecord[]) {
  await stageRecords(store, prefix, gl, records.map((r) => ({ ...r, CONO: company })), { runId: 'r1', runStartedAt: '2026-12-02T02:00:00.000Z', company });
  return { unitId: `gl/${company}`, unitPrefix: prefix };
}

/** Rewrites a staged manifest: what a damaged stage, or a warehouse that lost or changed a value, looks like to the check. */
async function tamper(prefix: string, change: (m: UnitManifest) => void) {
  const manifest = await readManifest(store, prefix);
  change(manifest);
  await store.put(joinKey(prefix, MANIFEST_NAME), Readable.from([JSON.stringify(manifest)]));
}

const load = async (entity: EntityDefinition, table: TargetTable, units: { unitId: string; unitPrefix: string }[]) =>
  loadTable({ tenant: 'ACME_PRD', entity, table, units, runId: 'r1', store, warehouse: wh.session, loadId: `load-${table.schema}` });
const rows = (sql: string) => wh.warehouse.query(sql);

describe('control totals', () => {
  it('writes, per unit, period and field, the count and exact sums as staged, as merged and as found in the current table, once', async () => {
    const table = freshTable();
    const unit = await stage('ok/100', '100', [
      line('1', { ACDT: '20261105', ACAM: '0.10', CUAM: '1.10' }),
      line('2', { ACDT: '20261130', ACAM: '0.20', CUAM: '' }),
      line('3', { ACDT: '20261201', ACAM: '-123456789012345.67', CUAM: '5' }),
    ]);
    expectLoaded(await load(gl, table, [unit]));
    const totals = await rows(`SELECT period, field, staged_total, loaded_total, current_total, unit_id, company FROM main.${table.schema}._sync_control_totals ORDER BY period, field`);
    expect(totals).toEqual([
      { period: '2026-11', field: '_records', staged_total: '2', loaded_total: '2', current_total: '2', unit_id: 'gl/100', company: '100' },
      { period: '2026-11', field: 'acam', staged_total: '0.3', loaded_total: '0.3', current_total: '0.3', unit_id: 'gl/100', company: '100' },
      { period: '2026-11', field: 'cuam', staged_total: '1.1', loaded_total: '1.1', current_total: '1.1', unit_id: 'gl/100', company: '100' },
      { period: '2026-12', field: '_records', staged_total: '1', loaded_total: '1', current_total: '1', unit_id: 'gl/100', company: '100' },
      { period: '2026-12', field: 'acam', staged_total: '-123456789012345.67', loaded_total: '-123456789012345.67', current_total: '-123456789012345.67', unit_id: 'gl/100', company: '100' },
      { period: '2026-12', field: 'cuam', staged_total: '5', loaded_total: '5', current_total: '5', unit_id: 'gl/100', company: '100' },
    ]);
    // Loaded again (a retried Lambda, a rerun): the totals are there once.
    expectLoaded(await load(gl, table, [unit]));
    expect(await rows(`SELECT count(*) AS n FROM main.${table.schema}._sync_control_totals`)).toEqual([{ n: 6n }]);
  });

  it('refuses the unit whose totals differ, naming unit, period and field; nothing of it merges, the other unit commits', async () => {
    const table = freshTable();
    const good = await stage('mix/100', '100', [line('1', { ACDT: '20261105', ACAM: '10.00' })]);
    const bad = await stage('mix/200', '200', [line('1', { ACDT: '20261105', ACAM: '20.00' }), line('2', { ACDT: '20261210', ACAM: '7.25', CUAM: '1' })]);
    await tamper(bad.unitPrefix, (m) => void (m.controlTotals!['2026-12']!.amounts.ACAM = '7.26'));
    const result = expectLoaded(await load(gl, table, [good, bad]));
    expect(result.units.map((u) => u.unitId)).toEqual(['gl/100']);
    expect(result.refused).toEqual([
      {
        unitId: 'gl/200', kind: 'control-totals',
        reason: expect.stringMatching(/gl_transactions: control totals differ for unit gl\/200 \(company 200\), period 2026-12, field ACAM: staged 7\.26, about to be merged 7\.25\. Nothing of this unit was merged/),
      },
    ]);
    expect(await rows(`SELECT DISTINCT cono FROM main.${table.schema}.gl_transactions`)).toEqual([{ cono: 100n }]);
    expect(await rows(`SELECT DISTINCT cono FROM main.${table.schema}.gl_transactions_history`)).toEqual([{ cono: 100n }]);
    expect(await rows(`SELECT DISTINCT unit_id FROM main.${table.schema}._sync_control_totals`)).toEqual([{ unit_id: 'gl/100' }]);
  });

  it('fails the load when its only unit differs (a lost record): nothing merged, no totals written, the working table gone', async () => {
    const table = freshTable();
    const unit = await stage('lost/100', '100', [line('1', { ACDT: '20261105', ACAM: '1.00' })]);
    await tamper(unit.unitPrefix, (m) => void (m.controlTotals!['2026-11']!.records = 2));
    const error = await load(gl, table, [unit]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ControlTotalError);
    expect((error as Error).message).toMatch(/unit gl\/100 \(company 100\), period 2026-11, field record count: staged 2, about to be merged 1.*Nothing was merged/);
    expect(await rows(`SELECT count(*) AS n FROM main.${table.schema}.gl_transactions`)).toEqual([{ n: 0n }]);
    expect(await rows(`SELECT count(*) AS n FROM main.${table.schema}.gl_transactions_history`)).toEqual([{ n: 0n }]);
    expect(await rows(`SELECT count(*) AS n FROM main.${table.schema}._sync_control_totals`)).toEqual([{ n: 0n }]);
    const left = await rows(`SHOW TABLES IN main.${table.schema}`);
    expect(left.map((r) => r.tableName).filter((n) => String(n).includes('__ld'))).toEqual([]);
  });

  it('loads units staged before control totals existed without checking them', async () => {
    const table = freshTable();
    const unit = await stage('old/100', '100', [line('1', { ACDT: '20261105', ACAM: '1.00' })]);
    await tamper(unit.unitPrefix, (m) => void delete m.controlTotals);
    expect(expectLoaded(await load(gl, table, [unit])).units).toHaveLength(1);
    expect(await rows(`SELECT count(*) AS n FROM main.${table.schema}._sync_control_totals`)).toEqual([{ n: 0n }]);
  });
});

describe('control totals left to RefreshMarts (the pipeline\'s loads)', () => {
  const deferred = (table: TargetTable, units: { unitId: string; unitPrefix: string }[], loadId: string) =>
    loadTable({ tenant: 'ACME_PRD', entity: gl, table, units, runId: 'r1', store, warehouse: wh.session, loadId, controlTotals: 'defer' });
  const tablesIn = async (table: TargetTable) => new Set((await rows(`SHOW TABLES IN main.${table.schema}`)).map((r) => String(r.tableName)));

  it('writes the totals of every finished load of a schema in one MERGE, and of a load whose working table is gone without a current total', async () => {
    const table = freshTable();
    const first = await stage('deferred/100', '100', [line('1', { ACDT: '20261105', ACAM: '0.10', CUAM: '1.10' })]);
    const second = await stage('deferred/200', '200', [line('2', { ACDT: '20261106', ACAM: '2.50', CUAM: '3' })]);
    expectLoaded(await deferred(table, [first], 'run-a'));
    expectLoaded(await deferred({ ...table }, [second], 'run-b'));
    expect(await rows(`SELECT count(*) AS n FROM main.${table.schema}._sync_control_totals`)).toEqual([{ n: 0n }]);
    const log = capturingLog();
    const finished = await readFinishedLoads(store, wh.session.workspace, table, log);
    expect(finished.map((f) => f.loadId).sort()).toEqual(['run-a', 'run-b']);
    // One load's working table was dropped meanwhile (abandoned and cleaned by another load, an hour later).
    const gone = finished.find((f) => f.loadId === 'run-b')!.working;
    await rows(`DROP TABLE main.${table.schema}.${gone.name}`);

    const outcome = await finishDeferredLoads(wh.session, store, finished, await tablesIn(table), Deadline.none(), log);
    expect(outcome).toEqual({ loads: 2, statements: 3, withoutCurrentTotals: 1 });
    expect(await rows(`SELECT unit_id, field, staged_total, current_total FROM main.${table.schema}._sync_control_totals WHERE field <> 'cuam' ORDER BY unit_id, field`)).toEqual([
      { unit_id: 'gl/100', field: '_records', staged_total: '1', current_total: '1' },
      { unit_id: 'gl/100', field: 'acam', staged_total: '0.1', current_total: '0.1' },
      { unit_id: 'gl/200', field: '_records', staged_total: '1', current_total: null },
      { unit_id: 'gl/200', field: 'acam', staged_total: '2.5', current_total: null },
    ]);
    expect([...(await tablesIn(table))].filter((n) => n.includes('__ld'))).toEqual([]);
    expect(await readFinishedLoads(store, wh.session.workspace, table, log)).toEqual([]);
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual(['working tables gone before the control totals were written: those rows have no current total']);
  });
});
