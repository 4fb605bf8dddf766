// What a real warehouse enforces about a Delta table's metadata, which the emulator used to discard: liquid
// clustering keys need statistics (first 32 columns by default, or the stats properties), at most 4 keys,
// checked on CREATE TABLE, ALTER TABLE … CLUSTER BY and SET/UNSET TBLPROPERTIES; and the CREATE SCHEMA privilege.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StatementParameters } from '#emulators/databricks/parameters.ts';
import { resultToObjects } from '#emulators/databricks/results.ts';
import { Warehouse, type StatementFailure, type WarehouseSession } from '#emulators/databricks/warehouse.ts';

let warehouse: Warehouse;
let session: WarehouseSession;

beforeEach(async () => {
  warehouse = await Warehouse.open(':memory:');
  session = await warehouse.openSession();
});
afterEach(async () => {
  await warehouse.close();
});

const run = async (sql: string) => resultToObjects((await session.execute(sql, StatementParameters.none)).result);
const failure = async (sql: string) => {
  try {
    await session.execute(sql, StatementParameters.none);
  } catch (error) {
    return (error as StatementFailure).error;
  }
  throw new Error(`expected "${sql}" to fail`);
};

/** `c01 STRING, …, cNN STRING`: a table whose n-th column is cNN. */
const columns = (n: number) => Array.from({ length: n }, (_, i) => `c${String(i + 1).padStart(2, '0')} STRING`).join(', ');
const clusteringOf = async (table: string) => {
  const rows = await run(`DESCRIBE TABLE ${table}`);
  const at = rows.findIndex((r) => r.col_name === '# col_name');
  return at === -1 ? [] : rows.slice(at + 1).map((r) => r.col_name);
};

