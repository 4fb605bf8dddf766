// The translation layer, construct by construct, verified by executing the result on the emulator's DuckDB.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StatementParameters, type WireParameter } from '../../../infra/local/emulators/databricks/parameters.ts';
import { resultToObjects } from '../../../infra/local/emulators/databricks/results.ts';
import { lex } from '../../../infra/local/emulators/databricks/sqlLexer.ts';
import { sparkDatetimePatternToStrftime } from '../../../infra/local/emulators/databricks/sqlFunctions.ts';
import { translateStatement } from '../../../infra/local/emulators/databricks/sqlTranslator.ts';
import { Warehouse, type StatementFailure, type WarehouseSession } from '../../../infra/local/emulators/databricks/warehouse.ts';

type ParameterSpec = Record<string, [type: string, value: string | null]> | Array<[type: string, value: string | null]>;

function parameters(spec?: ParameterSpec): StatementParameters {
  if (!spec) return StatementParameters.none;
  const wire: WireParameter[] = Array.isArray(spec)
    ? spec.map(([type, value]) => ({ type, value: value === null ? null : { stringValue: value } }))
    : Object.entries(spec).map(([name, [type, value]]) => ({ name, type, value: value === null ? null : { stringValue: value } }));
  return StatementParameters.fromWire(wire);
}

let warehouse: Warehouse;
let session: WarehouseSession;

beforeEach(async () => {
  warehouse = await Warehouse.open(':memory:');
  session = await warehouse.openSession();
});
afterEach(async () => {
  await warehouse.close();
});

const run = async (sql: string, spec?: ParameterSpec) => resultToObjects((await session.execute(sql, parameters(spec))).result);
const failure = async (sql: string, spec?: ParameterSpec) => {
  try {
    await session.execute(sql, parameters(spec));
  } catch (error) {
    return (error as StatementFailure).error;
  }
  throw new Error(`expected "${sql}" to fail`);
};

describe('lexing', () => {
  it('keeps parameter-like text inside string literals and :: casts out of parameter markers', () => {
    const tokens = lex("SELECT ':not_a_param', x::STRING, col:field, :real FROM t");
    expect(tokens.filter((t) => t.kind === 'namedParam').map((t) => t.value)).toEqual(['real']);
  });

  it('decodes Spark string literals: backslash escapes, double quotes, adjacent literals', async () => {
    expect(await run(`SELECT 'it\\'s' AS a, "double" AS b, 'a' 'b' AS c, 'tab\\there' AS d, 'back\\\\slash' AS e`)).toEqual([
      { a: "it's", b: 'double', c: 'ab', d: 'tab\there', e: 'back\\slash' },
    ]);
  });

  it('rejects more than one statement per request', async () => {
    expect((await failure('SELECT 1; SELECT 2')).errorClass).toBe('PARSE_SYNTAX_ERROR');
    expect(await run('SELECT 1 AS one;')).toEqual([{ one: 1 }]);
  });
});

describe('parameters', () => {
  it('binds named markers with their declared types, exactly', async () => {
    const rows = await run('SELECT :amount AS amount, :id AS id, :day AS day, :at AS at, :flag AS flag, :text AS text, :nothing AS nothing', {
      amount: ['DECIMAL', '123456789012.34'],
      id: ['BIGINT', '123456789012345678'],
      day: ['DATE', '2024-02-29'],
      at: ['TIMESTAMP', '2024-03-14T01:02:03.456Z'],
      flag: ['BOOLEAN', 'TRUE'],
      text: ['STRING', "it's \\ \"quoted\" ✓ '; DROP TABLE x; --"],
      nothing: ['VOID', null],
    });
    expect(rows).toEqual([
      {
        amount: '123456789012.34',
        id: 123456789012345678n,
        day: '2024-02-29',
        at: '2024-03-14 01:02:03.456',
        flag: true,
        text: "it's \\ \"quoted\" ✓ '; DROP TABLE x; --",
        nothing: null,
      },
    ]);
  });

  it('binds ? markers in order, and a marker may be reused by name', async () => {
    expect(await run('SELECT ? AS a, ? AS b', [['STRING', 'x'], ['INTEGER', '2']])).toEqual([{ a: 'x', b: 2 }]);
    expect(await run('SELECT :v AS a, :v || :v AS b', { v: ['STRING', 'q'] })).toEqual([{ a: 'q', b: 'qq' }]);
  });

  it('rejects unbound and mixed markers the way Databricks does', async () => {
    const unbound = await failure('SELECT :missing');
    expect([unbound.errorClass, unbound.sqlState]).toEqual(['UNBOUND_SQL_PARAMETER', '42P02']);
    expect((await failure('SELECT :a, ?', { a: ['STRING', 'x'] })).errorClass).toBe('INVALID_QUERY_MIXED_QUERY_PARAMETERS');
    expect((await failure('SELECT :a', { a: ['DECIMAL', '12x'] })).errorClass).toMatch(/^INVALID_PARAMETER_MARKER_VALUE/);
  });
});

