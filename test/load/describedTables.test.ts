// Tables that describe themselves and business-named views, loaded through the real driver into the warehouse
// emulator: every column of every default table (current and history) has a comment, each table names its
// M3 source, the view `<table>_v` shows live rows under business names, and reruns change nothing.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import type { EntityDefinition } from '#shared/catalog/entityDefinition.ts';
import type { MiRecord } from '#shared/m3/miTypes.ts';
import { businessViewColumns } from '#shared/load/businessView.ts';
import { createCurrentTableSql, createSchemaSql } from '#shared/load/loadSql.ts';
import { expectLoaded, loadTable } from '#shared/load/loadTable.ts';
import type { TargetTable, WarehouseSession } from '#shared/load/loadTypes.ts';
import { tableColumns } from '#shared/load/tableColumns.ts';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import { stageRecords, warehouseWithSession } from '../support/warehouse.ts';

const catalog = EntityCatalog.withDefaults();
let wh: Awaited<ReturnType<typeof warehouseWithSession>>;
let store: LocalFolderBlobStore;
beforeAll(async () => {
  wh = await warehouseWithSession();
  store = new LocalFolderBlobStore(await mkdtemp(path.join(tmpdir(), 'described-')));
});
afterAll(() => wh.close());

/** The statements a load sends, through the real session (a recorder, not a mock). */
function recording(session: WarehouseSession): { session: WarehouseSession; statements: string[] } {
  const statements: string[] = [];
  return {
    statements,
    session: {
      execute: (sql, params, options) => {
        statements.push(sql);
        return session.execute(sql, params, options);
      },
      get stats() {
        return session.stats;
      },
      close: () => session.close(),
    },
  };
}

function record(entity: EntityDefinition, values: Partial<MiRecord> = {}): MiRecord {
  const base: MiRecord = Object.fromEntries(entity.fields.map((f) => [f.name, f.type === 'A' ? 'X1' : f.type === 'D' ? '20261105' : '1']));
  return { ...base, CONO: '100', ...(entity.fields.some((f) => f.name === 'DIVI') ? { DIVI: 'A01' } : {}), ...values };
}

let run = 0;
async function load(entity: EntityDefinition, table: TargetTable, records: MiRecord[], session: WarehouseSession = wh.session) {
  run += 1;
  const prefix = `r${run}/${entity.id}`;
  await stageRecords(store, prefix, entity, records, { runId: `r${run}`, runStartedAt: `2026-11-20T02:00:${String(run % 60).padStart(2, '0')}.000Z`, division: entity.scope === 'division' ? 'A01' : '' });
  return expectLoaded(await loadTable({ tenant: 'ACME_PRD', entity, table, units: [{ unitId: `u${run}`, unitPrefix: prefix }], runId: `r${run}`, store, warehouse: session }));
}

const describeRows = (name: string) => wh.warehouse.query(`DESCRIBE TABLE ${name}`);
/** The column rows of DESCRIBE TABLE: up to the first section (`# Clustering Information`). */
async function columnsOf(name: string) {
  const rows = await describeRows(name);
  const end = rows.findIndex((r) => !r.col_name || String(r.col_name).startsWith('#'));
  return end === -1 ? rows : rows.slice(0, end);
}
const tableCommentOf = async (t: TargetTable, name: string) =>
  (await wh.warehouse.query(`SELECT comment FROM ${t.catalog}.information_schema.tables WHERE table_schema = '${t.schema}' AND table_name = '${name}'`))[0]?.comment;

