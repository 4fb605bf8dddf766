// Copy mode (COPY INTO from the staged files in S3) against merge mode (bound JSON batches): the same tables, row
// for row and field for field, for every default entity; the same accept/reject decision on every value, with
// the check in SQL naming the key and field; a few statements per load whatever the volume.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { s3ObjectStorage } from '#emulators/databricks/index.ts';
import { S3BlobStore } from '#shared/aws/s3BlobStore.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import { extractEntityForCompany } from '#shared/extract/extractEntity.ts';
import { finishDeferredLoads, readFinishedLoads } from '#shared/load/controlTotalsWriter.ts';
import { expectLoaded, loadTable } from '#shared/load/loadTable.ts';
import { Deadline } from '#shared/runtime/deadline.ts';
import type { LoadMode, TargetTable } from '#shared/load/loadTypes.ts';
import { tableColumns } from '#shared/load/tableColumns.ts';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import type { MiRecord } from '#shared/m3/miTypes.ts';
import { startS3rver, type S3Emulator } from '../support/awsEmulators.ts';
import { capturingLog, connectTo } from '../support/cloudSuite.ts';
import { stageRecords, warehouseWithSession } from '../support/warehouse.ts';

const catalog = EntityCatalog.withDefaults();
let s3: S3Emulator;
let store: S3BlobStore;
let cloudsuite: CloudSuiteEmulator;
let wh: Awaited<ReturnType<typeof warehouseWithSession>>;
let bucket: string;

beforeAll(async () => {
  s3 = await startS3rver();
  bucket = await s3.createBucket();
  store = new S3BlobStore({ client: s3.s3, bucket });
  cloudsuite = await startCloudSuiteEmulator({ seed: 7 });
  wh = await warehouseWithSession({ storage: { objects: s3ObjectStorage(s3.s3), externalLocations: [`s3://${bucket}/runs`] } });
});
afterAll(async () => {
  await wh?.close();
  await cloudsuite?.close();
  await s3?.close();
});

const load = (entityId: string, table: TargetTable, units: { unitId: string; unitPrefix: string }[], mode: LoadMode, runId = 'r1') =>
  loadTable({ tenant: cloudsuite.tenant, entity: catalog.get(entityId), table, units, runId, store, warehouse: wh.session, mode });