describe('liquid clustering needs statistics on its keys', () => {
  it('accepts a key among the first 32 columns and refuses the 33rd, naming the column', async () => {
    await run(`CREATE TABLE ok (${columns(40)}) USING DELTA CLUSTER BY (c32)`);
    expect(await clusteringOf('ok')).toEqual(['c32']);
    const error = await failure(`CREATE TABLE wide (${columns(40)}) USING DELTA CLUSTER BY (c01, c33)`);
    expect([error.errorClass, error.sqlState]).toEqual(['DELTA_CLUSTERING_COLUMN_MISSING_STATS', '22000']);
    expect(error.message).toMatch(/'c33'.*first 32 columns/);
    expect(await run('SHOW TABLES')).toEqual([{ database: 'default', tableName: 'ok', isTemporary: false }]);
  });

  it('follows delta.dataSkippingNumIndexedCols and delta.dataSkippingStatsColumns', async () => {
    await run(`CREATE TABLE more (${columns(40)}) USING DELTA CLUSTER BY (c40) TBLPROPERTIES ('delta.dataSkippingNumIndexedCols' = '40')`);
    await run(`CREATE TABLE every (${columns(40)}) USING DELTA CLUSTER BY (c40) TBLPROPERTIES (delta.dataSkippingNumIndexedCols = -1)`);
    await run(`CREATE TABLE named (${columns(40)}) USING DELTA CLUSTER BY (c39) TBLPROPERTIES ('delta.dataSkippingStatsColumns' = 'c39,c01')`);
    expect((await failure(`CREATE TABLE fewer (${columns(40)}) CLUSTER BY (c05) TBLPROPERTIES ('delta.dataSkippingNumIndexedCols' = '4')`)).errorClass).toBe(
      'DELTA_CLUSTERING_COLUMN_MISSING_STATS',
    );
    // Named stats columns replace the first-N rule: c01 is no longer covered unless listed.
    expect((await failure(`CREATE TABLE other (${columns(40)}) CLUSTER BY (c01) TBLPROPERTIES ('delta.dataSkippingStatsColumns' = 'c39')`)).errorClass).toBe(
      'DELTA_CLUSTERING_COLUMN_MISSING_STATS',
    );
    expect((await failure(`CREATE TABLE typo (${columns(3)}) TBLPROPERTIES ('delta.dataSkippingStatsColumns' = 'c01,nope') CLUSTER BY (c01)`)).errorClass).toBe(
      'DELTA_COLUMN_NOT_FOUND_IN_SCHEMA',
    );
  });

  it('checks ALTER TABLE … CLUSTER BY and SET/UNSET TBLPROPERTIES against the same rule, changing nothing when refused', async () => {
    await run(`CREATE TABLE t (${columns(40)}) USING DELTA CLUSTER BY (c39) TBLPROPERTIES ('delta.dataSkippingStatsColumns' = 'c39')`);
    expect((await failure('ALTER TABLE t CLUSTER BY (c02)')).errorClass).toBe('DELTA_CLUSTERING_COLUMN_MISSING_STATS');
    expect((await failure("ALTER TABLE t SET TBLPROPERTIES ('delta.dataSkippingStatsColumns' = 'c01')")).errorClass).toBe('DELTA_CLUSTERING_COLUMN_MISSING_STATS');
    expect((await failure("ALTER TABLE t UNSET TBLPROPERTIES ('delta.dataSkippingStatsColumns')")).errorClass).toBe('DELTA_CLUSTERING_COLUMN_MISSING_STATS');
    expect(await run("SHOW TBLPROPERTIES t ('delta.dataSkippingStatsColumns')")).toEqual([{ key: 'delta.dataSkippingStatsColumns', value: 'c39' }]);
    await run("ALTER TABLE t SET TBLPROPERTIES ('delta.dataSkippingStatsColumns' = 'c39,c02')");
    await run('ALTER TABLE t CLUSTER BY (c02, c39)');
    expect(await clusteringOf('t')).toEqual(['c02', 'c39']);
    await run('ALTER TABLE t CLUSTER BY NONE');
    await run("ALTER TABLE t UNSET TBLPROPERTIES ('delta.dataSkippingStatsColumns')");
    expect(await run("SHOW TBLPROPERTIES t ('delta.dataSkippingStatsColumns')")).toEqual([
      { key: 'delta.dataSkippingStatsColumns', value: 'Table main.default.t does not have property: delta.dataSkippingStatsColumns' },
    ]);
    expect((await failure("ALTER TABLE t UNSET TBLPROPERTIES ('nope')")).errorClass).toBe('UNSET_NONEXISTENT_PROPERTIES');
    await run("ALTER TABLE t UNSET TBLPROPERTIES IF EXISTS ('nope')");
  });

  it('keeps a key with statistics when columns are added after it, and allows at most 4 keys', async () => {
    await run(`CREATE TABLE t (${columns(30)}) USING DELTA CLUSTER BY (c30)`);
    await run(`ALTER TABLE t ADD COLUMNS (extra1 STRING, extra2 STRING, extra3 STRING)`);
    expect((await failure('ALTER TABLE t CLUSTER BY (extra3)')).errorClass).toBe('DELTA_CLUSTERING_COLUMN_MISSING_STATS');
    const error = await failure('ALTER TABLE t CLUSTER BY (c01, c02, c03, c04, c05)');
    expect([error.errorClass, error.sqlState]).toEqual(['DELTA_CLUSTER_BY_INVALID_NUM_COLUMNS', '54000']);
  });

  it('checks CREATE TABLE IF NOT EXISTS even when the table exists (a fresh warehouse would refuse it)', async () => {
    await run(`CREATE TABLE t (${columns(40)}) CLUSTER BY (c01)`);
    expect((await failure(`CREATE TABLE IF NOT EXISTS t (${columns(40)}) CLUSTER BY (c40)`)).errorClass).toBe('DELTA_CLUSTERING_COLUMN_MISSING_STATS');
    await run(`CREATE TABLE IF NOT EXISTS t (${columns(40)}) CLUSTER BY (c02)`);
    expect(await clusteringOf('t')).toEqual(['c01']);
  });

  it('forgets a dropped table\'s metadata and keeps it in the catalog file across restarts, out of sight', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'table-metadata-'));
    try {
      const file = path.join(dir, 'warehouse.duckdb');
      let persisted = await Warehouse.open(file);
      let s = await persisted.openSession();
      await s.execute(`CREATE TABLE kept (${columns(3)}) CLUSTER BY (c02) TBLPROPERTIES ('owner.note' = 'x')`, StatementParameters.none);
      await s.execute(`CREATE TABLE dropped (${columns(3)}) CLUSTER BY (c01)`, StatementParameters.none);
      await s.execute('DROP TABLE dropped', StatementParameters.none);
      await s.execute(`CREATE TABLE dropped (${columns(3)})`, StatementParameters.none);
      await persisted.close();
      persisted = await Warehouse.open(file);
      s = await persisted.openSession();
      const rows = async (sql: string) => resultToObjects((await s.execute(sql, StatementParameters.none)).result);
      expect((await rows('DESCRIBE TABLE kept')).at(-1)).toMatchObject({ col_name: 'c02' });
      expect(await rows('SHOW TBLPROPERTIES kept')).toEqual([{ key: 'owner.note', value: 'x' }]);
      expect((await rows('DESCRIBE TABLE dropped')).map((r) => r.col_name)).toEqual(['c01', 'c02', 'c03']);
      expect(await rows('SHOW SCHEMAS')).toEqual([{ databaseName: 'default' }]);
      expect((await rows("SELECT count(*) AS n FROM main.information_schema.tables WHERE table_schema LIKE '%metadata%'"))[0]!.n).toBe(0n);
      await persisted.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a principal without CREATE SCHEMA', () => {
  it('cannot run CREATE SCHEMA IF NOT EXISTS even on an existing schema, but creates tables in it', async () => {
    await run('CREATE SCHEMA finance');
    warehouse.settings.privileges.createSchema = false;
    const error = await failure('CREATE SCHEMA IF NOT EXISTS finance');
    expect([error.errorClass, error.sqlState]).toEqual(['INSUFFICIENT_PERMISSIONS', '42501']);
    expect(error.message).toMatch(/CREATE SCHEMA on Catalog 'main'/);
    await run('CREATE TABLE IF NOT EXISTS main.finance.t (id BIGINT) USING DELTA');
    expect(await run('SHOW SCHEMAS IN main LIKE \'finance\'')).toEqual([{ databaseName: 'finance' }]);
  });
});