describe('tables that describe themselves', () => {
  it('gives every column of every default table, current and history, a comment, and each table one naming its M3 source', async () => {
    for (const id of catalog.ids()) {
      const entity = catalog.get(id);
      const table = { catalog: 'main', schema: 'described', name: id };
      await load(entity, table, [record(entity)]);
      for (const suffix of ['', '_history']) {
        const columns = await columnsOf(`main.described.${id}${suffix}`);
        expect(columns.length).toBe(tableColumns(entity).length);
        const uncommented = columns.filter((c) => typeof c.comment !== 'string' || c.comment.trim() === '').map((c) => c.col_name);
        expect(uncommented, `${id}${suffix}`).toEqual([]);
        const comment = String(await tableCommentOf(table, `${id}${suffix}`));
        expect(comment).toContain(entity.source.kind === 'exportmi' ? entity.source.table : `${entity.source.program}/${entity.source.transaction}`);
        expect(comment).toContain(`key ${entity.key.join(', ')}`);
        expect(comment).toContain(entity.strategy);
      }
    }
    const invoices = await columnsOf('main.described.supplier_invoices');
    expect(invoices.find((c) => c.col_name === 'cuam')?.comment).toMatch(/^Amount in foreign \(transaction\) currency\. \[M3 FAPIBH\.E5CUAM, N17\.2\]$/);
    expect(invoices.find((c) => c.col_name === '_deleted_at')?.comment).toMatch(/NULL for a live row/);
    const ledger = await columnsOf('main.described.ap_ledger');
    expect(ledger.find((c) => c.col_name === 'trcd')?.comment).toContain('Codes: 40 = supplier invoice, 50 = payment');
  });

  it("shows the tenant's own M3 text after the catalog's, and keeps comments in step without rewriting data", async () => {
    const base = catalog.get('supplier_invoices');
    const table = { catalog: 'main', schema: 'described_tenant', name: 'supplier_invoices' };
    const withText = (text: string): EntityDefinition => ({ ...base, fields: base.fields.map((f) => (f.name === 'SPYN' ? { ...f, tenantDescription: text } : f)) });
    await load(withText('Payee'), table, [record(base, { INBN: '1' })]);
    expect((await columnsOf('main.described_tenant.supplier_invoices')).find((c) => c.col_name === 'spyn')?.comment).toMatch(/^Payee \(the supplier paid\)\./);
    const before = await wh.warehouse.query('SELECT * FROM main.described_tenant.supplier_invoices');

    const rec = recording(wh.session);
    await load(withText('Payee number'), table, [record(base, { INBN: '1' })], rec.session);
    expect((await columnsOf('main.described_tenant.supplier_invoices')).find((c) => c.col_name === 'spyn')?.comment).toMatch(/^Payee \(the supplier paid\)\. M3: "Payee number"\. \[M3 FAPIBH\.E5SPYN, A10\]$/);
    expect((await columnsOf('main.described_tenant.supplier_invoices_history')).find((c) => c.col_name === 'spyn')?.comment).toMatch(/M3: "Payee number"/);
    // One column changed: one ALTER COLUMN per table, no other column touched, no data rewritten.
    expect(rec.statements.filter((s) => /ALTER COLUMN/.test(s))).toHaveLength(2);
    expect(rec.statements.filter((s) => /ALTER COLUMN/.test(s)).every((s) => s.includes('`spyn`'))).toBe(true);
    expect(await wh.warehouse.query('SELECT * FROM main.described_tenant.supplier_invoices')).toEqual(before);
  });

  it('describes a table made before comments existed, and the columns a schema change adds', async () => {
    const entity = catalog.get('suppliers');
    const table = { catalog: 'main', schema: 'described_old', name: 'suppliers' };
    await wh.session.execute(createSchemaSql(table));
    const undescribed = createCurrentTableSql({ ...entity, fields: entity.fields.slice(0, -1) }, table)
      .replace(/ COMMENT '(?:[^'\\]|\\.)*'/g, '')
      .replace(/, 'cloudsuite_sync\.table_comment' = '[0-9a-f]+'/, '');
    await wh.session.execute(undescribed);
    expect((await columnsOf('main.described_old.suppliers')).every((c) => c.comment === null)).toBe(true);
    await load(entity, table, [record(entity, { SUNO: 'S1' })]);
    const columns = await columnsOf('main.described_old.suppliers');
    expect(columns.map((c) => c.col_name)).toContain(entity.fields.at(-1)!.name.toLowerCase());
    expect(columns.filter((c) => !c.comment)).toEqual([]);
    expect(await tableCommentOf(table, 'suppliers')).toMatch(/^Supplier master/);
  });
});