/** Every column but _loaded_at (the time of each load), as text, in key order. */
async function rowsOf(entityId: string, name: string): Promise<Record<string, unknown>[]> {
  const columns = tableColumns(catalog.get(entityId)).filter((c) => c.name !== '_loaded_at');
  return wh.warehouse.query(`SELECT ${columns.map((c) => `CAST(\`${c.name}\` AS STRING) AS \`${c.name}\``).join(', ')} FROM ${name} ORDER BY _tenant, _record_key, _record_hash`);
}

describe('copy mode', () => {
  it('loads every default entity with the same result as merge mode, row for row and field for field', async () => {
    const { mi } = connectTo(cloudsuite);
    for (const entityId of catalog.ids()) {
      const entity = catalog.get(entityId);
      const units = [];
      for (const company of ['100', '200']) {
        const extracted = await extractEntityForCompany({
          tenant: cloudsuite.tenant, entity, company, window: { since: null, until: null }, runId: 'r1', runStartedAt: '2026-11-20T02:00:00.000Z',
          mi, store, prefix: `runs/ACME/r1/${entityId}/${company}`,
        });
        units.push(...extracted.map((u) => ({ unitId: `${entityId}/${company}${u.division ? `/${u.division}` : ''}`, unitPrefix: u.unitPrefix })));
      }
      const merged = expectLoaded(await load(entityId, { catalog: 'main', schema: 'by_merge', name: entityId }, units, 'merge'));
      const before = wh.warehouse.statements.length;
      const copied = expectLoaded(await load(entityId, { catalog: 'main', schema: 'by_copy', name: entityId }, units, 'copy'));
      const statements = wh.warehouse.statements.slice(before);
      expect(statements.filter((s) => s.sql.startsWith('INSERT'))).toEqual([]);
      // One COPY INTO per unit with records (each well under 20 part files), whatever its volume.
      const copies = statements.filter((s) => s.sql.startsWith('COPY INTO')).length;
      expect(copies).toBeGreaterThan(0);
      expect(copies).toBeLessThanOrEqual(units.length);
      expect(copied).toMatchObject({ currentInserted: merged.currentInserted, historyInserted: merged.historyInserted, units: merged.units });
      for (const suffix of ['', '_history']) {
        const byMerge = await rowsOf(entityId, `main.by_merge.${entityId}${suffix}`);
        expect(byMerge.length, `${entityId}${suffix}`).toBeGreaterThan(0);
        expect(await rowsOf(entityId, `main.by_copy.${entityId}${suffix}`), `${entityId}${suffix}`).toEqual(byMerge);
      }
    }
  }, 180_000); // every entity, extracted and loaded twice: about 25 s alone

  it('refuses a store the warehouse cannot read', async () => {
    const local = new LocalFolderBlobStore('/tmp/nowhere-copy-mode');
    await expect(
      loadTable({ tenant: 'ACME_PRD', entity: catalog.get('suppliers'), table: { catalog: 'main', schema: 'x', name: 'y' }, units: [], runId: 'r', store: local, warehouse: wh.session, mode: 'copy' }),
    ).rejects.toThrow(/loadMode "copy" needs staged files the warehouse can read/);
  });
});

describe('statements per copy-mode load', () => {
  it('a steady-state load (tables there, shape unchanged, looked at today) sends a fixed handful of statements, one COPY INTO per 20 part files', async () => {
    const remembering = await warehouseWithSession(
      { storage: { objects: s3ObjectStorage(s3.s3), externalLocations: [`s3://${bucket}/runs`] } },
      { workspace: 'copy-mode.test' },
    );
    try {
      const invoices = catalog.get('supplier_invoices');
      const records = Array.from({ length: 45 }, (_, i) => ({
        ...Object.fromEntries(invoices.fields.map((f) => [f.name, f.type === 'A' ? '' : '0'])),
        CONO: '100', DIVI: 'A01', INBN: String(i + 1), SUNO: 'S1', IVDT: '20261101', CUAM: '10.00', LMDT: '20261101', CHNO: '1', LMTS: '202611010800000001',
      }));
      // 45 part files of one record: 3 COPY INTO statements.
      await stageRecords(store, 'runs/ACME/steady/u1', invoices, records, { runId: 'steady', runStartedAt: '2026-11-20T00:00:00.000Z', recordsPerPart: 1 });
      const table = { catalog: 'main', schema: 'steady_copy', name: 'supplier_invoices' };
      const since = (before: number) => remembering.warehouse.statements.slice(before).map((s) => s.sql.split(/\s+/).slice(0, 2).join(' '));
      const once = async (controlTotals: 'write' | 'defer' = 'write', unitId = 'u1') => {
        const before = remembering.warehouse.statements.length;
        const result = expectLoaded(await loadTable({
          tenant: 'ACME_PRD', entity: invoices, table, units: [{ unitId, unitPrefix: 'runs/ACME/steady/u1' }], runId: 'steady', store, warehouse: remembering.session, mode: 'copy', controlTotals,
        }));
        return { result, kinds: since(before) };
      };
      const first = await once();
      expect(first.result.currentInserted).toBe(45);
      const steady = await once();
      expect(steady.result).toMatchObject({ currentInserted: 0, historyInserted: 0, statements: steady.kinds.length });
      const copies = steady.kinds.filter((k) => k === 'COPY INTO').length;
      expect(copies).toBe(3);
      // Writing its own control totals (the CLI): working table, one check, the two MERGEs, the control totals (read, write), drop.
      expect(steady.kinds.filter((k) => k !== 'COPY INTO')).toEqual([
        'CREATE OR', 'SELECT \'totals\'', 'MERGE INTO', 'MERGE INTO', 'SELECT k.`_unit`', 'MERGE INTO', 'DROP TABLE',
      ]);
      expect(steady.kinds.length - copies).toBe(7);

      // As the pipeline loads: the control totals and the drop are left to RefreshMarts, four statements besides the COPY INTOs.
      const deferred = await once('defer', 'u1-deferred');
      expect(deferred.kinds.filter((k) => k !== 'COPY INTO')).toEqual(['CREATE OR', 'SELECT \'totals\'', 'MERGE INTO', 'MERGE INTO']);
      expect(deferred.result.statements).toBe(4 + copies);
      const totalsOf = async (unit: string) =>
        (await remembering.warehouse.query(`SELECT period, field, staged_total, loaded_total, current_total FROM main.steady_copy._sync_control_totals WHERE unit_id = '${unit}' ORDER BY period, field`));
      expect(await totalsOf('u1-deferred')).toEqual([]);
      const log = capturingLog();
      const finished = await readFinishedLoads(store, remembering.session.workspace, table, log);
      expect(finished).toHaveLength(1);
      const tables = new Set((await remembering.warehouse.query('SHOW TABLES IN main.steady_copy')).map((r) => String(r.tableName)));
      const before = remembering.warehouse.statements.length;
      expect(await finishDeferredLoads(remembering.session, store, finished, tables, Deadline.none(), log)).toEqual({ loads: 1, statements: 3, withoutCurrentTotals: 0 });
      expect(since(before)).toEqual(['SELECT k.`_unit`', 'MERGE INTO', 'DROP TABLE']);
      // The same rows as a load writing its own, and nothing left behind.
      expect(await totalsOf('u1-deferred')).toEqual(await totalsOf('u1'));
      expect((await totalsOf('u1')).length).toBeGreaterThan(1);
      expect(await readFinishedLoads(store, remembering.session.workspace, table, log)).toEqual([]);
      expect([...tables].filter((n) => n.includes('__ld'))).toHaveLength(1);
      expect((await remembering.warehouse.query('SHOW TABLES IN main.steady_copy')).map((r) => String(r.tableName)).filter((n) => n.includes('__ld'))).toEqual([]);
    } finally {
      await remembering.close();
    }
  }, 60_000);
});