describe('DDL', () => {
  it('strips Delta table clauses and keeps comments', async () => {
    await run('CREATE SCHEMA IF NOT EXISTS main.sales');
    await run(
      `CREATE TABLE IF NOT EXISTS main.sales.invoices (
         id BIGINT NOT NULL COMMENT 'invoice number', amount DECIMAL(17,2), supplier STRING, due DATE, booked TIMESTAMP,
         CONSTRAINT invoices_pk PRIMARY KEY (id))
       USING DELTA CLUSTER BY (id) COMMENT 'AP invoices'
       TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true', 'delta.feature.allowColumnDefaults' = 'supported')`,
    );
    expect(await run('DESCRIBE TABLE main.sales.invoices')).toEqual([
      { col_name: 'id', data_type: 'bigint', comment: 'invoice number' },
      { col_name: 'amount', data_type: 'decimal(17,2)', comment: null },
      { col_name: 'supplier', data_type: 'string', comment: null },
      { col_name: 'due', data_type: 'date', comment: null },
      { col_name: 'booked', data_type: 'timestamp', comment: null },
      { col_name: '# Clustering Information', data_type: '', comment: '' },
      { col_name: '# col_name', data_type: 'data_type', comment: 'comment' },
      { col_name: 'id', data_type: 'bigint', comment: null },
    ]);
    expect(await run('SHOW TBLPROPERTIES main.sales.invoices')).toEqual([
      { key: 'delta.enableChangeDataFeed', value: 'true' },
      { key: 'delta.feature.allowColumnDefaults', value: 'supported' },
    ]);
    const both = await failure('CREATE TABLE main.sales.p (id BIGINT, due DATE) USING DELTA CLUSTER BY (id) PARTITIONED BY (due)');
    expect(both.errorClass).toBe('DELTA_CLUSTER_BY_WITH_PARTITIONED_BY');
    await run('CREATE TABLE IF NOT EXISTS main.sales.invoices (id BIGINT) USING DELTA');
    expect((await failure('CREATE TABLE main.sales.invoices (id BIGINT)')).errorClass).toBe('TABLE_OR_VIEW_ALREADY_EXISTS');
  });

  it('stores catalog, schema and table names lower-case and resolves them case-insensitively; columns keep their case', async () => {
    await run('CREATE SCHEMA Main.Sales');
    await run('CREATE TABLE MAIN.SALES.Invoices (`Invoice Id` STRING, `select` INT)');
    expect(await run('SHOW TABLES IN main.sales')).toEqual([{ database: 'sales', tableName: 'invoices', isTemporary: false }]);
    await run('INSERT INTO main.sales.INVOICES (`invoice id`, `SELECT`) VALUES (\'a\', 1)');
    expect(await run('SELECT `Invoice Id`, `select` FROM main.sales.invoices')).toEqual([{ 'Invoice Id': 'a', select: 1 }]);
  });

  it('splits ADD COLUMNS into one ADD COLUMN each, atomically', async () => {
    await run('CREATE TABLE t (id BIGINT)');
    await run("ALTER TABLE t ADD COLUMNS (supplier STRING COMMENT 'name', amount DECIMAL(15,2))");
    expect((await run('DESCRIBE TABLE t')).map((r) => r.data_type)).toEqual(['bigint', 'string', 'decimal(15,2)']);
    const exists = await failure('ALTER TABLE t ADD COLUMNS (extra STRING, AMOUNT DECIMAL(9,1))');
    expect([exists.errorClass, exists.sqlState]).toEqual(['FIELDS_ALREADY_EXISTS', '42710']);
    expect((await run('SHOW COLUMNS IN t')).map((r) => r.col_name)).toEqual(['id', 'supplier', 'amount']);
  });

  it('maps Databricks types and reports them with Databricks names', async () => {
    await run(
      'CREATE TABLE types (s STRING, i INT, b BIGINT, d DECIMAL(38,10), dd DECIMAL, dt DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, f BOOLEAN, x DOUBLE, arr ARRAY<STRING>, st STRUCT<a: INT, b: STRING>)',
    );
    expect((await run('DESCRIBE TABLE types')).map((r) => r.data_type)).toEqual([
      'string', 'int', 'bigint', 'decimal(38,10)', 'decimal(10,0)', 'date', 'timestamp', 'timestamp_ntz', 'boolean', 'double',
      'array<string>', 'struct<a:int,b:string>',
    ]);
  });

  it('creates schemas in other catalogs and requires catalogs to exist', async () => {
    const missing = await failure('CREATE SCHEMA IF NOT EXISTS nowhere.sales');
    expect([missing.errorClass, missing.sqlState]).toEqual(['NO_SUCH_CATALOG_EXCEPTION', '42704']);
    await run('CREATE CATALOG IF NOT EXISTS finance');
    await run('CREATE SCHEMA IF NOT EXISTS finance.ledger');
    await run('CREATE TABLE finance.ledger.entries (id INT)');
    expect(await run('SHOW SCHEMAS IN finance')).toEqual([{ databaseName: 'default' }, { databaseName: 'ledger' }]);
    expect(await run('SHOW CATALOGS')).toEqual([{ catalog: 'finance' }, { catalog: 'main' }]);
    expect((await failure('CREATE TABLE finance.nope.t (id INT)')).errorClass).toBe('SCHEMA_NOT_FOUND');
  });
});

