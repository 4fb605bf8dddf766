// The emulator through the real @databricks/sql driver: protocol, types, limits, faults and persistence.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DBSQLParameter, DBSQLParameterType, type DBSQLClient } from '@databricks/sql';
import { connectToEmulator, startWarehouseEmulator, type WarehouseEmulator } from '../../../infra/local/emulators/databricks/index.ts';

// The driver's error classes are not exported from its entry point; load them from the same module instances.
const requireDriver = createRequire(import.meta.url);
type DriverError = Error & { statusCode?: number; response?: { sqlState?: string; displayMessage?: string } };
const { default: OperationStateError } = requireDriver('@databricks/sql/dist/errors/OperationStateError.js') as {
  default: new () => DriverError;
};
const { default: StatusError } = requireDriver('@databricks/sql/dist/errors/StatusError.js') as { default: new () => DriverError };
const { THTTPException } = requireDriver('@databricks/sql/dist/connection/connections/ThriftHttpConnection.js') as {
  THTTPException: new () => DriverError;
};

type DBSQLSession = Awaited<ReturnType<DBSQLClient['openSession']>>;
type ExecuteOptions = Parameters<DBSQLSession['executeStatement']>[1];

async function execute(session: DBSQLSession, sql: string, options?: ExecuteOptions & { maxRows?: number }) {
  const operation = await session.executeStatement(sql, options);
  try {
    await operation.finished();
    return await operation.fetchAll(options?.maxRows ? { maxRows: options.maxRows } : undefined);
  } finally {
    await operation.close();
  }
}

async function failureOf(work: Promise<unknown>): Promise<DriverError> {
  try {
    await work;
  } catch (error) {
    return error as DriverError;
  }
  throw new Error('expected the call to fail');
}

