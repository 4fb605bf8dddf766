// The target tables' DDL against the stricter warehouse emulator, which refuses liquid-clustering keys without
// statistics as Databricks does: accepted for every default entity and for an entity of 200 fields, and tables
// created by an earlier version are brought in line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import type { EntityDefinition } from '#shared/catalog/entityDefinition.ts';
import { createCurrentTableSql, createHistoryTableSql, createSchemaSql } from '#shared/load/loadSql.ts';
import { expectLoaded, loadTable } from '#shared/load/loadTable.ts';
import { currentClusteringKeys, statsColumns } from '#shared/load/tableLayout.ts';
import { tableColumns } from '#shared/load/tableColumns.ts';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stageRecords, warehouseWithSession } from '../support/warehouse.ts';

const catalog = EntityCatalog.withDefaults();
let wh: Awaited<ReturnType<typeof warehouseWithSession>>;
beforeAll(async () => {
  wh = await warehouseWithSession();
});
afterAll(() => wh.close());

/** supplier_invoices widened to 200 fields (as `fields: "all"` will make it): its key and audit columns far beyond column 32. */
function wide(): EntityDefinition {
  const base = catalog.get('supplier_invoices');
  const extra = Array.from({ length: 200 - base.fields.length }, (_, i) => ({ name: `X${String(i).padStart(3, '0')}`, type: 'A' as const, length: 10, decimals: 0 }));
  // The key fields last, as a tenant's field order may put them.
  const keys = base.fields.filter((f) => base.key.includes(f.name));
  return { ...base, id: 'wide_invoices', fields: [...base.fields.filter((f) => !base.key.includes(f.name)), ...extra, ...keys] };
}

describe('DDL that a real warehouse accepts', () => {
  it('creates current and history tables for every default entity and a 200-field entity, clustering keys with statistics', async () => {
    await wh.session.execute(createSchemaSql({ catalog: 'main', schema: 'layout', name: 'x' }));
    for (const entity of [...catalog.ids().map((id) => catalog.get(id)), wide()]) {
      const table = { catalog: 'main', schema: 'layout', name: entity.id };
      await wh.session.execute(createCurrentTableSql(entity, table));
      await wh.session.execute(createHistoryTableSql(entity, table));
      const stats = statsColumns(entity);
      expect(stats.length).toBeLessThanOrEqual(32);
      expect(stats).toEqual(expect.arrayContaining([...currentClusteringKeys(entity), '_record_key']));
      const described = await wh.warehouse.query(`DESCRIBE TABLE main.layout.${entity.id}_history`);
      expect(described.at(-1)).toMatchObject({ col_name: '_record_key' });
    }
    const positionOfKey = tableColumns(wide()).findIndex((c) => c.name === '_record_key');
    expect(positionOfKey).toBeGreaterThan(32);
  });

  it('would be refused without the statistics columns: the check the emulator now makes bites', async () => {
    const entity = wide();
    const table = { catalog: 'main', schema: 'layout', name: 'old_style' };
    const oldStyle = createHistoryTableSql(entity, table).replace(/TBLPROPERTIES \(.*\)$/, '');
    await expect(wh.session.execute(oldStyle)).rejects.toThrow(/DELTA_CLUSTERING_COLUMN_MISSING_STATS/);
  });

  it('brings a table made by an earlier version in line: statistics columns set, rows kept', async () => {
    const entity = catalog.get('suppliers');
    const table = { catalog: 'main', schema: 'layout_old', name: 'suppliers' };
    await wh.session.execute(createSchemaSql(table));
    // As the earlier loader created them (narrow enough then for the default first-32 rule).
    for (const [suffix, cluster] of [['', 'suno'], ['_history', '_record_key']] as const) {
      const columns = tableColumns(entity).map((c) => `\`${c.name}\` ${c.type}`).join(', ');
      await wh.session.execute(`CREATE TABLE main.layout_old.suppliers${suffix} (${columns}) USING DELTA CLUSTER BY (\`${cluster}\`) TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')`);
    }
    const store = new LocalFolderBlobStore(await mkdtemp(path.join(tmpdir(), 'layout-')));
    const blank = Object.fromEntries(entity.fields.map((f) => [f.name, f.type === 'A' ? '' : '0']));
    await stageRecords(store, 'u', entity, [{ ...blank, CONO: '100', SUNO: 'S1', SUNM: 'One' }], { runId: 'r', runStartedAt: '2026-11-20T02:00:00.000Z' });
    expectLoaded(await loadTable({ tenant: 'ACME_PRD', entity, table, units: [{ unitId: 'u', unitPrefix: 'u' }], runId: 'r', store, warehouse: wh.session }));
    for (const suffix of ['', '_history']) {
      const [row] = await wh.warehouse.query(`SHOW TBLPROPERTIES main.layout_old.suppliers${suffix} ('delta.dataSkippingStatsColumns')`);
      expect(String(row!.value).split(',')).toEqual(statsColumns(entity));
    }
    expect(await wh.warehouse.query('SELECT suno FROM main.layout_old.suppliers')).toEqual([{ suno: 'S1' }]);
  });
});