describe('names and sessions', () => {
  it('resolves one-, two- and three-part names against USE', async () => {
    await run('CREATE CATALOG sales');
    await run('CREATE SCHEMA sales.ap');
    await run('CREATE TABLE sales.ap.t (v STRING)');
    await run("INSERT INTO sales.ap.t VALUES ('three-part')");
    await run('USE CATALOG sales');
    expect(await run('SELECT current_catalog() AS c, current_schema() AS s')).toEqual([{ c: 'sales', s: 'default' }]);
    expect(await run('SELECT v FROM ap.t')).toEqual([{ v: 'three-part' }]);
    await run('USE SCHEMA ap');
    expect(await run('SELECT v FROM t')).toEqual([{ v: 'three-part' }]);
    await run('USE main.default');
    expect((await failure('SELECT v FROM t')).errorClass).toBe('TABLE_OR_VIEW_NOT_FOUND');
    expect((await failure('USE SCHEMA nope')).errorClass).toBe('SCHEMA_NOT_FOUND');
    expect((await failure('SELECT * FROM nope.ap.t')).errorClass).toBe('NO_SUCH_CATALOG_EXCEPTION');
  });

  it('maps three-part names in every table position: joins, comma lists, subqueries, INSERT, UPDATE, DELETE', async () => {
    await run('CREATE TABLE main.default.a (id INT, v STRING)');
    await run('CREATE TABLE main.default.b (id INT, w STRING)');
    await run("INSERT INTO main.default.a VALUES (1, 'x'), (2, 'y')");
    await run("INSERT INTO main.default.b SELECT id, upper(v) FROM main.default.a");
    expect(
      await run(
        'SELECT q.v, q.w, c.id FROM (SELECT a.v, b.w FROM main.default.a a, main.default.b b WHERE a.id = b.id) q ' +
          'JOIN main.default.b c ON c.w = q.w WHERE q.v IN (SELECT v FROM main.default.a) ORDER BY q.v',
      ),
    ).toEqual([
      { v: 'x', w: 'X', id: 1 },
      { v: 'y', w: 'Y', id: 2 },
    ]);
    await run("UPDATE main.default.b SET w = 'z' WHERE id IN (SELECT id FROM main.default.a WHERE v = 'x')");
    await run('DELETE FROM main.default.b WHERE EXISTS (SELECT 1 FROM main.default.a WHERE a.id = b.id AND a.v = \'y\')');
    expect(await run('SELECT id, w FROM main.default.b')).toEqual([{ id: 1, w: 'z' }]);
  });

  it('answers SHOW TABLES with LIKE patterns, SHOW COLUMNS and information_schema', async () => {
    await run('CREATE SCHEMA main.ap');
    await run('CREATE TABLE main.ap.invoices (id BIGINT NOT NULL, amount DECIMAL(17,2))');
    await run('CREATE TABLE main.ap.suppliers (id BIGINT)');
    expect((await run("SHOW TABLES IN main.ap LIKE 'inv*|sup*'")).map((r) => r.tableName)).toEqual(['invoices', 'suppliers']);
    expect((await run("SHOW TABLES IN main.ap LIKE 'inv*'")).map((r) => r.tableName)).toEqual(['invoices']);
    expect(
      await run(
        "SELECT column_name, data_type, full_data_type, ordinal_position, is_nullable, numeric_scale FROM main.information_schema.columns WHERE table_schema = 'ap' AND table_name = 'invoices' ORDER BY ordinal_position",
      ),
    ).toEqual([
      { column_name: 'id', data_type: 'BIGINT', full_data_type: 'bigint', ordinal_position: 0, is_nullable: 'NO', numeric_scale: null },
      { column_name: 'amount', data_type: 'DECIMAL', full_data_type: 'decimal(17,2)', ordinal_position: 1, is_nullable: 'YES', numeric_scale: 2 },
    ]);
    expect(await run("SELECT c.table_name FROM information_schema.tables c WHERE c.table_schema = 'ap' ORDER BY 1")).toEqual([
      { table_name: 'invoices' },
      { table_name: 'suppliers' },
    ]);
  });
});

