// Hostile records and damaged staged units at the load step (loadTable into the warehouse emulator through the
// real driver, and the `load` CLI). A target table holds a committed baseline first; every hostile load must
// fail naming the entity, key and field (or the file) and what to do, and leave the current and history
// tables exactly as they were: nothing partial is ever merged. Failures found before any SQL (bad names,
// manifests) must not run a single statement.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarehouseEmulator } from '#emulators/databricks/index.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import type { EntityDefinition } from '#shared/catalog/entityDefinition.ts';
import { ConfigError } from '#shared/config/configError.ts';
import { recordHash } from '#shared/staging/stagedRecord.ts';
import { loadTable } from '#shared/load/loadTable.ts';
import type { TargetTable } from '#shared/load/loadTypes.ts';
import { RecordValueError } from '#shared/load/loadErrors.ts';
import type { MiRecord } from '#shared/m3/miTypes.ts';
import { BlobNotFoundError } from '#shared/staging/blobStore.ts';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import { readManifest, readStagedRecords } from '#shared/staging/stagedUnitReader.ts';
import { StagedDataError } from '#shared/staging/stagingErrors.ts';
import { runCli, type CliResult } from '../support/runCli.ts';
import { stageRecords, tableRows, warehouseWithSession } from '../support/warehouse.ts';
import { expectCliError, LATIN1_MALMO, USER_ENV } from './support/hostile.ts';

const catalog = EntityCatalog.withDefaults();
const invoices = catalog.get('supplier_invoices');
const suppliers = catalog.get('suppliers');
const TABLE: TargetTable = { catalog: 'main', schema: 'hostile', name: 'supplier_invoices' };
const SUPPLIERS: TargetTable = { catalog: 'main', schema: 'hostile', name: 'suppliers' };
const RUN = { runId: 'hostile-run', runStartedAt: '2026-11-20T02:00:00.000Z' };

let wh: Awaited<ReturnType<typeof warehouseWithSession>>;
let root: string;
let store: LocalFolderBlobStore;
let baseline: { current: unknown[]; history: unknown[] };
let unitCounter = 0;

function invoice(inbn: string, overrides: Partial<MiRecord> = {}): MiRecord {
  const base: MiRecord = Object.fromEntries(invoices.fields.map((f) => [f.name, f.type === 'A' ? '' : '0']));
  return {
    ...base, CONO: '100', DIVI: 'A01', INBN: inbn, SUNO: 'S0001', SINO: `INV-${inbn}`, IVDT: '20261101', CUCD: 'SEK', CUAM: '100.00',
    LMDT: '20261101', CHNO: '1', LMTS: '202611010800000001', ...overrides,
  };
}

function supplier(suno: string, overrides: Partial<MiRecord> = {}): MiRecord {
  const base: MiRecord = Object.fromEntries(suppliers.fields.map((f) => [f.name, f.type === 'A' ? '' : '0']));
  return { ...base, CONO: '100', SUNO: suno, SUNM: `Supplier ${suno}`, CUCD: 'SEK', ...overrides };
}

/** Stages records as one unit (through the product's own stager) and returns its prefix. */
async function stage(records: MiRecord[], entity: EntityDefinition = invoices): Promise<string> {
  unitCounter += 1;
  const prefix = `runs/ACME_PRD/hostile/${entity.id}/${unitCounter}`;
  await stageRecords(store, prefix, entity, records, RUN);
  return prefix;
}

function load(prefix: string, table: TargetTable = TABLE, entity: EntityDefinition = invoices) {
  return loadTable({ tenant: 'ACME_PRD', entity, table, units: [{ unitId: prefix, unitPrefix: prefix }], runId: RUN.runId, store, warehouse: wh.session });
}

const qualified = (t: TargetTable, suffix = '') => `${t.catalog}.${t.schema}.${t.name}${suffix}`;

async function tables(table: TargetTable = TABLE) {
  return { current: await tableRows(wh.warehouse, qualified(table)), history: await tableRows(wh.warehouse, qualified(table, '_history')) };
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected the load to fail');
    },
    (error: unknown) => error as Error,
  );
}

/** The load failed, and the committed tables are exactly the baseline. */
async function expectNothingMerged(): Promise<void> {
  expect(await tables()).toEqual(baseline);
}

/** Rewrites a staged part file on disk (decompressed text in, bytes out), leaving the manifest alone. */
async function tamper(prefix: string, change: (text: Buffer) => Buffer): Promise<string> {
  const file = path.join(root, prefix, 'part-00001.jsonl.gz');
  await writeFile(file, gzipSync(change(gunzipSync(await readFile(file)))));
  return file;
}

