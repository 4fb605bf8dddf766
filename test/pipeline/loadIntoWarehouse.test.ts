// The whole pipeline with the real loader: the synthesized state machine's Load handler calls loadTable
// against the warehouse emulator (a DuckDB file in the state folder), through the real Databricks driver.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLocalSync, type LocalSyncOptions, type TaskHandler } from '../../infra/local/runLocalSync.ts';
import { startWarehouseEmulator } from '#emulators/databricks/index.ts';
import type { CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { defaultCatalog } from '#shared/catalog/defaultCatalog.ts';
import { estimateHistoryEvents } from '#shared/pipeline/historyBudget.ts';
import defaultConfig from '../../infra/flows.config.ts';
import { capturingLog } from '../support/cloudSuite.ts';
import { Readable } from 'node:stream';
import { loadTable } from '#shared/load/loadTable.ts';
import { MetricNames } from '#shared/pipeline/pipelineMetrics.ts';
import { joinKey } from '#shared/staging/blobStore.ts';
import { MANIFEST_NAME } from '#shared/staging/manifest.ts';
import { readManifest } from '#shared/staging/stagedUnitReader.ts';

const quiet = { progress: () => undefined, log: capturingLog() } satisfies Partial<LocalSyncOptions>;
const M3_TABLE: Record<string, string> = { suppliers: 'CIDMAS', purchase_orders: 'MPHEAD', supplier_invoices: 'FAPIBH', gl_transactions: 'FGLEDG' };

async function warehouseState(dbFile: string, entity: string) {
  const warehouse = await startWarehouseEmulator({ dbFile });
  try {
    const current = await warehouse.query(`SELECT _record_key, _record, _deleted_at FROM main.cloudsuite.${entity}`);
    const [duplicates] = await warehouse.query(
      `SELECT count(*) AS n FROM (SELECT _record_key, _record_hash FROM main.cloudsuite.${entity}_history GROUP BY 1, 2 HAVING count(*) > 1)`,
    );
    return { current: new Map(current.map((r) => [String(r._record_key), r])), duplicateVersions: Number(duplicates!.n) };
  } finally {
    await warehouse.close();
  }
}

async function expectWarehouseHasCloudSuite(dbFile: string, emulator: CloudSuiteEmulator, entity: string) {
  const definition = defaultCatalog.get(entity)!;
  const { current, duplicateVersions } = await warehouseState(dbFile, entity);
  expect(duplicateVersions, `${entity}: a version is twice in the history`).toBe(0);
  const truth = emulator.truth(M3_TABLE[entity]!);
  for (const row of truth) {
    const key = JSON.stringify(definition.key.map((k) => row[k] ?? ''));
    const loaded = current.get(key);
    expect(loaded === undefined ? 'missing' : loaded._deleted_at, `${entity} ${key}`).toBeNull();
    expect(JSON.parse(String(loaded!._record))).toEqual(Object.fromEntries(definition.fields.map((f) => [f.name, row[f.name] ?? ''])));
  }
  if (definition.strategy === 'snapshot') expect([...current.values()].filter((r) => r._deleted_at === null)).toHaveLength(truth.length);
}

describe('the local sync with the real loader', () => {
  it('loads every table through the Load handler; a failed unit reruns into the warehouse without duplicate versions', async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), 'local-sync-load-'));
    const dbFile = path.join(stateDir, 'databricks', 'warehouse.duckdb');
    let emulator: CloudSuiteEmulator | undefined;
    const keep = { onCloudSuite: (e: CloudSuiteEmulator) => void (emulator = e) };

    const first = await runLocalSync({ ...quiet, stateDir }, keep);
    expect(first.status).toBe('succeeded');
    expect(first.units.every((u) => u.status === 'committed' && (u.recordsLoaded ?? 0) === u.recordsExtracted)).toBe(true);
    for (const entity of Object.keys(M3_TABLE)) await expectWarehouseHasCloudSuite(dbFile, emulator!, entity);

    // The next day one unit fails; the others commit, and a rerun brings the warehouse level with CloudSuite.
    const failOrders200 = (state: string, handler: TaskHandler): TaskHandler =>
      state !== 'Extract'
        ? handler
        : async (input) => {
            if ((input as { unitId: string }).unitId === 'purchase-orders/200') throw Object.assign(new Error('MI call refused'), { name: 'MiError' });
            return handler(input);
          };
    const second = await runLocalSync({ ...quiet, stateDir, advanceDays: 1 }, { ...keep, wrapTask: failOrders200 });
    expect(second.status).toBe('failed');
    expect(second.units.filter((u) => u.status === 'failed').map((u) => u.unitId)).toEqual(['purchase-orders/200']);
    const stale = await warehouseState(dbFile, 'purchase_orders');
    const changedIn200 = emulator!.truth('MPHEAD', '200').filter((r) => r.LMDT === emulator!.clock.today());
    expect(changedIn200.length).toBeGreaterThan(0);
    expect(changedIn200.some((r) => JSON.parse(String(stale.current.get(JSON.stringify([r.CONO, r.PUNO]))?._record ?? '{}')).CHNO === r.CHNO)).toBe(false);

    const rerun = await runLocalSync({ ...quiet, stateDir, rerunOf: second.executionName }, keep);
    expect(rerun.status).toBe('succeeded');
    expect(rerun.units.map((u) => [u.unitId, u.status])).toEqual([['purchase-orders/200', 'committed']]);
    for (const entity of Object.keys(M3_TABLE)) await expectWarehouseHasCloudSuite(dbFile, emulator!, entity);
  }, 180_000); // three full syncs: about 25 s alone, much longer on a shared machine

  it('fails only the snapshot unit in which too many keys vanished; the table\'s other companies commit', async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), 'local-sync-vanish-'));
    const dbFile = path.join(stateDir, 'databricks', 'warehouse.duckdb');
    let emulator: CloudSuiteEmulator | undefined;
    const keep = { onCloudSuite: (e: CloudSuiteEmulator) => void (emulator = e) };
    const input = { flows: ['suppliers'] };
    expect((await runLocalSync({ ...quiet, stateDir, input }, keep)).status).toBe('succeeded');
    const before = await warehouseState(dbFile, 'suppliers');

    // A quarter of company 200's suppliers disappear from CloudSuite at once (the guard tolerates 5 %).
    const suppliers200 = emulator!.truth('CIDMAS', '200').length;
    const lost = Math.ceil(suppliers200 / 4);
    const second = await runLocalSync(
      { ...quiet, stateDir, input },
      {
        onCloudSuite: (e) => {
          emulator = e;
          e.mutate({ table: 'CIDMAS', company: '200', deletes: lost });
        },
      },
    );
    expect(second.status).toBe('failed');
    expect(second.units.map((u) => [u.unitId, u.status])).toEqual([['suppliers/100', 'committed'], ['suppliers/200', 'failed'], ['suppliers/300', 'committed']]);
    expect(second.units.find((u) => u.unitId === 'suppliers/200')!.error).toEqual({
      name: 'VanishedKeysError',
      message: expect.stringMatching(new RegExp(`too many keys would be marked deleted at once \\(company 200: ${lost} of ${suppliers200} keys`)),
    });
    expect(second.cause).toMatch(/^1 of 3 units failed: suppliers\/200 \(VanishedKeysError: /);
    // Company 200 is as it was: no key soft-deleted, no row changed.
    const after = await warehouseState(dbFile, 'suppliers');
    const of200 = (state: typeof before) => [...state.current.entries()].filter(([key]) => JSON.parse(key)[0] === '200');
    expect(of200(after)).toEqual(of200(before));
  });

  it('fails only the unit whose control totals differ, publishes the mismatch for the alarm, and commits the others', async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), 'local-sync-totals-'));
    const dbFile = path.join(stateDir, 'databricks', 'warehouse.duckdb');
    const input = { flows: ['supplier-invoices'] };
    // Between staging and loading, company 200's manifest comes to promise one record more in its first period
    // than the files hold: what the warehouse is about to merge no longer matches what was staged.
    const result = await runLocalSync(
      { ...quiet, stateDir, input },
      {
        loadTable: async (request) => {
          for (const unit of request.units.filter((u) => u.unitId.endsWith('/200'))) {
            const manifest = await readManifest(request.store, unit.unitPrefix);
            const [period] = Object.keys(manifest.controlTotals!).sort();
            manifest.controlTotals![period!]!.records += 1;
            await request.store.put(joinKey(unit.unitPrefix, MANIFEST_NAME), Readable.from([JSON.stringify(manifest)]));
          }
          return loadTable(request);
        },
      },
    );
    expect(result.status).toBe('failed');
    const failed = result.units.filter((u) => u.status === 'failed');
    expect(failed.map((u) => u.unitId)).toEqual(['supplier-invoices/200']);
    expect(failed[0]!.error).toEqual({
      name: 'ControlTotalError',
      message: expect.stringMatching(/control totals differ for unit supplier-invoices\/200 \(company 200\), period \d{4}-\d{2}, field record count: staged \d+, about to be merged \d+\. Nothing of this unit was merged/),
    });
    expect(result.units.filter((u) => u.status === 'committed').length).toBe(result.units.length - 1);
    expect(result.metrics.points.filter((p) => p.name === MetricNames.controlTotalMismatches).map((p) => p.value)).toEqual([1]);
    // Company 200 left no row and no totals behind; the others did.
    const warehouse = await startWarehouseEmulator({ dbFile });
    try {
      expect(await warehouse.query("SELECT count(*) AS n FROM main.cloudsuite.supplier_invoices WHERE cono = 200")).toEqual([{ n: 0n }]);
      const units = await warehouse.query('SELECT DISTINCT unit_id FROM main.cloudsuite._sync_control_totals ORDER BY unit_id');
      expect(units.map((u) => u.unit_id)).toEqual(result.units.filter((u) => u.status === 'committed').map((u) => u.unitId).sort());
      const differing = await warehouse.query('SELECT count(*) AS n FROM main.cloudsuite._sync_control_totals WHERE staged_total <> loaded_total');
      expect(differing).toEqual([{ n: 0n }]);
    } finally {
      await warehouse.close();
    }
  });

  it('loads in copy mode through the real state machine, each Load continuing past its deadline and committing once', async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), 'local-sync-copy-'));
    const dbFile = path.join(stateDir, 'databricks', 'warehouse.duckdb');
    let emulator: CloudSuiteEmulator | undefined;
    const config = { ...defaultConfig, warehouse: { ...defaultConfig.warehouse, loadMode: 'copy' as const } };
    const input = { flows: ['suppliers', 'purchase-orders', 'supplier-invoices', 'gl-transactions'] };
    // Each Load invocation runs out of time after 12 statements (a nominal minute each): every table continues.
    const result = await runLocalSync({ ...quiet, stateDir, config, input }, { loadStatementsPerInvocation: 12, onCloudSuite: (e) => void (emulator = e) });
    expect(result.status).toBe('succeeded');
    const loads = result.invocations.filter((i) => i.state === 'Load');
    const tables = result.tables.length;
    expect(loads.length).toBeGreaterThan(tables);
    expect(result.units.every((u) => u.status === 'committed' && (u.recordsLoaded ?? 0) === u.recordsExtracted)).toBe(true);
    expect(result.awsHistoryEvents).toBe(estimateHistoryEvents({ units: result.units.length, tables, loadContinuations: loads.length - tables }));
    for (const entity of Object.keys(M3_TABLE)) await expectWarehouseHasCloudSuite(dbFile, emulator!, entity);
    // COPY INTO read the staged files: no rows were bound as parameters, and no working table is left.
    const warehouse = await startWarehouseEmulator({ dbFile });
    try {
      expect((await warehouse.query('SHOW TABLES IN main.cloudsuite')).map((r) => String(r.tableName)).filter((n) => n.includes('__ld'))).toEqual([]);
    } finally {
      await warehouse.close();
    }
  }, 180_000);
});