describe('expressions', () => {
  it('turns <=> into a null-safe comparison', async () => {
    expect(await run('SELECT NULL <=> NULL AS a, 1 <=> NULL AS b, 1<=>1 AS c')).toEqual([{ a: true, b: false, c: true }]);
  });

  it('expands a JSON array parameter with from_json + inline, keeping decimals exact', async () => {
    const rows = JSON.stringify([
      { id: '1', amount: 123456789012345.67, note: 'it\'s "quoted"' },
      { id: '2', amount: '0.10', note: null },
    ]);
    expect(
      await run(
        "SELECT * FROM (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<id: STRING, amount: DECIMAL(17,2), note: STRING>>'))) ORDER BY id",
        { rows: ['STRING', rows] },
      ),
    ).toEqual([
      { id: '1', amount: '123456789012345.67', note: 'it\'s "quoted"' },
      { id: '2', amount: '0.10', note: null },
    ]);
  });

  it('calls inline and explode as table references, the form Databricks recommends (inline in the SELECT list is deprecated)', async () => {
    const rows = JSON.stringify([{ id: '1', amount: '12.50' }, { id: '2', amount: '-0.05' }]);
    expect(
      await run("SELECT r.id, r.amount FROM inline(from_json(:rows, 'ARRAY<STRUCT<id: STRING, amount: DECIMAL(15,2)>>')) AS r ORDER BY r.id", {
        rows: ['STRING', rows],
      }),
    ).toEqual([{ id: '1', amount: '12.50' }, { id: '2', amount: '-0.05' }]);
    expect(await run('SELECT e.col FROM explode(array(3, 4)) AS e')).toEqual([{ col: 3 }, { col: 4 }]);
  });

  it('reads JSON text with get_json_object (NULL for text that is not JSON), matches with regexp_like, fails with raise_error', async () => {
    expect(
      await run(`SELECT get_json_object(:j, '$.record.CUAM') AS amount, get_json_object(:j, '$.call') AS call, get_json_object('not json', '$.a') AS bad,
        regexp_like('-12.', '^-?([0-9]+([.][0-9]*)?|[.][0-9]+)$') AS number, regexp_extract(:j, ',"record":(.*)}$', 1) AS record`, {
        j: ['STRING', '{"call":{"program":"X","table":"T"},"record":{"CUAM":"12.50","TX":"å \\"q\\""}}'],
      }),
    ).toEqual([{ amount: '12.50', call: '{"program":"X","table":"T"}', bad: null, number: true, record: '{"CUAM":"12.50","TX":"å \\"q\\""}' }]);
    const raised = await failure("SELECT CASE WHEN x > 1 THEN raise_error(concat('row ', CAST(x AS STRING), ' is bad')) ELSE x END FROM range(0, 3) t(x)");
    expect([raised.errorClass, raised.sqlState, raised.detail]).toEqual(['USER_RAISED_EXCEPTION', 'P0001', 'row 2 is bad']);
  });

  it('expands with explode and r.*, and accepts DDL-style schemas', async () => {
    const rows = JSON.stringify([{ a: 'x', b: 1 }, { a: 'y', b: 2 }]);
    expect(await run("SELECT r.* FROM (SELECT explode(from_json(:rows, 'ARRAY<STRUCT<a: STRING, b: BIGINT>>')) AS r)", { rows: ['STRING', rows] })).toEqual([
      { a: 'x', b: 1n },
      { a: 'y', b: 2n },
    ]);
    expect(await run("SELECT from_json('{\"a\": 5, \"b\": \"z\"}', 'a INT, b STRING').b AS b")).toEqual([{ b: 'z' }]);
  });

  it('parses dates: to_date fails on bad input (ANSI), try_to_date returns NULL', async () => {
    expect(await run("SELECT to_date('20240229', 'yyyyMMdd') AS a, try_to_date('20240230', 'yyyyMMdd') AS b, to_date('2024-01-31') AS c")).toEqual([
      { a: '2024-02-29', b: null, c: '2024-01-31' },
    ]);
    expect((await failure("SELECT to_date('2024x', 'yyyyMMdd')")).errorClass).toBe('CANNOT_PARSE_TIMESTAMP');
    expect((await failure("SELECT to_date('20240230', 'yyyyMMdd')")).errorClass).toBe('CANNOT_PARSE_TIMESTAMP');
    expect(await run("SELECT to_timestamp('2024-03-14 01:02:03', 'yyyy-MM-dd HH:mm:ss') AS t")).toEqual([{ t: '2024-03-14 01:02:03' }]);
    expect(sparkDatetimePatternToStrftime("yyyy-MM-dd'T'HH:mm:ss.SSS")).toBe('%Y-%m-%dT%H:%M:%S.%g');
  });

  it("counts days with Spark's datediff(end, start) (DuckDB's has a part first and the other order) and knows current_date()", async () => {
    expect(await run("SELECT datediff(DATE '2026-03-01', DATE '2026-02-27') AS a, datediff(DATE '2026-01-01', DATE '2026-01-31') AS b")).toEqual([{ a: 2, b: -30 }]);
    const [{ today }] = (await run('SELECT CAST(current_date() AS STRING) AS today')) as [{ today: string }];
    expect(today).toBe(new Date().toISOString().slice(0, 10));
    expect((await failure("SELECT datediff(DAY, DATE '2026-01-01', DATE '2026-01-02')")).errorClass).toBe('EMULATOR_UNSUPPORTED_STATEMENT');
  });

  it('supports try_cast, CAST to Databricks types, NULLIF, sha2, current_timestamp() and typed literals', async () => {
    const [row] = await run(
      "SELECT try_cast('12.345' AS DECIMAL(5,2)) AS a, try_cast('x' AS DECIMAL(5,2)) AS b, CAST(7 AS STRING) AS c, NULLIF('', '') AS d, " +
        "sha2('abc', 256) AS e, current_timestamp() AS f, TIMESTAMP '2024-01-01 00:00:00' AS g, 10L AS h",
    );
    expect(row).toMatchObject({
      a: '12.35',
      b: null,
      c: '7',
      d: null,
      e: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      g: '2024-01-01 00:00:00',
      h: 10n,
    });
    expect(row!.f).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
    expect((await failure("SELECT CAST('x' AS INT)")).errorClass).toBe('CAST_INVALID_INPUT');
  });

  it('builds structs with struct() and named_struct()', async () => {
    expect(await run("SELECT struct(1 AS a, 'x' AS b).b AS b, named_struct('k', 2, 'v', 'w').v AS v, to_json(named_struct('k', 2)) AS j")).toEqual([
      { b: 'x', v: 'w', j: '{"k":2}' },
    ]);
  });

  it('deduplicates with QUALIFY ROW_NUMBER() OVER (...)', async () => {
    await run('CREATE TABLE staged (id INT, version INT, v STRING)');
    await run("INSERT INTO staged VALUES (1, 1, 'old'), (1, 2, 'new'), (2, 1, 'only')");
    expect(await run('SELECT id, v FROM staged QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY version DESC) = 1 ORDER BY id')).toEqual([
      { id: 1, v: 'new' },
      { id: 2, v: 'only' },
    ]);
  });
});