describe('the emulator through the real driver', () => {
  let emulator: WarehouseEmulator;
  let client: DBSQLClient;
  let session: DBSQLSession;

  beforeAll(async () => {
    emulator = await startWarehouseEmulator();
    ({ client } = await connectToEmulator(emulator, { retryDelayMin: 5, retryDelayMax: 20 }));
    session = await client.openSession({ initialCatalog: 'main', initialSchema: 'default' });
  });
  afterEach(() => emulator.clearFaults());
  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  it('round-trips named parameters and values exactly: DECIMAL, 18-digit numbers, hostile strings', async () => {
    const hostile = `O'Brien \\ "quoted" ✓ 日本 '; DROP TABLE x; -- :notAParam ?`;
    const rows = await execute(session, 'SELECT :amount AS amount, :digits AS digits, :big AS big, :text AS text, :text = :text AS same', {
      namedParameters: {
        amount: new DBSQLParameter({ type: DBSQLParameterType.DECIMAL, value: '123456789012.34' }),
        digits: '123456789012345678',
        big: 123456789012345678n,
        text: hostile,
      },
    });
    expect(rows).toEqual([{ amount: '123456789012.34', digits: '123456789012345678', big: 123456789012345678n, text: hostile, same: true }]);
  });

  it('returns the JS types a real warehouse returns with Arrow (DECIMAL string, BIGINT bigint, DATE/TIMESTAMP Date)', async () => {
    const [row] = await execute(
      session,
      "SELECT CAST('99999999999999999.99' AS DECIMAL(19,2)) AS d, CAST('1234567890123456789012345678.9012345678' AS DECIMAL(38,10)) AS wide, " +
        "9007199254740993 AS b, 42 AS i, DATE '2024-02-29' AS day, " +
        "TIMESTAMP '2024-03-14 01:02:03.456' AS at, 'x' AS s, true AS f, CAST(NULL AS STRING) AS n",
    );
    expect(row).toEqual({
      d: '99999999999999999.99',
      wide: '1234567890123456789012345678.9012345678',
      b: 9007199254740993n,
      i: 42,
      day: new Date('2024-02-29T00:00:00Z'),
      at: new Date('2024-03-14T01:02:03.456Z'),
      s: 'x',
      f: true,
      n: null,
    });
  });

  it('reproduces the driver losing large negative DECIMALs from Arrow; CAST(... AS STRING) reads them exactly', async () => {
    // @databricks/sql 2.1.0 turns a 128-bit Arrow decimal into text and then negates that text as a JS number.
    // A real warehouse sends the same Arrow type, so a loader must read such amounts back as strings.
    const exact = '-1234567890123456.78';
    const [row] = (await execute(
      session,
      `SELECT CAST('${exact}' AS DECIMAL(18,2)) AS lossy, CAST(CAST('${exact}' AS DECIMAL(18,2)) AS STRING) AS text`,
    )) as Array<Record<string, unknown>>;
    expect(row!.lossy).not.toBe(exact);
    expect(row!.text).toBe(exact);
  });

  it('binds ordinal parameters', async () => {
    expect(await execute(session, 'SELECT ? AS a, ? AS b', { ordinalParameters: ['x', 2] })).toEqual([{ a: 'x', b: 2 }]);
  });

  it('pages large results over several FetchResults calls', async () => {
    const rows = await execute(session, 'SELECT id FROM range(2500) t(id) ORDER BY id', { maxRows: 1000 });
    expect(rows).toHaveLength(2500);
    expect(rows.at(-1)).toEqual({ id: 2499n });
  });

  it('reports SQL errors as OperationStateError carrying the Databricks class and SQLSTATE', async () => {
    const error = await failureOf(execute(session, 'SELECT * FROM main.nowhere.invoices'));
    expect(error).toBeInstanceOf(OperationStateError);
    expect(error.response?.sqlState).toBe('42P01');
    expect(error.message).toMatch(/^\[TABLE_OR_VIEW_NOT_FOUND\]/);
    // A column the table lacks (e.g. dropped behind a loader's back), referenced through an alias.
    await execute(session, 'CREATE TABLE main.default.narrow (a STRING)');
    const column = await failureOf(execute(session, 'SELECT count(*) FROM main.default.narrow AS t WHERE t.b IS NULL'));
    expect(column.response?.sqlState).toBe('42703');
    expect(column.message).toMatch(/^\[UNRESOLVED_COLUMN\.WITH_SUGGESTION\] .*`t`\.`b` cannot be resolved/);
  });

  it('rejects a wrong bearer token with HTTP 401', async () => {
    const { client: intruder } = await connectToEmulator(emulator, { token: 'dapi-wrong' });
    try {
      const error = await failureOf(intruder.openSession());
      expect(error).toBeInstanceOf(THTTPException);
      expect(error.statusCode).toBe(401);
    } finally {
      await intruder.close();
    }
  });

  it('raises an injected 503 on ExecuteStatement without a driver retry; the next call works', async () => {
    emulator.injectFault({ rpc: 'ExecuteStatement', kind: 'http503' });
    const logged = emulator.statements.length;
    const error = await failureOf(execute(session, 'SELECT 1 AS one'));
    expect(error).toBeInstanceOf(THTTPException);
    expect(error.statusCode).toBe(503);
    expect(emulator.statements).toHaveLength(logged); // never reached the warehouse
    expect(await execute(session, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('retries an injected 503 on GetOperationStatus inside the driver (an idempotent RPC)', async () => {
    emulator.injectFault({ rpc: 'GetOperationStatus', kind: 'http503', count: 2 });
    expect(await execute(session, 'SELECT 2 AS two')).toEqual([{ two: 2 }]);
  });

  it('raises an injected 500 on FetchResults, only for the statement it matches', async () => {
    emulator.injectFault({ rpc: 'FetchResults', kind: 'http500', matchSql: /FROM range/ });
    expect(await execute(session, 'SELECT 3 AS three')).toEqual([{ three: 3 }]);
    const error = await failureOf(execute(session, 'SELECT * FROM range(3)'));
    expect(error.statusCode).toBe(500);
  });

  it('fails a matching statement with an injected error state (OperationStateError with sqlState)', async () => {
    emulator.injectFault({ rpc: 'ExecuteStatement', kind: 'error-state', errorClass: 'DELTA_CONCURRENT_APPEND', sqlState: '2D521', matchSql: /^MERGE/ });
    expect(await execute(session, 'SELECT 4 AS four')).toEqual([{ four: 4 }]);
    const error = await failureOf(execute(session, 'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE'));
    expect(error).toBeInstanceOf(OperationStateError);
    expect(error.response?.sqlState).toBe('2D521');
    expect(error.message).toMatch(/^\[DELTA_CONCURRENT_APPEND\]/);
  });

  it('runs a statement and then loses its answer: the client sees a dropped connection, the row is there', async () => {
    await execute(session, 'CREATE TABLE main.default.lost (id INT)');
    emulator.injectFault({ rpc: 'ExecuteStatement', kind: 'lost-answer', matchSql: /^INSERT/ });
    const error = await failureOf(execute(session, 'INSERT INTO main.default.lost VALUES (1)'));
    expect(`${(error as { code?: string }).code ?? ''} ${error.message}`).toMatch(/ECONNRESET|socket hang up/);
    expect(await emulator.query('SELECT count(*) AS n FROM main.default.lost')).toEqual([{ n: 1n }]);
    // Once: the retry is answered (and here inserts again: making it idempotent is the loader's job).
    await execute(session, 'INSERT INTO main.default.lost VALUES (1)');
    expect(await emulator.query('SELECT count(*) AS n FROM main.default.lost')).toEqual([{ n: 2n }]);
  });

  it('rejects 257 parameters with HTTP 400 (Databricks allows 256)', async () => {
    const names = Array.from({ length: 257 }, (_, i) => `p${i}`);
    const sql = `SELECT concat(${names.map((n) => `:${n}`).join(', ')}) AS joined`;
    const params = (count: number) => Object.fromEntries(names.slice(0, count).map((n) => [n, 'x']));
    const error = await failureOf(execute(session, sql, { namedParameters: params(257) }));
    expect(error).toBeInstanceOf(THTTPException);
    expect(error.statusCode).toBe(400);
    const sql256 = `SELECT concat(${names.slice(0, 256).map((n) => `:${n}`).join(', ')}) AS joined`;
    expect(await execute(session, sql256, { namedParameters: params(256) })).toEqual([{ joined: 'x'.repeat(256) }]);
  });

  it('rejects a statement over the size limit (text plus parameter values)', async () => {
    const error = await failureOf(execute(session, 'SELECT length(:blob) AS n', { namedParameters: { blob: 'x'.repeat(1_048_576) } }));
    expect(error).toBeInstanceOf(OperationStateError);
    expect(error.response?.sqlState).toBe('54000');
    expect(error.message).toMatch(/^\[EMULATOR_STATEMENT_TOO_LARGE\]/);
    expect(emulator.statements.at(-1)).toMatchObject({ ok: false, bytes: 1_048_576 + 'SELECT length(:blob) AS n'.length });
  });

  it('fails a merge whose source matches one target row twice with 21506', async () => {
    await execute(session, 'CREATE TABLE IF NOT EXISTS dup_target (id INT, v STRING)');
    await execute(session, "INSERT INTO dup_target VALUES (1, 'a')");
    const error = await failureOf(
      execute(session, "MERGE INTO dup_target t USING (SELECT 1 AS id, 'x' AS v UNION ALL SELECT 1, 'y') s ON t.id = s.id WHEN MATCHED THEN UPDATE SET *"),
    );
    expect(error.response?.sqlState).toBe('21506');
    expect(error.message).toMatch(/^\[DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE\]/);
  });

  it('runs a loader flow: Delta DDL, ADD COLUMNS, and a MERGE of 1000 JSON rows returning four counts', async () => {
    await execute(session, 'CREATE SCHEMA IF NOT EXISTS main.procurement');
    await execute(
      session,
      `CREATE TABLE IF NOT EXISTS main.procurement.\`purchase_orders\` (\`po_id\` STRING NOT NULL, \`amount\` DECIMAL(17,2), \`changed_at\` TIMESTAMP)
       USING DELTA CLUSTER BY (\`po_id\`) TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')`,
    );
    await execute(session, 'ALTER TABLE main.procurement.purchase_orders ADD COLUMNS (`supplier` STRING, `tax` DECIMAL(15,2))');
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      po_id: `PO${String(i).padStart(5, '0')}`,
      amount: `${i}123456789.01`,
      changed_at: '2024-05-01T10:00:00Z',
      supplier: `Supplier "${i}" ✓`,
      tax: '0.19',
    }));
    const merge = `MERGE INTO main.procurement.purchase_orders AS t
      USING (SELECT * FROM (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<po_id: STRING, amount: DECIMAL(17,2), changed_at: TIMESTAMP, supplier: STRING, tax: DECIMAL(15,2)>>')))
             QUALIFY ROW_NUMBER() OVER (PARTITION BY po_id ORDER BY changed_at DESC) = 1) AS s
      ON t.po_id = s.po_id
      WHEN MATCHED AND s.changed_at > t.changed_at THEN UPDATE SET *
      WHEN NOT MATCHED THEN INSERT *`;
    expect(await execute(session, merge, { namedParameters: { rows: JSON.stringify(rows) } })).toEqual([
      { num_affected_rows: 1000n, num_updated_rows: 0n, num_deleted_rows: 0n, num_inserted_rows: 1000n },
    ]);
    const changed = rows.slice(0, 10).map((r) => ({ ...r, amount: '1.00', changed_at: '2024-05-02T10:00:00Z' }));
    expect(await execute(session, merge, { namedParameters: { rows: JSON.stringify(changed) } })).toEqual([
      { num_affected_rows: 10n, num_updated_rows: 10n, num_deleted_rows: 0n, num_inserted_rows: 0n },
    ]);
    expect(await emulator.query("SELECT count(*) AS n, sum(amount) AS total FROM main.procurement.purchase_orders WHERE po_id >= 'PO00010'")).toEqual([
      { n: 990n, total: rows.slice(10).reduce((sum, r) => sum + BigInt(r.amount.replace('.', '')), 0n).toString().replace(/(\d{2})$/, '.$1') },
    ]);
    expect(await execute(session, 'DESCRIBE TABLE main.procurement.purchase_orders')).toEqual([
      { col_name: 'po_id', data_type: 'string', comment: null },
      { col_name: 'amount', data_type: 'decimal(17,2)', comment: null },
      { col_name: 'changed_at', data_type: 'timestamp', comment: null },
      { col_name: 'supplier', data_type: 'string', comment: null },
      { col_name: 'tax', data_type: 'decimal(15,2)', comment: null },
      // DBR prints the clustering keys in a section after the columns.
      { col_name: '# Clustering Information', data_type: '', comment: '' },
      { col_name: '# col_name', data_type: 'data_type', comment: 'comment' },
      { col_name: 'po_id', data_type: 'string', comment: null },
    ]);
  });

  it('logs every executed statement with its parameters, translated SQL, outcome and size', async () => {
    await failureOf(execute(session, 'SELECT * FROM main.default.missing_table'));
    expect(emulator.statements.at(-1)).toMatchObject({
      ok: false,
      sqlState: '42P01',
      translatedSql: 'SELECT * FROM "uc_main"."default"."missing_table"',
      error: expect.stringMatching(/^\[TABLE_OR_VIEW_NOT_FOUND\]/),
    });
    await execute(session, 'SELECT :who AS who', { namedParameters: { who: 'me' } });
    expect(emulator.statements.at(-1)).toMatchObject({
      sql: 'SELECT :who AS who',
      parameters: { who: 'me' },
      translatedSql: 'SELECT $who AS who',
      ok: true,
      rows: 1,
      bytes: 'SELECT :who AS who'.length + 2,
    });
    expect(emulator.statements.at(-1)?.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('honours USE CATALOG / USE SCHEMA / USE x.y per session', async () => {
    await execute(session, 'CREATE CATALOG IF NOT EXISTS finance');
    await execute(session, 'CREATE SCHEMA IF NOT EXISTS finance.gl');
    await execute(session, 'CREATE TABLE IF NOT EXISTS finance.gl.accounts (id INT)');
    const other = await client.openSession({ initialCatalog: 'finance', initialSchema: 'gl' });
    try {
      expect(await execute(other, 'SELECT current_catalog() AS c, current_schema() AS s')).toEqual([{ c: 'finance', s: 'gl' }]);
      await execute(other, 'USE main.procurement');
      expect(await execute(other, 'SELECT current_catalog() AS c, current_schema() AS s')).toEqual([{ c: 'main', s: 'procurement' }]);
      await execute(other, 'USE CATALOG finance');
      await execute(other, 'USE SCHEMA gl');
      expect(await execute(other, 'SELECT count(*) AS n FROM accounts')).toEqual([{ n: 0n }]);
      expect(await execute(session, 'SELECT current_catalog() AS c, current_schema() AS s')).toEqual([{ c: 'main', s: 'default' }]);
    } finally {
      await other.close();
    }
  });

  it('refuses a session on a catalog that does not exist, and unsupported metadata RPCs, with a StatusError', async () => {
    const error = await failureOf(client.openSession({ initialCatalog: 'nowhere' }));
    expect(error).toBeInstanceOf(StatusError);
    expect(error.message).toMatch(/NO_SUCH_CATALOG_EXCEPTION/);
    const rpc = await failureOf(session.getTables({ catalogName: 'main' }));
    expect(rpc).toBeInstanceOf(StatusError);
    expect(rpc.message).toMatch(/does not support the GetTables RPC/);
  });

  it('falls back to column-based results when the client disables Arrow', async () => {
    const { client: columnClient } = await connectToEmulator(emulator);
    columnClient.getConfig().arrowEnabled = false;
    try {
      const columnSession = await columnClient.openSession();
      const rows = await execute(columnSession, "SELECT 'x' AS s, 7 AS i, CAST('12.50' AS DECIMAL(5,2)) AS d, DATE '2024-01-02' AS day, NULL AS n");
      // COLUMN_BASED_SET is decoded by the driver's JSON handler: DECIMAL becomes a JS number, DATE stays text.
      expect(rows).toEqual([{ s: 'x', i: 7, d: 12.5, day: '2024-01-02', n: null }]);
    } finally {
      await columnClient.close();
    }
  });
});

describe('warehouse lifecycle', () => {
  it('answers ExecuteStatement with 503 while the warehouse is starting', async () => {
    const emulator = await startWarehouseEmulator({ startingPhaseMs: 300 });
    const { client } = await connectToEmulator(emulator);
    try {
      const session = await client.openSession();
      const error = await failureOf(execute(session, 'SELECT 1 AS one'));
      expect(error.statusCode).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 350));
      expect(await execute(session, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await client.close();
      await emulator.close();
    }
  });

  it('persists every catalog to its own file and reopens them', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'warehouse-emulator-'));
    const dbFile = path.join(dir, 'warehouse.duckdb');
    try {
      const first = await startWarehouseEmulator({ dbFile });
      const { client } = await connectToEmulator(first);
      const session = await client.openSession();
      await execute(session, 'CREATE CATALOG sales');
      await execute(session, 'CREATE SCHEMA sales.orders');
      await execute(session, 'CREATE TABLE sales.orders.lines (id BIGINT, amount DECIMAL(17,2)) USING DELTA');
      await execute(session, 'INSERT INTO sales.orders.lines VALUES (1, 10.50), (2, 99999999999999.99)');
      await execute(session, "CREATE TABLE main.default.marker AS SELECT 'kept' AS v");
      await client.close();
      await first.close();

      expect(['warehouse.duckdb', 'warehouse.main.duckdb', 'warehouse.sales.duckdb'].map((f) => existsSync(path.join(dir, f)))).toEqual([true, true, true]);

      const second = await startWarehouseEmulator({ dbFile });
      try {
        expect(await second.query('SELECT id, amount FROM sales.orders.lines ORDER BY id')).toEqual([
          { id: 1n, amount: '10.50' },
          { id: 2n, amount: '99999999999999.99' },
        ]);
        expect(await second.query('SELECT v FROM main.default.marker')).toEqual([{ v: 'kept' }]);
        expect(await second.query('SHOW CATALOGS')).toEqual([{ catalog: 'main' }, { catalog: 'sales' }]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