describe('value checks in copy mode', () => {
  const invoices = catalog.get('supplier_invoices'); // CUAM N17.2, IVDT a date
  const blank: MiRecord = Object.fromEntries(invoices.fields.map((f) => [f.name, f.type === 'A' ? '' : '0']));
  const invoice = (values: Partial<MiRecord>): MiRecord => ({
    ...blank, CONO: '100', DIVI: 'A01', INBN: '1', SUNO: 'S1', IVDT: '20261101', LMDT: '20261101', CHNO: '1', LMTS: '202611010800000001', ...values,
  });
  const cases: [string, Partial<MiRecord>][] = [
    ['leading zeros and a trailing dot', { CUAM: '0100.' }],
    ['padded', { CUAM: '  12.50 ' }],
    ['only a fraction', { CUAM: '.5' }],
    ['negative zero with zeros', { CUAM: '-0.000' }],
    ['beyond 2^53 cents', { CUAM: '1234567890123.45' }],
    ['letters', { CUAM: '12a' }],
    ['a third decimal', { CUAM: '1.005' }],
    ['too many integer digits', { CUAM: '1234567890123456.00' }],
    ['a lone minus', { CUAM: '-' }],
    ['February 30th', { IVDT: '20240230' }],
    ['a date with seven digits', { IVDT: '2024023' }],
    ['a zero date', { IVDT: '00000000' }],
  ];

  it('accepts and refuses exactly what merge mode does, naming the key and field of a refused value', async () => {
    let n = 0;
    const refusedLabels: string[] = [];
    for (const [label, values] of cases) {
      n += 1;
      const prefix = `runs/ACME/checks/${n}`;
      await stageRecords(store, prefix, invoices, [invoice(values)], { runId: `c${n}`, runStartedAt: '2026-11-20T00:00:00.000Z' });
      const outcome = async (mode: LoadMode) => {
        try {
          expectLoaded(await loadTable({ tenant: 'ACME_PRD', entity: invoices, table: { catalog: 'main', schema: `check_${mode}`, name: `t${n}` }, units: [{ unitId: `u${n}`, unitPrefix: prefix }], runId: `c${n}`, store, warehouse: wh.session, mode }));
          const [row] = await wh.warehouse.query(`SELECT CAST(cuam AS STRING) AS cuam, CAST(ivdt AS STRING) AS ivdt FROM main.check_${mode}.t${n}`);
          return { loaded: row };
        } catch (error) {
          return { refused: (error as Error).message };
        }
      };
      const [merge, copy] = [await outcome('merge'), await outcome('copy')];
      expect('loaded' in copy, label).toBe('loaded' in merge);
      if ('loaded' in merge) expect(copy, label).toEqual(merge);
      else {
        refusedLabels.push(label);
        const field = Object.keys(values)[0]!;
        expect(copy.refused, label).toMatch(new RegExp(`USER_RAISED_EXCEPTION.*supplier_invoices \\["100","A01","1"\\]: field ${field} has value`));
        expect(merge.refused, label).toMatch(new RegExp(`field ${field} has value`));
        // Nothing of the refused load reached the target, and its working table is gone.
        expect(await wh.warehouse.query(`SHOW TABLES IN main.check_copy LIKE 't${n}*'`), label).toEqual([
          { database: 'check_copy', tableName: `t${n}`, isTemporary: false },
          { database: 'check_copy', tableName: `t${n}_history`, isTemporary: false },
          { database: 'check_copy', tableName: `t${n}_v`, isTemporary: false },
        ]);
        expect(await wh.warehouse.query(`SELECT count(*) AS n FROM main.check_copy.t${n}`), label).toEqual([{ n: 0n }]);
      }
    }
    expect(refusedLabels).toEqual(['letters', 'a third decimal', 'too many integer digits', 'a lone minus', 'February 30th', 'a date with seven digits']);
  });
});
