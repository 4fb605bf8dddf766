// The RefreshMarts step against the warehouse emulator (through the real driver): marts whose tables exist are
// created, the others skipped with the table they wait for; per-company tables are named as the reason; a mart the
// warehouse refuses and an unreachable warehouse are reported in the result, never thrown (the data is committed).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runLocalSync } from '../../infra/local/runLocalSync.ts';
import { defaultCatalog } from '#shared/catalog/defaultCatalog.ts';
import { createCurrentTableSql, createSchemaSql } from '#shared/load/loadSql.ts';
import type { WarehouseSession } from '#shared/load/loadTypes.ts';
import { refreshMarts } from '#shared/pipeline/refreshMarts.ts';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import type { PlanStore, RunPlan } from '#shared/pipeline/runPlan.ts';
import { capturingLog } from '../support/cloudSuite.ts';
import { warehouseWithSession } from '../support/warehouse.ts';

type Warehouse = Awaited<ReturnType<typeof warehouseWithSession>>;

/** A plan with only what the step reads: its units' entities and target tables. */
function planOf(units: { entity: string; catalog?: string; schema?: string; name?: string }[]): PlanStore {
  const plan = {
    runId: 'run-1',
    warehouseSecretName: 'cloudsuite-sync/databricks',
    units: units.map((u) => ({ entity: u.entity, table: { catalog: u.catalog ?? 'main', schema: u.schema ?? 'fin', name: u.name ?? u.entity } })),
  } as unknown as RunPlan;
  return { get: async () => plan } as unknown as PlanStore;
}

const sessionOn = (wh: Warehouse): WarehouseSession => ({ execute: (...args) => wh.session.execute(...args), stats: wh.session.stats, close: async () => undefined });

describe('RefreshMarts', () => {
  let wh: Warehouse;
  let store: LocalFolderBlobStore;
  beforeEach(async () => {
    wh = await warehouseWithSession();
    store = new LocalFolderBlobStore(await mkdtemp(path.join(tmpdir(), 'refresh-marts-')));
    await wh.warehouse.query(createSchemaSql({ catalog: 'main', schema: 'fin', name: 'x' }));
  });
  afterEach(() => wh.close());

  const createTable = (entity: string, name = entity) => wh.warehouse.query(createCurrentTableSql(defaultCatalog.get(entity)!, { catalog: 'main', schema: 'fin', name }));

  it('creates the marts whose tables exist and skips the others, naming the table they wait for', async () => {
    await createTable('ap_ledger');
    const result = await refreshMarts({ plan: 'p' }, { plans: planOf([{ entity: 'ap_ledger' }, { entity: 'suppliers' }]), openWarehouse: async () => sessionOn(wh), log: capturingLog(), store });
    const [schema] = result.schemas;
    expect(schema).toMatchObject({ schema: 'main.fin', created: ['ap_open_items', 'ap_aging', 'supplier_spend'], failed: [] });
    expect(schema!.unbalancedVouchers).toBeUndefined();
    expect(schema!.skipped.map((s) => [s.mart, s.reason])).toEqual([
      ['gl_trial_balance', 'table main.fin.gl_transactions does not exist yet (gl_transactions not synced)'],
      ['gl_unbalanced_vouchers', 'table main.fin.gl_transactions does not exist yet (gl_transactions not synced)'],
      ['po_invoice_match', 'table main.fin.purchase_order_lines does not exist yet (purchase_order_lines not synced)'],
      ['supplier_delivery_performance', 'table main.fin.purchase_order_lines does not exist yet (purchase_order_lines not synced)'],
    ]);
    expect(await wh.warehouse.query('SELECT * FROM main.fin.ap_aging')).toEqual([]);
  });

  it('reads a table under its configured name, and skips an entity loaded into one table per company', async () => {
    await createTable('gl_transactions', 'gl_lines');
    await createTable('purchase_order_lines', 'purchase_order_lines_100');
    await createTable('purchase_order_lines', 'purchase_order_lines_200');
    const plans = planOf([
      { entity: 'gl_transactions', name: 'gl_lines' },
      { entity: 'purchase_order_lines', name: 'purchase_order_lines_100' },
      { entity: 'purchase_order_lines', name: 'purchase_order_lines_200' },
    ]);
    const [schema] = (await refreshMarts({ plan: 'p' }, { plans, openWarehouse: async () => sessionOn(wh), log: capturingLog(), store })).schemas;
    expect(schema!.created).toEqual(['gl_trial_balance', 'gl_unbalanced_vouchers']);
    expect(schema!.unbalancedVouchers).toBe(0);
    expect(schema!.skipped.find((s) => s.mart === 'supplier_delivery_performance')?.reason).toBe(
      'purchase_order_lines is loaded into one table per company here; the marts read one table per entity',
    );
  });

  it('reports a mart the warehouse refuses, and an unreachable warehouse, without throwing', async () => {
    await createTable('ap_ledger');
    // A table (not a view) in the mart's place: CREATE OR REPLACE VIEW cannot replace it.
    await wh.warehouse.query('CREATE TABLE main.fin.ap_open_items (x STRING)');
    const log = capturingLog();
    const [schema] = (await refreshMarts({ plan: 'p' }, { plans: planOf([{ entity: 'ap_ledger' }]), openWarehouse: async () => sessionOn(wh), log, store })).schemas;
    expect(schema!.created).toEqual(['supplier_spend']);
    expect(schema!.failed.map((f) => f.mart)).toEqual(['ap_open_items']);
    expect(schema!.skipped.find((s) => s.mart === 'ap_aging')?.reason).toBe('it reads ap_open_items, which was not created');

    const unreachable = await refreshMarts(
      { plan: 'p' },
      { plans: planOf([{ entity: 'ap_ledger' }]), openWarehouse: async () => Promise.reject(new Error('connect ECONNREFUSED')), log, store },
    );
    expect(unreachable.schemas[0]!.created).toEqual([]);
    expect(unreachable.schemas[0]!.failed[0]!.error).toMatch(/could not be reached \(connect ECONNREFUSED\); the data is committed/);
  });
});

describe('RefreshMarts in the state machine', () => {
  it('lets the run finish and succeed when the step itself fails for good: the loaded data stays committed', async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), 'marts-failing-'));
    let calls = 0;
    const result = await runLocalSync(
      { stateDir, flows: ['suppliers'], companies: ['100'], progress: () => undefined, log: capturingLog() },
      {
        wrapTask: (state, handler) =>
          state !== 'RefreshMarts'
            ? handler
            : async () => {
                calls += 1;
                throw Object.assign(new Error('the Lambda ran out of memory'), { name: 'Runtime.OutOfMemory' });
              },
      },
    );
    expect(calls).toBe(1);
    expect(result.status).toBe('succeeded');
    expect(result.units.map((u) => [u.unitId, u.status])).toEqual([['suppliers/100', 'committed']]);
    expect(result.marts).toBeUndefined();
    expect(result.events.some((e) => JSON.stringify(e).includes('MartsNotRefreshed'))).toBe(true);
  }, 120_000);
});
