// `check --round-trip`: the loader against the warehouse it will really write to, before the first
// deploy. A handful of supplier invoices with the values that break loaders (amounts beyond 2^53 cents,
// negative and zero amounts, 18-digit change stamps, Unicode, quotes, backslashes, SQL in text, no date)
// go through the real staging and loadTable into two probe tables; every typed column is read back as
// text and compared exactly with what M3 sent; a second load of the same unit must change nothing;
// the probe tables are dropped whatever happened. Then a bulk of plain invoices as large as a load really sends:
// one full ~0.9 MiB JSON batch (merge mode) or one part file of several MiB read by COPY INTO (copy mode),
// whose count and amount total must come back exact. The time of every statement is reported.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultCatalog } from '../../shared/catalog/defaultCatalog.ts';
import { sourceCallOf } from '../../shared/extract/extractUnit.ts';
import { UnitStager } from '../../shared/staging/unitStager.ts';
import type { MiRecord } from '../../shared/m3/miTypes.ts';
import { quote } from '../../shared/load/identifiers.ts';
import { HISTORY_SUFFIX } from '../../shared/load/loadSql.ts';
import { VIEW_SUFFIX } from '../../shared/load/tableDescriptions.ts';
import { CONTROL_TOTALS_TABLE } from '../../shared/load/controlTotalsSql.ts';
import { expectLoaded, loadTable } from '../../shared/load/loadTable.ts';
import type { LoadMode, TargetTable, WarehouseSession } from '../../shared/load/loadTypes.ts';
import type { BlobStore } from '../../shared/staging/blobStore.ts';
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

/** Plain invoices in bulk, with amounts whose exact total the round trip checks. */
export function bulkRecords(count: number): MiRecord[] {
  const blank: MiRecord = Object.fromEntries(entity.fields.map((f) => [f.name, f.type === 'A' ? '' : '0']));
  return Array.from({ length: count }, (_, i) => ({
    ...blank, CONO: '100', DIVI: 'A01', INBN: String(1_000_000 + i), SUNO: `BULK${i % 97}`, SINO: `bulk invoice ${i}`, IVDT: '20261101', CUCD: 'SEK',
    CUAM: `${(i * 7919) % 1_000_000}.${String(i % 100).padStart(2, '0')}`, TX40: `Bulk line ${i} ${'x'.repeat(i % 40)}`, LMDT: '20261101', CHNO: '1',
    LMTS: `20261101${String(i).padStart(10, '0')}`,
  }));
}

/** Invoices a bulk must hold: one full JSON batch (merge), or a part file of several MiB (copy). */
export const BULK_RECORDS: Record<LoadMode, number> = { merge: 1_500, copy: 40_000 };

export interface RoundTripOptions {
  /** Default merge. Copy needs `store`: staging the warehouse can read (S3 under an external location). */
  mode?: LoadMode;
  store?: BlobStore;
  /** Invoices in the bulk load (default BULK_RECORDS[mode]; 0 skips it). */
  bulk?: number;
  /** Called with each statement's time, as it finishes. */
  onStatement?: (line: string) => void;
}

/** The session, reporting how long each statement took. */
function timed(wh: WarehouseSession, onStatement: ((line: string) => void) | undefined): WarehouseSession {
  if (!onStatement) return wh;
  return {
    get stats() {
      return wh.stats;
    },
    async execute(sql, params, options) {
      const started = performance.now();
      const bytes = Object.values(params ?? {}).reduce((n: number, v) => n + (typeof v === 'string' ? Buffer.byteLength(v) : 0), 0);
      try {
        return await wh.execute(sql, params, options);
      } finally {
        const what = sql.replace(/\s+/g, ' ').slice(0, 70);
        onStatement(`${(performance.now() - started).toFixed(0).padStart(6)} ms  ${bytes ? `${(bytes / 1024).toFixed(0).padStart(5)} KiB  ` : '           '}${what}`);
      }
    },
    close: () => wh.close(),
  };
}

