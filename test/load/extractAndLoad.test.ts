// Every default entity for three emulator companies: extract, load into the warehouse emulator
// persisted to a DuckDB file, move the emulator's clock, extract and load again. Current tables equal
// CloudSuite; history holds each version once; the file can be reopened and queried.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { startWarehouseEmulator } from '#emulators/databricks/index.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import { extractEntityForCompany } from '#shared/extract/extractEntity.ts';
import { loadTable } from '#shared/load/loadTable.ts';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import { connectTo } from '../support/cloudSuite.ts';
import { warehouseWithSession } from '../support/warehouse.ts';
import { M3_SOURCE } from '../support/m3Sources.ts';

const catalog = EntityCatalog.withDefaults();
const COMPANIES = ['100', '200', '300'];
let emulator: CloudSuiteEmulator;
let dir: string;
let dbFile: string;

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 31 });
  dir = await mkdtemp(path.join(tmpdir(), 'e2e-'));
  dbFile = path.join(dir, 'warehouse.duckdb');
});
afterAll(() => emulator.close());

async function syncOnce(runId: string, runStartedAt: string, since: string | null) {
  const { mi } = connectTo(emulator);
  const store = new LocalFolderBlobStore(path.join(dir, 'staging'));
  const wh = await warehouseWithSession({ dbFile });
  try {
    for (const entity of catalog.ids().map((id) => catalog.get(id))) {
      const units = [];
      for (const company of COMPANIES) {
        const prefix = `${runId}/${entity.id}/${company}`;
        const extracted = await extractEntityForCompany({
          tenant: emulator.tenant, entity, company, window: { since, until: null }, runId, runStartedAt, mi, store, prefix,
        });
        units.push(...extracted.map((u) => ({ unitId: `${company}/${u.division}`, unitPrefix: u.unitPrefix })));
      }
      await loadTable({ tenant: emulator.tenant, entity, table: { catalog: 'main', schema: 'cloudsuite', name: entity.id }, units, runId, store, warehouse: wh.session });
    }
  } finally {
    await wh.close();
  }
}

async function assertWarehouseEqualsCloudSuite(deletedSince: Map<string, number>) {
  const warehouse = await startWarehouseEmulator({ dbFile });
  try {
    for (const entity of catalog.ids().map((id) => catalog.get(id))) {
      const { table, filter } = M3_SOURCE[entity.id]!;
      const rows = await warehouse.query(`SELECT _record_key, _record, _deleted_at FROM main.cloudsuite.${entity.id}`);
      const current = new Map(rows.map((r) => [String(r._record_key), r]));
      let truthCount = 0;
      for (const company of COMPANIES) {
        for (const row of emulator.truth(table, company).filter((r) => (filter ? filter(r) : true))) {
          truthCount += 1;
          const key = JSON.stringify(entity.key.map((k) => row[k]));
          const loaded = current.get(key);
          expect(loaded, `${entity.id} ${key}`).toBeDefined();
          expect(loaded!._deleted_at, `${entity.id} ${key} deleted`).toBeNull();
          expect(JSON.parse(String(loaded!._record)), `${entity.id} ${key}`).toEqual(Object.fromEntries(entity.fields.map((f) => [f.name, row[f.name] ?? ''])));
        }
      }
      const live = rows.filter((r) => r._deleted_at === null).length;
      if (entity.strategy === 'snapshot') expect(live, `${entity.id} live rows`).toBe(truthCount);
      // Incremental reads cannot see deletes: at most the rows deleted in M3 remain.
      else expect(live - truthCount, `${entity.id} rows deleted in M3`).toBeLessThanOrEqual(deletedSince.get(table) ?? 0);
      const versions = await warehouse.query(
        `SELECT count(*) AS n FROM (SELECT _record_key, _record_hash, count(*) AS c FROM main.cloudsuite.${entity.id}_history GROUP BY 1, 2 HAVING count(*) > 1)`,
      );
      expect(versions[0]!.n, `${entity.id} duplicated history versions`).toBe(0n);
    }
  } finally {
    await warehouse.close();
  }
}

describe('extract then load, for every default entity and three companies', () => {
  it('leaves current tables equal to CloudSuite, and a second day loads only what changed', async () => {
    await syncOnce('run-1', '2026-11-20T01:00:00.000Z', null);
    await assertWarehouseEqualsCloudSuite(new Map());
    const historyBefore = await (async () => {
      const w = await startWarehouseEmulator({ dbFile });
      try {
        return Number((await w.query('SELECT count(*) AS n FROM main.cloudsuite.purchase_order_lines_history'))[0]!.n);
      } finally {
        await w.close();
      }
    })();

    const changes = emulator.clock.advanceDays(1);
    expect(changes.updated + changes.inserted + changes.deleted).toBeGreaterThan(0);
    const deleted = new Map(Object.entries(changes.byTable).map(([t, c]) => [t, c.deleted]));
    // Incremental window: from the day before the previous run (overlap) onwards.
    await syncOnce('run-2', '2026-11-21T01:00:00.000Z', '20261119');
    await assertWarehouseEqualsCloudSuite(deleted);

    const w = await startWarehouseEmulator({ dbFile });
    try {
      const historyAfter = Number((await w.query('SELECT count(*) AS n FROM main.cloudsuite.purchase_order_lines_history'))[0]!.n);
      // Each line changed or added on the new day is exactly one new version (several changes to a
      // line on one day are one version: M3 keeps only the last).
      const today = emulator.clock.today();
      const changedToday = COMPANIES.flatMap((c) => emulator.truth('MPLINE', c)).filter((r) => r.LMDT === today).length;
      expect(changedToday).toBeGreaterThan(0);
      expect(historyAfter - historyBefore).toBe(changedToday);
    } finally {
      await w.close();
    }
  }, 300_000); // two whole syncs of every entity: a guard against hanging, not a speed limit (a busy machine)
});