beforeAll(async () => {
  wh = await warehouseWithSession();
  root = await mkdtemp(path.join(tmpdir(), 'hostile-load-'));
  store = new LocalFolderBlobStore(root);
  const result = await load(await stage([invoice('1'), invoice('2', { CUAM: '-1234.56' }), invoice('3', { DIVI: '' })]));
  expect(result).toMatchObject({ currentInserted: 3, historyInserted: 3 });
  baseline = await tables();
  expect(baseline.current).toHaveLength(3);
});
afterAll(async () => {
  await wh.close();
  await rm(root, { recursive: true, force: true });
});

describe('a field whose value does not fit its M3 type (a changed type, a locale, a rounding)', () => {
  it.each([
    ['text in a numeric field', { CUAM: 'twelve' }, 'CUAM', '"twelve", which is not a valid number for N17.2'],
    ['a decimal comma', { CUAM: '12,50' }, 'CUAM', '"12,50", which is not a valid number for N17.2'],
    ['more decimals than the field has (never rounded)', { CUAM: '10.005' }, 'CUAM', '"10.005", which is not a valid number for N17.2'],
    ['more integer digits than the field has', { CRTP: '123' }, 'CRTP', '"123", which is not a valid number for N2'],
    ['an impossible date', { IVDT: '20261301' }, 'IVDT', '"20261301", which is not a valid date (yyyyMMdd)'],
    ['text in a date field', { DUDT: 'TBD' }, 'DUDT', '"TBD", which is not a valid date (yyyyMMdd)'],
  ])('%s fails the load with a RecordValueError naming entity, key and field; nothing is merged', async (_name, bad, field, problem) => {
    // Good records first, so some are already in the warehouse's staging area when the bad one arrives.
    const prefix = await stage([invoice('10'), invoice('11'), invoice('12', bad)]);
    const error = await failureOf(load(prefix));
    expect(error).toBeInstanceOf(RecordValueError);
    expect(error.message).toBe(
      `supplier_invoices ["100","A01","12"]: field ${field} has value ${problem}; ` +
        "correct the entity's field type in the catalog (see `cloudsuite-sync describe`) or the record in M3",
    );
    await expectNothingMerged();
  });
});

describe('long strings', () => {
  // The choice: M3 data is what it is. A value longer than its catalog length is odd (an A36 name with
  // 10,000 characters), but the length is metadata and the warehouse column is STRING: truncating would
  // change the data and failing would hold back a whole table for one record. So it loads exactly, in the
  // column, in _record and in the hash.
  it('a 10,000-character value in an A36 and an A40 field loads exactly, character for character', async () => {
    const unit = 'Åsa "AB" ; | ~ ^ 株式会社 😀 \\ ';
    const tenK = unit.repeat(Math.ceil(10_000 / unit.length)).slice(0, 9_999) + 'Z';
    expect(tenK).toHaveLength(10_000);
    const record = supplier('S-LONG', { SUNM: tenK });
    const result = await load(await stage([record, supplier('S-SHORT')], suppliers), SUPPLIERS, suppliers);
    expect(result).toMatchObject({ currentInserted: 2, historyInserted: 2 });
    const [row] = await wh.warehouse.query(`SELECT sunm, _record, _record_hash FROM ${qualified(SUPPLIERS)} WHERE suno = 'S-LONG'`);
    expect(row!.sunm).toBe(tenK);
    expect(JSON.parse(String(row!._record)).SUNM).toBe(tenK);
    expect(row!._record_hash).toBe(recordHash(record));

    const longInvoices = { ...TABLE, name: 'long_invoices' };
    await load(await stage([invoice('20', { TX40: tenK })]), longInvoices);
    const [inv] = await wh.warehouse.query(`SELECT tx40 FROM ${qualified(longInvoices)} WHERE inbn = 20`);
    expect(inv!.tx40).toBe(tenK);
  });
});