describe('comments and views, as Databricks takes them', () => {
  it('keeps column comments from CREATE TABLE and ALTER COLUMN, and the table comment from COMMENT ON TABLE', async () => {
    await run(`CREATE TABLE t (a STRING COMMENT 'first', b BIGINT) USING DELTA COMMENT 'the table'`);
    await run(`ALTER TABLE t ALTER COLUMN b COMMENT 'it\\'s second'`);
    await run(`ALTER TABLE t ALTER COLUMN a COMMENT 'first, again'`);
    expect(await run('DESCRIBE TABLE t')).toEqual([
      { col_name: 'a', data_type: 'string', comment: 'first, again' },
      { col_name: 'b', data_type: 'bigint', comment: "it's second" },
    ]);
    await run(`COMMENT ON TABLE t IS 'what t holds'`);
    expect(await run(`SELECT comment FROM main.information_schema.tables WHERE table_name = 't'`)).toEqual([{ comment: 'what t holds' }]);
    await run('COMMENT ON TABLE t IS NULL');
    expect(await run(`SELECT comment FROM main.information_schema.tables WHERE table_name = 't'`)).toEqual([{ comment: null }]);
  });

  it('refuses a comment on a column or table that does not exist, and other ALTER COLUMN forms', async () => {
    await run('CREATE TABLE t (a STRING) USING DELTA');
    expect((await failure(`ALTER TABLE t ALTER COLUMN z COMMENT 'x'`)).sqlState).toBe('42703');
    expect((await failure(`COMMENT ON TABLE missing IS 'x'`)).errorClass).toBe('TABLE_OR_VIEW_NOT_FOUND');
    expect((await failure(`ALTER TABLE missing ALTER COLUMN a COMMENT 'x'`)).errorClass).toBe('TABLE_OR_VIEW_NOT_FOUND');
    await failure('ALTER TABLE t ALTER COLUMN a TYPE BIGINT');
    await failure(`COMMENT ON COLUMN t.a IS 'x'`);
  });

  it('replaces a view with CREATE OR REPLACE VIEW, and refuses ALTER COLUMN on it', async () => {
    await run('CREATE TABLE t (a STRING, d TIMESTAMP) USING DELTA');
    await run(`INSERT INTO t VALUES ('live', NULL), ('gone', TIMESTAMP '2026-01-01 00:00:00')`);
    await run('CREATE OR REPLACE VIEW main.default.t_v AS SELECT t.`a` AS `name` FROM main.default.t AS t WHERE t.`d` IS NULL');
    await run('CREATE OR REPLACE VIEW main.default.t_v AS SELECT t.`a` AS `label` FROM main.default.t AS t WHERE t.`d` IS NULL');
    expect(await run('SELECT * FROM t_v')).toEqual([{ label: 'live' }]);
    expect((await failure(`ALTER TABLE t_v ALTER COLUMN label COMMENT 'x'`)).errorClass).toMatch(/^EXPECT_TABLE_NOT_VIEW/);
  });
});