/** Runs the round trip; answers a one-line summary, or throws naming the first difference. */
export async function warehouseRoundTrip(session: WarehouseSession, catalog: string, schema: string, options: RoundTripOptions = {}): Promise<string> {
  const mode = options.mode ?? 'merge';
  const wh = timed(session, options.onStatement);
  const table: TargetTable = { catalog, schema, name: ROUND_TRIP_TABLE };
  const qualified = `${quote(catalog)}.${quote(schema)}.${quote(ROUND_TRIP_TABLE)}`;
  const folder = await mkdtemp(path.join(tmpdir(), 'cloudsuite-sync-round-trip-'));
  const records = roundTripRecords();
  if (mode === 'copy' && !options.store?.warehouseUrl) throw new Error('a copy-mode round trip needs staging the warehouse can read: give --staging-url s3://…');
  try {
    const store = options.store ?? new LocalFolderBlobStore(folder);
    const runId = `round-trip-${Date.now()}`;
    const base = mode === 'copy' ? `runs/_cloudsuite_sync_round_trip/${runId}` : '';
    const stage = async (unit: string, rows: MiRecord[]) => {
      const stager = new UnitStager(
        { tenant: 'ROUND_TRIP', entity, company: '100', division: '', runId, runStartedAt: new Date().toISOString() },
        store, [base, unit].filter(Boolean).join('/'), sourceCallOf(entity), 50_000,
      );
      await stager.add(rows);
      await stager.complete({ since: null, until: null });
    };
    await stage('unit', records);
    const load = async (unit = 'unit') =>
      expectLoaded(await loadTable({ tenant: 'ROUND_TRIP', entity, table, units: [{ unitId: `round-trip/${unit}`, unitPrefix: [base, unit].filter(Boolean).join('/') }], runId, store, warehouse: wh, mode }));

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
    let bulkSummary = '';
    const bulkCount = options.bulk ?? BULK_RECORDS[mode];
    if (bulkCount > 0) {
      const bulk = bulkRecords(bulkCount);
      await stage('bulk', bulk);
      const started = performance.now();
      const loaded = await load('bulk');
      const seconds = (performance.now() - started) / 1000;
      const cents = bulk.reduce((n, r) => n + BigInt(r.CUAM!.replace('.', '')), 0n).toString().padStart(3, '0');
      const total = `${cents.slice(0, -2)}.${cents.slice(-2)}`;
      const [row] = await wh.execute(`SELECT count(*) AS n, CAST(sum(cuam) AS STRING) AS total FROM ${qualified} WHERE inbn >= '1000000'`);
      if (Number(row?.n) !== bulk.length || canonicalDecimal(String(row?.total)) !== canonicalDecimal(total)) {
        throw new Error(`the bulk load came back as ${String(row?.n)} invoices totalling ${String(row?.total)}, sent ${bulk.length} totalling ${total}`);
      }
      const size = mode === 'merge' ? `${(loaded.bytesSent / 2 ** 20).toFixed(2)} MiB sent in ${loaded.statements} statements` : `one COPY INTO, ${loaded.statements} statements`;
      bulkSummary = `; a bulk of ${bulk.length} invoices (${size}) loaded in ${seconds.toFixed(1)} s with an exact total`;
    }
    return `${records.length} invoices (amounts beyond 2^53 cents, negatives, 18-digit stamps, Unicode, quotes, SQL in text) read back exactly in ${mode} mode; a second load changed nothing (${first.statements + again.statements} statements)${bulkSummary}`;
  } finally {
    await wh.execute(`DROP TABLE IF EXISTS ${qualified}`).catch(() => undefined);
    await wh.execute(`DROP TABLE IF EXISTS ${quote(catalog)}.${quote(schema)}.${quote(`${ROUND_TRIP_TABLE}${HISTORY_SUFFIX}`)}`).catch(() => undefined);
    // The probe's business-named view and its control totals go with it (the schema's totals table stays).
    await wh.execute(`DROP VIEW IF EXISTS ${quote(catalog)}.${quote(schema)}.${quote(`${ROUND_TRIP_TABLE}${VIEW_SUFFIX}`)}`).catch(() => undefined);
    await wh.execute(`DELETE FROM ${quote(catalog)}.${quote(schema)}.${quote(CONTROL_TOTALS_TABLE)} WHERE table_name = :probe`, { probe: `${catalog}.${schema}.${ROUND_TRIP_TABLE}` }).catch(() => undefined);
    await rm(folder, { recursive: true, force: true });
  }
}
