// `check --round-trip`: the loader against the warehouse it will really write to, before the first
// deploy. A handful of supplier invoices with the values that break loaders (amounts beyond 2^53 cents,
// negative and zero amounts, 18-digit change stamps, Unicode, quotes, backslashes, SQL in text, no date)
// go through the real staging and loadTable into two probe tables; every typed column is read back as
// text and compared exactly with what M3 sent; a second load of the same unit must change nothing;
// the probe tables are dropped whatever happened.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultCatalog } from '../../shared/catalog/defaultCatalog.ts';
import { sourceCallOf } from '../../shared/extract/extractUnit.ts';
import { UnitStager } from '../../shared/staging/unitStager.ts';
import type { MiRecord } from '../../shared/m3/miTypes.ts';
import { quote } from '../../shared/load/identifiers.ts';
import { HISTORY_SUFFIX } from '../../shared/load/loadSql.ts';
import { expectLoaded, loadTable } from '../../shared/load/loadTable.ts';
import type { TargetTable, WarehouseSession } from '../../shared/load/loadTypes.ts';
import { canonicalDecimal } from '../../shared/load/stagedRowEncoder.ts';
import { fieldColumns } from '../../shared/load/tableColumns.ts';
import { LocalFolderBlobStore } from '../../shared/staging/localFolderBlobStore.ts';

export const ROUND_TRIP_TABLE = '_cloudsuite_sync_probe_invoices';

const entity = defaultCatalog.get('supplier_invoices')!;

/** The invoices to send: each row carries some value a careless loader would bend. */
export function roundTripRecords(): MiRecord[] {
  const blank: MiRecord = Object.fromEntries(entity.fields.map((f) => [f.name, f.type === 'A' ? '' : '0']));
  const invoice = (inbn: string, values: Partial<MiRecord>): MiRecord => ({
    ...blank, CONO: '100', DIVI: 'A01', INBN: inbn, SUNO: 'PROBE', IVDT: '20261101', CUCD: 'SEK', LMDT: '20261101', CHNO: '1',
    LMTS: '202611010800000001', ...values,
  });
  return [
    invoice('1', { CUAM: '123456789012345.67', VTAM: '-0.05', ARAT: '10.123456', SINO: 'beyond 2^53 cents' }),
    invoice('2', { CUAM: '-99999999999999.99', VTAM: '0.00', LMTS: '987654321098765432', SINO: '18-digit LMTS' }),
    invoice('3', { CUAM: '0.10', TX40: 'Åsa\'s "AB" \\ back; 株式会社 😀', SINO: 'Unicode, quotes' }),
    invoice('4', { CUAM: '100', TX40: "'; DROP TABLE x; --", DUDT: '0', ACDT: '', SINO: 'SQL in text, no dates' }),
    invoice('5', { DIVI: '', CUAM: '1.00', SINO: 'blank division' }),
  ];
}

/** What the warehouse should print for a field: decimals without insignificant zeros, dates as ISO. */
function expected(type: 'A' | 'N' | 'D', raw: string): string | null {
  if (type === 'A') return raw;
  if (type === 'N') return raw.trim() === '' ? null : (canonicalDecimal(raw) ?? `not a number: ${raw}`);
  const v = raw.trim();
  return v === '' || /^0+$/.test(v) ? null : `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}`;
}

function printed(type: 'A' | 'N' | 'D', value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value);
  return type === 'N' ? (canonicalDecimal(text) ?? text) : type === 'D' ? text.slice(0, 10) : text;
}

/** Runs the round trip; answers a one-line summary, or throws naming the first difference. */
export async function warehouseRoundTrip(wh: WarehouseSession, catalog: string, schema: string): Promise<string> {
  const table: TargetTable = { catalog, schema, name: ROUND_TRIP_TABLE };
  const qualified = `${quote(catalog)}.${quote(schema)}.${quote(ROUND_TRIP_TABLE)}`;
  const folder = await mkdtemp(path.join(tmpdir(), 'cloudsuite-sync-round-trip-'));
  const records = roundTripRecords();
  try {
    const store = new LocalFolderBlobStore(folder);
    const runId = 'round-trip';
    const stager = new UnitStager(
      { tenant: 'ROUND_TRIP', entity, company: '100', division: '', runId, runStartedAt: new Date().toISOString() },
      store, 'unit', sourceCallOf(entity), 1_000,
    );
    await stager.add(records);
    await stager.complete({ since: null, until: null });
    const load = async () => expectLoaded(await loadTable({ tenant: 'ROUND_TRIP', entity, table, units: [{ unitId: 'round-trip/100', unitPrefix: 'unit' }], runId, store, warehouse: wh }));

    const first = await load();
    if (first.currentInserted !== records.length || first.historyInserted !== records.length) {
      throw new Error(`the first load inserted ${first.currentInserted} current and ${first.historyInserted} history rows, expected ${records.length} each`);
    }
    const columns = fieldColumns(entity);
    const rows = await wh.execute(
      `SELECT ${columns.map((c) => `CAST(${quote(c.name)} AS STRING) AS ${quote(c.name)}`).join(', ')}, \`_record\` FROM ${qualified} ORDER BY inbn`,
    );
    if (rows.length !== records.length) throw new Error(`read back ${rows.length} rows, expected ${records.length}`);
    records.forEach((record, i) => {
      const row = rows[i]!;
      for (const column of columns) {
        const type = column.field!.type;
        const want = expected(type, record[column.field!.name] ?? '');
        const got = printed(type, row[column.name]);
        if (want !== got) throw new Error(`invoice ${record.INBN}: ${column.name} came back as ${JSON.stringify(got)}, sent ${JSON.stringify(want)}`);
      }
      const sent = JSON.stringify(Object.fromEntries(entity.fields.map((f) => [f.name, record[f.name] ?? ''])));
      if (row._record !== sent) throw new Error(`invoice ${record.INBN}: the raw record came back changed`);
    });

    const again = await load();
    if (again.currentInserted + again.currentUpdated + again.historyInserted + again.currentSoftDeleted !== 0) {
      throw new Error(`loading the same unit again changed rows (+${again.currentInserted} ~${again.currentUpdated} history +${again.historyInserted}); loads would not be idempotent`);
    }
    return `${records.length} invoices (amounts beyond 2^53 cents, negatives, 18-digit stamps, Unicode, quotes, SQL in text) read back exactly; a second load changed nothing (${first.statements + again.statements} statements)`;
  } finally {
    await wh.execute(`DROP TABLE IF EXISTS ${qualified}`).catch(() => undefined);
    await wh.execute(`DROP TABLE IF EXISTS ${quote(catalog)}.${quote(schema)}.${quote(`${ROUND_TRIP_TABLE}${HISTORY_SUFFIX}`)}`).catch(() => undefined);
    await rm(folder, { recursive: true, force: true });
  }
}