describe('a staged unit that was damaged after extraction', () => {
  it('a part file whose content changed (an amount edited) fails on its sha256; nothing is merged', async () => {
    const prefix = await stage([invoice('30'), invoice('31')]);
    const file = await tamper(prefix, (text) => Buffer.from(text.toString('utf8').replace('"CUAM":"100.00"', '"CUAM":"999999.00"')));
    const error = await failureOf(load(prefix));
    expect(error).toBeInstanceOf(StagedDataError);
    expect(error.message).toMatch(new RegExp(`^${file}: sha256 [0-9a-f]{64} does not match the manifest's [0-9a-f]{64}; the file changed after extraction$`));
    await expectNothingMerged();
  });

  it('a part file holding bytes that are not UTF-8 fails (never loaded as U+FFFD); nothing is merged', async () => {
    const prefix = await stage([invoice('32', { TX40: 'PLACEHOLDER-NAME' })]);
    const file = await tamper(prefix, (text) => {
      const at = text.indexOf('PLACEHOLDER-NAME');
      return Buffer.concat([text.subarray(0, at), LATIN1_MALMO, text.subarray(at + 'PLACEHOLDER-NAME'.length)]);
    });
    const error = await failureOf(load(prefix));
    expect(error).toBeInstanceOf(StagedDataError);
    expect(error.message).toContain(`${file}: sha256`);
    await expectNothingMerged();
  });

  it('a truncated part file fails naming it; nothing is merged', async () => {
    const prefix = await stage([invoice('33'), invoice('34')]);
    const file = path.join(root, prefix, 'part-00001.jsonl.gz');
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const error = await failureOf(load(prefix));
    expect(error).toBeInstanceOf(StagedDataError);
    expect(error.message).toMatch(new RegExp(`^${file} cannot be read \\(.+\\); it does not match its manifest$`));
    await expectNothingMerged();
  });

  it('a manifest that promises more records than its file holds fails on the count; nothing is merged', async () => {
    const prefix = await stage([invoice('35')]);
    const manifestFile = path.join(root, prefix, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    manifest.files[0].records += 1;
    manifest.totalRecords += 1;
    await writeFile(manifestFile, JSON.stringify(manifest));
    const error = await failureOf(load(prefix));
    expect(error).toBeInstanceOf(StagedDataError);
    expect(error.message).toMatch(/part-00001\.jsonl\.gz: 1 records, the manifest says 2$/);
    await expectNothingMerged();
  });

  it('a missing part file fails naming where it was looked for; nothing is merged', async () => {
    const prefix = await stage([invoice('36')]);
    await rm(path.join(root, prefix, 'part-00001.jsonl.gz'));
    const error = await failureOf(load(prefix));
    expect(error).toBeInstanceOf(BlobNotFoundError);
    expect(error.message).toBe(`staged object not found: ${path.join(root, prefix, 'part-00001.jsonl.gz')}`);
    await expectNothingMerged();
  });

  it.each([
    ['is not JSON', (text: string) => text.slice(0, 40), /manifest\.json is not valid JSON; re-run the extraction of this unit$/],
    ['lacks its checksums', (text: string) => JSON.stringify({ ...JSON.parse(text), files: [{ name: 'part-00001.jsonl.gz', records: 1 }] }), /manifest\.json is not a valid manifest \(files\.0\.sha256: /],
    ['belongs to another tenant', (text: string) => JSON.stringify({ ...JSON.parse(text), tenant: 'OTHER_PRD' }), /holds OTHER_PRD\/supplier_invoices, not ACME_PRD\/supplier_invoices$/],
    ['belongs to another entity', (text: string) => JSON.stringify({ ...JSON.parse(text), entity: 'gl_transactions' }), /holds ACME_PRD\/gl_transactions, not ACME_PRD\/supplier_invoices$/],
  ])('a manifest that %s fails before a single statement runs', async (_name, change, message) => {
    const prefix = await stage([invoice('37')]);
    const manifestFile = path.join(root, prefix, 'manifest.json');
    await writeFile(manifestFile, change(await readFile(manifestFile, 'utf8')));
    const statements = wh.warehouse.statements.length;
    const error = await failureOf(load(prefix));
    expect(error).toBeInstanceOf(StagedDataError);
    expect(error.message).toMatch(message);
    expect(wh.warehouse.statements.length).toBe(statements);
    await expectNothingMerged();
  });
});

describe('staged files are valid UTF-8 by construction', () => {
  it('text M3 could send (a lone surrogate escape, U+FFFD, NUL, emoji) is staged as valid UTF-8 and read back exactly', async () => {
    const hostile = ['\uD800 lone high', 'low \uDC00', 'replacement \uFFFD char', 'nul \u0000 inside', '😀 and 株式会社'];
    const prefix = await stage(hostile.map((text, i) => invoice(String(40 + i), { TX40: text })));
    const manifest = await readManifest(store, prefix);
    const bytes = gunzipSync(await readFile(path.join(root, prefix, manifest.files[0]!.name)));
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).not.toThrow();
    const read = [];
    for await (const record of readStagedRecords(store, prefix, manifest)) read.push(record.record.TX40);
    expect(read).toEqual(hostile);
  });
});

describe('target names carrying SQL', () => {
  it.each([
    ['a table name closing the quote', { ...TABLE, name: 'supplier_invoices`; DROP TABLE main.hostile.supplier_invoices; --' }, 'table'],
    ['a schema name with a quote', { ...TABLE, schema: "hostile' OR '1'='1" }, 'schema'],
    ['a catalog name with a space', { ...TABLE, catalog: 'main hostile' }, 'catalog'],
    ['a table name with a dot', { ...TABLE, name: 'hostile.supplier_invoices' }, 'table'],
  ])('%s is refused before a single statement runs', async (_name, table, what) => {
    const prefix = await stage([invoice('50')]);
    const statements = wh.warehouse.statements.length;
    const error = await failureOf(load(prefix, table));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(new RegExp(`^${what} ".+" is not a valid Databricks identifier: use letters, digits and _ \\(starting with a letter or _\\), at most 255 characters$`));
    expect(wh.warehouse.statements.length).toBe(statements);
    await expectNothingMerged();
  });
});

describe('the `load` CLI with a hostile staged folder', () => {
  const results: Record<string, CliResult> = {};
  const dbFile = (name: string) => path.join(root, 'cli', name, 'warehouse.duckdb');

  beforeAll(async () => {
    const cliStore = (name: string) => new LocalFolderBlobStore(path.join(root, 'cli', name, 'staged'));
    await stageRecords(cliStore('type'), '', invoices, [invoice('60'), invoice('61', { CUAM: 'N/A' })], RUN);
    await stageRecords(cliStore('checksum'), '', invoices, [invoice('62')], RUN);
    const part = path.join(root, 'cli', 'checksum', 'staged', 'part-00001.jsonl.gz');
    await writeFile(part, gzipSync(Buffer.from(gunzipSync(await readFile(part)).toString('utf8').replace('"CUAM":"100.00"', '"CUAM":"1.00"'))));
    await stageRecords(cliStore('name'), '', invoices, [invoice('63')], RUN);
    const run = (name: string, extra: string[] = []) =>
      runCli(['load', '--staged', path.join(root, 'cli', name, 'staged'), '--warehouse', `local:${dbFile(name)}`, ...extra], { env: USER_ENV });
    [results.type, results.checksum, results.name] = await Promise.all([
      run('type'),
      run('checksum'),
      run('name', ['--table', 'supplier_invoices; DROP TABLE main.cloudsuite.suppliers']),
    ]);
  }, 60_000);

  /** What the CLI left in its warehouse file: the row counts of both tables, or none when they do not exist. */
  async function rowsIn(name: string): Promise<{ tables: string[]; rows: number }> {
    const warehouse = await startWarehouseEmulator({ dbFile: dbFile(name) });
    try {
      const found = await warehouse.query('SHOW TABLES IN main.cloudsuite').catch(() => []);
      const names = found.map((t) => String(t.tableName)).filter((t) => !t.includes('stage')).sort();
      let rows = 0;
      for (const t of names) rows += Number((await warehouse.query(`SELECT count(*) AS n FROM main.cloudsuite.${t}`))[0]!.n);
      return { tables: names, rows };
    } finally {
      await warehouse.close();
    }
  }

  it('a record with text in a numeric field: one line naming entity, key and field; no row lands', async () => {
    expectCliError(results.type!, /^error: supplier_invoices \["100","A01","61"\]: field CUAM has value "N\/A", which is not a valid number for N17\.2; correct the entity's field type/);
    expect(await rowsIn('type')).toEqual({ tables: ['_sync_control_totals', 'supplier_invoices', 'supplier_invoices_history', 'supplier_invoices_v'], rows: 0 });
  });

  it('a part file edited after extraction: one line naming the file and the checksum; no row lands', async () => {
    expectCliError(results.checksum!, /^error: .*checksum\/staged\/part-00001\.jsonl\.gz: sha256 [0-9a-f]{64} does not match the manifest's [0-9a-f]{64}; the file changed after extraction$/);
    expect((await rowsIn('checksum')).rows).toBe(0);
  });

  it('a --table carrying SQL: one line naming the option\'s value and the rule; no table is created', async () => {
    expectCliError(results.name!, /^error: table "supplier_invoices; DROP TABLE main\.cloudsuite\.suppliers" is not a valid Databricks identifier/);
    expect(await rowsIn('name')).toEqual({ tables: [], rows: 0 });
  });
});