describe('DML results', () => {
  it('reports affected rows like Databricks', async () => {
    await run('CREATE TABLE t (id INT, v STRING)');
    expect(await run("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")).toEqual([{ num_affected_rows: 3n, num_inserted_rows: 3n }]);
    expect(await run("UPDATE t SET v = 'z' WHERE id > 1")).toEqual([{ num_affected_rows: 2n }]);
    expect(await run('DELETE FROM t WHERE id = 3')).toEqual([{ num_affected_rows: 1n }]);
  });
});

describe('MERGE', () => {
  beforeEach(async () => {
    await run('CREATE TABLE target (id INT, name STRING, version INT, deleted BOOLEAN)');
    await run("INSERT INTO target VALUES (1, 'one', 1, false), (2, 'two', 1, false), (3, 'three', 1, false)");
  });

  it('matches UPDATE SET * and INSERT * by column name, and returns the four counts', async () => {
    const counts = await run(
      `MERGE INTO target AS t
       USING (SELECT false AS deleted, 2 AS version, 'TWO' AS name, 2 AS id UNION ALL SELECT false, 1, 'four', 4) AS s
       ON t.id = s.id
       WHEN MATCHED AND s.version > t.version THEN UPDATE SET *
       WHEN NOT MATCHED THEN INSERT *
       WHEN NOT MATCHED BY SOURCE AND t.id = 3 THEN DELETE`,
    );
    expect(counts).toEqual([{ num_affected_rows: 3n, num_updated_rows: 1n, num_deleted_rows: 1n, num_inserted_rows: 1n }]);
    expect(await run('SELECT id, name, version FROM target ORDER BY id')).toEqual([
      { id: 1, name: 'one', version: 1 },
      { id: 2, name: 'TWO', version: 2 },
      { id: 4, name: 'four', version: 1 },
    ]);
  });

  it('supports explicit SET lists, INSERT (cols) VALUES, soft deletes by source, and a staged source', async () => {
    await run('CREATE TABLE staged (id INT, name STRING, version INT)');
    await run("INSERT INTO staged VALUES (1, 'ONE', 2), (1, 'stale', 1), (5, 'five', 1)");
    const counts = await run(
      `MERGE INTO main.default.target t
       USING (SELECT * FROM main.default.staged QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY version DESC) = 1) s
       ON t.id <=> s.id
       WHEN MATCHED THEN UPDATE SET name = s.name, version = s.version
       WHEN NOT MATCHED THEN INSERT (id, name, version, deleted) VALUES (s.id, s.name, s.version, false)
       WHEN NOT MATCHED BY SOURCE THEN UPDATE SET deleted = true`,
    );
    expect(counts).toEqual([{ num_affected_rows: 4n, num_updated_rows: 3n, num_deleted_rows: 0n, num_inserted_rows: 1n }]);
    expect(await run('SELECT id, name, deleted FROM target ORDER BY id')).toEqual([
      { id: 1, name: 'ONE', deleted: false },
      { id: 2, name: 'two', deleted: true },
      { id: 3, name: 'three', deleted: true },
      { id: 5, name: 'five', deleted: false },
    ]);
  });

  it('fails with DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE and changes nothing', async () => {
    const error = await failure(
      "MERGE INTO target t USING (SELECT 1 AS id, 'a' AS name UNION ALL SELECT 1, 'b') s ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name",
    );
    expect([error.errorClass, error.sqlState]).toEqual(['DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE', '21506']);
    expect(await run('SELECT name FROM target WHERE id = 1')).toEqual([{ name: 'one' }]);
  });

  it('allows duplicate matches where Delta does: unconditional delete, or pairs that take no MATCHED action', async () => {
    const duplicates = "(SELECT 1 AS id, 5 AS version UNION ALL SELECT 1, 0) s";
    expect(await run(`MERGE INTO target t USING ${duplicates} ON t.id = s.id WHEN MATCHED AND s.version > t.version THEN UPDATE SET version = s.version`)).toEqual([
      { num_affected_rows: 1n, num_updated_rows: 1n, num_deleted_rows: 0n, num_inserted_rows: 0n },
    ]);
    expect(await run(`MERGE INTO target t USING ${duplicates} ON t.id = s.id WHEN MATCHED THEN DELETE`)).toEqual([
      { num_affected_rows: 1n, num_updated_rows: 0n, num_deleted_rows: 1n, num_inserted_rows: 0n },
    ]);
  });

  it('requires every target column in the source for UPDATE SET *', async () => {
    const error = await failure('MERGE INTO target t USING (SELECT 1 AS id) s ON t.id = s.id WHEN MATCHED THEN UPDATE SET *');
    expect(error.errorClass).toBe('DELTA_MERGE_UNRESOLVED_EXPRESSION');
  });
});