describe('business-named views', () => {
  it('shows live rows only, under business names, with the meaning of fixed M3 codes beside them', async () => {
    const invoices = catalog.get('supplier_invoices');
    const table = { catalog: 'main', schema: 'views', name: 'supplier_invoices' };
    await load(invoices, table, [
      record(invoices, { INBN: '1', SUNO: 'S0001', SINO: 'INV-1', IVDT: '20261101', DUDT: '20261201', CUAM: '1234.50', CUCD: 'EUR' }),
      record(invoices, { INBN: '2', CUAM: '10.00' }),
    ]);
    await wh.warehouse.query("UPDATE main.views.supplier_invoices SET _deleted_at = TIMESTAMP '2026-11-21 00:00:00' WHERE inbn = 2");
    const rows = await wh.warehouse.query('SELECT * FROM main.views.supplier_invoices_v');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      company: 100n, division: 'A01', invoice_batch_number: 1n, supplier_number: 'S0001', invoice_number: 'INV-1', amount_fc: '1234.50', currency: 'EUR', source_tenant: 'ACME_PRD',
    });
    expect(String(rows[0]!.invoice_date)).toContain('2026-11-01');
    expect(String(rows[0]!.due_date)).toContain('2026-12-01');
    expect(Object.keys(rows[0]!)).toEqual(businessViewColumns(invoices).map(([, name]) => name));

    const ledger = catalog.get('ap_ledger');
    const ledgerTable = { catalog: 'main', schema: 'views', name: 'ap_ledger' };
    await load(ledger, ledgerTable, [record(ledger, { JRNO: '1', TRCD: '40' }), record(ledger, { JRNO: '2', TRCD: '50' }), record(ledger, { JRNO: '3', TRCD: '70' })]);
    const byJournal = await wh.warehouse.query('SELECT journal_number, transaction_code, transaction_code_meaning, payee FROM main.views.ap_ledger_v ORDER BY journal_number');
    expect(byJournal.map((r) => [r.transaction_code, r.transaction_code_meaning])).toEqual([[40n, 'supplier invoice'], [50n, 'payment'], [70n, null]]);
  });

  it('exists for every default entity after a load, and a rerun sends no DDL', async () => {
    for (const id of catalog.ids()) {
      const entity = catalog.get(id);
      const table = { catalog: 'main', schema: 'views_all', name: id };
      await load(entity, table, [record(entity)]);
      const rec = recording(wh.session);
      await load(entity, table, [record(entity)], rec.session);
      expect(rec.statements.filter((s) => /^(ALTER TABLE (?!.*__ld)|CREATE (OR REPLACE )?(TABLE|VIEW) (?!.*__ld)|COMMENT ON)/.test(s)), id).toEqual([]);
      const rows = await wh.warehouse.query(`SELECT * FROM main.views_all.${id}_v`);
      expect(rows.length, id).toBe(1);
    }
  });

  it('is replaced when its definition changes (a field added to the entity)', async () => {
    const base = catalog.get('purchase_agreements');
    const table = { catalog: 'main', schema: 'views_grow', name: 'purchase_agreements' };
    const fewer = { ...base, fields: base.fields.filter((f) => f.name !== 'TX30') };
    await load(fewer, table, [record(fewer, { SUNO: 'S1', AGNB: 'A1' })]);
    expect(Object.keys((await wh.warehouse.query('SELECT * FROM main.views_grow.purchase_agreements_v'))[0]!)).not.toContain('text');
    await load(base, table, [record(base, { SUNO: 'S1', AGNB: 'A1', TX30: 'Frame agreement' })]);
    expect(await wh.warehouse.query('SELECT agreement_number, text FROM main.views_grow.purchase_agreements_v')).toEqual([{ agreement_number: 'A1', text: 'Frame agreement' }]);
  });
});