describe('outside the subset', () => {
  it('fails clearly instead of guessing', async () => {
    await run('CREATE TABLE t (id INT)');
    // COPY INTO reads only what an external location covers (none here); other sources are not emulated.
    expect((await failure("COPY INTO t FROM 's3://bucket/x' FILEFORMAT = JSON")).errorClass).toBe('INSUFFICIENT_PERMISSIONS');
    expect((await failure("COPY INTO t FROM 'abfss://c@a.dfs.core.windows.net/x' FILEFORMAT = JSON")).errorClass).toBe('EMULATOR_UNSUPPORTED_STATEMENT');
    expect((await failure("COPY INTO t FROM 's3://bucket/x' FILEFORMAT = CSV VALIDATE ALL")).errorClass).toBe('EMULATOR_UNSUPPORTED_STATEMENT');
    expect((await failure('MERGE WITH SCHEMA EVOLUTION INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET *')).errorClass).toBe(
      'EMULATOR_UNSUPPORTED_STATEMENT',
    );
    expect(() => translateStatement('SELECT sha2(x, 512) FROM t', StatementParameters.none)).toThrow(/only 256 bits/);
  });

  it('accepts table maintenance and settings as no-ops', async () => {
    await run('CREATE TABLE t (id INT)');
    for (const sql of ['OPTIMIZE t', 'VACUUM t', "SET spark.sql.ansi.enabled = true", "ALTER TABLE t SET TBLPROPERTIES ('a' = 'b')"]) {
      expect(await run(sql)).toEqual([]);
    }
  });
});
