// The warehouse engine: one DuckDB instance, the catalogs, and sessions that execute translated Databricks
// statements. Protocol-agnostic: the Thrift handler turns its results and errors into wire responses.
import { randomUUID } from 'node:crypto';
import { DuckDBInstance, StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { CatalogStore, DEFAULT_CATALOG, DEFAULT_SCHEMA } from './catalogs.ts';
import { readSourceLines, sourceFiles, sourceRelation, type StorageAccess } from './copyInto.ts';
import { WarehouseError, databricksErrors, toWarehouseError } from './errors.ts';
import { catalogAlias, catalogFromAlias, quoteIdent, quoteLiteral } from './identifiers.ts';
import { renderMerge, renderMultipleMatchCheck, renderNotMatchedBySource } from './mergeStatement.ts';
import { StatementParameters } from './parameters.ts';
import { EMPTY_RESULT, resultFromReader, resultFromRows, type CellValue, type ResultColumn, type ResultSet } from './results.ts';
import { databricksTypeName, sparkTypeOfDuckDb, type SparkType } from './sparkTypes.ts';
import {
  checkClustering,
  forgetTable,
  loadedFiles,
  METADATA_SCHEMA,
  recordLoadedFiles,
  readClustering,
  readProperties,
  setProperty,
  unsetProperty,
  writeMetadata,
  type TableRef,
} from './tableMetadata.ts';
import {
  CATALOG_VIEW_TABLES,
  objectSql,
  showPatternMatches,
  translateStatement,
  type ColumnDefinition,
  type CopyIntoPlan,
  type MergePlan,
  type ObjectName,
  type Plan,
} from './sqlTranslator.ts';

/**
 * Knobs of the warehouse a test or the local sync may turn while it runs (settings, not faults): what the
 * principal may do.
 */
export interface WarehouseSettings {
  /** What COPY INTO can read (an S3 client and the external locations over it); without it COPY INTO is refused. */
  storage?: StorageAccess;
  privileges: {
    /** false: the principal lacks CREATE SCHEMA on every catalog, so even CREATE SCHEMA IF NOT EXISTS of an existing schema fails. */
    createSchema: boolean;
  };
}

export function defaultWarehouseSettings(): WarehouseSettings {
  return { privileges: { createSchema: true } };
}

export interface StatementOutcome {
  readonly result: ResultSet;
  readonly translatedSql: string;
  /** Rows written by DML and MERGE; rows returned otherwise. */
  readonly rows: number;
  /** Uncompressed bytes COPY INTO read from its files. */
  readonly bytesRead?: number;
}

const STRING: SparkType = { kind: 'primitive', name: 'string' };
const BIGINT: SparkType = { kind: 'primitive', name: 'bigint' };
const BOOLEAN: SparkType = { kind: 'primitive', name: 'boolean' };
const column = (name: string, type: SparkType = STRING): ResultColumn => ({ name, type });

/** A statement that failed: the Databricks error, and the DuckDB SQL that was running (for the statement log). */
export class StatementFailure extends Error {
  override name = 'StatementFailure';
  constructor(
    readonly error: WarehouseError,
    readonly translatedSql: string,
  ) {
    super(error.message);
  }
}

interface Trace {
  /** The DuckDB SQL being executed, kept current so a failure can report it. */
  sql: string;
}

interface TableColumn {
  readonly name: string;
  readonly type: SparkType;
  readonly nullable: boolean;
  readonly comment: string | null;
}

interface ResolvedTable {
  readonly catalog: string;
  readonly schema: string;
  readonly name: string;
  readonly isView: boolean;
}

export class Warehouse {
  private readonly sessions = new Set<WarehouseSession>();
  private adminSession: WarehouseSession | undefined;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly admin: DuckDBConnection,
    readonly catalogs: CatalogStore,
    readonly settings: WarehouseSettings,
  ) {}

  static async open(dbFile: string, settings: WarehouseSettings = defaultWarehouseSettings()): Promise<Warehouse> {
    // json and icu are linked into the binding; never download extensions (tests must not need a network).
    const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
    const admin = await instance.connect();
    // Databricks sessions default to UTC; DuckDB renders and casts TIMESTAMPTZ in this zone.
    await admin.run(`SET GLOBAL TimeZone = 'UTC'`);
    try {
      const catalogs = await CatalogStore.open(admin, dbFile);
      return new Warehouse(instance, admin, catalogs, settings);
    } catch (error) {
      admin.closeSync();
      instance.closeSync();
      throw error;
    }
  }

  /** A session positioned on the initial namespace (default `main`.`default`), as OpenSession does. */
  async openSession(namespace: { catalog?: string | null; schema?: string | null } = {}): Promise<WarehouseSession> {
    const catalog = (namespace.catalog ?? DEFAULT_CATALOG).toLowerCase();
    const schema = (namespace.schema ?? DEFAULT_SCHEMA).toLowerCase();
    const connection = await this.instance.connect();
    const session = new WarehouseSession(connection, this.catalogs, this.settings, () => this.sessions.delete(session));
    try {
      await session.use(catalog, schema);
    } catch (error) {
      connection.closeSync();
      throw error;
    }
    this.sessions.add(session);
    return session;
  }

  /** Runs one Databricks statement on a private session (for assertions in tests); throws WarehouseError. */
  async query(sql: string): Promise<ResultSet> {
    this.adminSession ??= await this.openSession();
    try {
      return (await this.adminSession.execute(sql, StatementParameters.none)).result;
    } catch (error) {
      throw error instanceof StatementFailure ? error.error : error;
    }
  }

  async close(): Promise<void> {
    for (const session of [...this.sessions]) await session.close();
    await this.catalogs.close();
    this.admin.closeSync();
    this.instance.closeSync();
  }
}

export class WarehouseSession {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly catalogs: CatalogStore,
    private readonly settings: WarehouseSettings,
    private readonly onClose: () => void,
  ) {}

  /** Executes one statement (rejects with StatementFailure); statements of a session run one at a time, in order. */
  execute(sql: string, parameters: StatementParameters): Promise<StatementOutcome> {
    const run = this.queue.then(() => this.executeNow(sql, parameters));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    this.connection.closeSync();
    this.onClose();
  }

  private async executeNow(sql: string, parameters: StatementParameters): Promise<StatementOutcome> {
    const trace: Trace = { sql: '' };
    try {
      if (this.closed) throw new WarehouseError('INVALID_HANDLE', 'HY000', 'The session is closed.');
      return await this.run(translateStatement(sql, parameters), parameters, trace);
    } catch (error) {
      throw new StatementFailure(toWarehouseError(error), trace.sql);
    }
  }

  private async run(plan: Plan, parameters: StatementParameters, trace: Trace): Promise<StatementOutcome> {
    switch (plan.kind) {
      case 'sql':
        trace.sql = plan.sql;
        if (plan.usesCatalogViews) await this.refreshCatalogViews();
        return this.runSql(plan.sql, parameters);
      case 'script':
        trace.sql = plan.statements.join(';\n');
        await this.transaction(async () => {
          for (const statement of plan.statements) await this.runPrepared(statement, parameters);
        });
        return { result: EMPTY_RESULT, translatedSql: plan.statements.join(';\n'), rows: 0 };
      case 'merge':
        if (plan.usesCatalogViews) await this.refreshCatalogViews();
        return this.merge(plan.merge, parameters, trace);
      case 'addColumns':
        return this.addColumns(plan.table, plan.tableSql, plan.columns, trace);
      case 'createTable':
        return this.createTable(plan, parameters, trace);
      case 'createSchema': {
        if (!this.settings.privileges.createSchema) {
          const catalog = plan.catalog ?? (await this.currentNamespace()).catalog;
          throw new WarehouseError('INSUFFICIENT_PERMISSIONS', '42501', `Insufficient privileges: User does not have CREATE SCHEMA on Catalog '${catalog}'.`);
        }
        trace.sql = plan.statements.join(';\n');
        await this.transaction(async () => {
          for (const statement of plan.statements) await this.runPrepared(statement, parameters);
        });
        return { result: EMPTY_RESULT, translatedSql: trace.sql, rows: 0 };
      }
      case 'dropTable':
        return this.dropTable(plan.table, plan.ifExists, trace);
      case 'alterTableMetadata':
        return this.alterTableMetadata(plan);
      case 'showTblProperties':
        return this.showTblProperties(plan.table, plan.key);
      case 'commentColumn': {
        const table = await this.resolveTable(plan.table);
        if (table.isView) {
          throw new WarehouseError('EXPECT_TABLE_NOT_VIEW.NO_ALTERNATIVE', '42809', `'ALTER TABLE … ALTER COLUMN' expects a table but \`${table.catalog}\`.\`${table.schema}\`.\`${table.name}\` is a view.`);
        }
        const column = (await this.tableColumnsOf(table)).find((c) => c.name.toLowerCase() === plan.column.toLowerCase());
        if (!column) {
          throw new WarehouseError('UNRESOLVED_COLUMN.WITHOUT_SUGGESTION', '42703', `A column, variable, or function parameter with name \`${plan.column}\` cannot be resolved.`);
        }
        trace.sql = `COMMENT ON COLUMN ${objectSql(table)}.${quoteIdent(column.name)} IS ${quoteLiteral(plan.comment)}`;
        await this.connection.run(trace.sql);
        return { result: EMPTY_RESULT, translatedSql: trace.sql, rows: 0 };
      }
      case 'commentTable': {
        const table = await this.resolveTable(plan.table);
        trace.sql = `COMMENT ON ${table.isView ? 'VIEW' : 'TABLE'} ${objectSql(table)} IS ${plan.comment === null ? 'NULL' : quoteLiteral(plan.comment)}`;
        await this.connection.run(trace.sql);
        return { result: EMPTY_RESULT, translatedSql: trace.sql, rows: 0 };
      }
      case 'copyInto':
        return this.copyInto(plan, trace);
      case 'createCatalog':
        await this.catalogs.create(plan.name, { ifNotExists: plan.ifNotExists });
        return { result: EMPTY_RESULT, translatedSql: `-- create catalog ${plan.name} (ATTACH ${quoteIdent(catalogAlias(plan.name))})`, rows: 0 };
      case 'use': {
        const current = await this.currentNamespace();
        const catalog = plan.catalog ?? current.catalog;
        const schema = plan.schema ?? (plan.catalog === undefined ? current.schema : DEFAULT_SCHEMA);
        const translatedSql = await this.use(catalog, schema);
        return { result: EMPTY_RESULT, translatedSql, rows: 0 };
      }
      case 'describeTable': {
        const table = await this.resolveTable(plan.table);
        const columns = await this.tableColumnsOf(table);
        const rows = columns.map((c): CellValue[] => [c.name, databricksTypeName(c.type), c.comment]);
        // As DBR prints it: a section after the columns naming the clustering keys.
        const clustering = await readClustering(this.connection, table);
        if (clustering?.length) {
          rows.push(['# Clustering Information', '', ''], ['# col_name', 'data_type', 'comment']);
          for (const key of clustering) {
            const c = columns.find((col) => col.name.toLowerCase() === key);
            rows.push([c?.name ?? key, c ? databricksTypeName(c.type) : '', null]);
          }
        }
        const result = resultFromRows([column('col_name'), column('data_type'), column('comment')], rows);
        return { result, translatedSql: `-- describe ${plan.tableSql}`, rows: rows.length };
      }
      case 'showColumns': {
        const columns = await this.tableColumns(plan.table);
        const result = resultFromRows([column('col_name')], columns.map((c) => [c.name]));
        return { result, translatedSql: `-- show columns of ${plan.tableSql}`, rows: columns.length };
      }
      case 'showTables':
        return this.showTables(plan.catalog, plan.schema, plan.pattern);
      case 'showSchemas':
        return this.showSchemas(plan.catalog, plan.pattern);
      case 'showCatalogs': {
        const names = this.catalogs.names().filter((n) => plan.pattern === undefined || showPatternMatches(plan.pattern, n));
        const result = resultFromRows([column('catalog')], names.map((n) => [n]));
        return { result, translatedSql: '-- show catalogs', rows: names.length };
      }
      case 'noop':
        return { result: EMPTY_RESULT, translatedSql: '-- accepted without effect', rows: 0 };
    }
  }

  // ---- Plain statements -----------------------------------------------------------------------------

  private async runSql(sql: string, parameters: StatementParameters): Promise<StatementOutcome> {
    const prepared = await this.prepare(sql, parameters);
    const reader = await prepared.runAndReadAll();
    switch (reader.statementType) {
      case StatementType.INSERT: {
        const rows = reader.rowsChanged;
        const result = resultFromRows([column('num_affected_rows', BIGINT), column('num_inserted_rows', BIGINT)], [[BigInt(rows), BigInt(rows)]]);
        return { result, translatedSql: sql, rows };
      }
      case StatementType.UPDATE:
      case StatementType.DELETE: {
        const rows = reader.rowsChanged;
        return { result: resultFromRows([column('num_affected_rows', BIGINT)], [[BigInt(rows)]]), translatedSql: sql, rows };
      }
      case StatementType.SELECT:
      case StatementType.EXPLAIN:
      case StatementType.PRAGMA:
      case StatementType.CALL: {
        const result = await resultFromReader(reader);
        return { result, translatedSql: sql, rows: result.rowCount };
      }
      default:
        return { result: EMPTY_RESULT, translatedSql: sql, rows: 0 };
    }
  }

  private async prepare(sql: string, parameters: StatementParameters): Promise<DuckDBPreparedStatement> {
    const prepared = await this.connection.prepare(sql);
    for (let i = 1; i <= prepared.parameterCount; i += 1) {
      const value = parameters.valueFor(prepared.parameterName(i));
      if (value === null) prepared.bindNull(i);
      else prepared.bindVarchar(i, value);
    }
    return prepared;
  }

  private async runPrepared(sql: string, parameters: StatementParameters): Promise<void> {
    await (await this.prepare(sql, parameters)).run();
  }

  private async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.connection.run('BEGIN TRANSACTION');
    try {
      const result = await work();
      await this.connection.run('COMMIT');
      return result;
    } catch (error) {
      await this.connection.run('ROLLBACK').catch(() => undefined); // DuckDB may have ended the transaction already
      throw error;
    }
  }

  // ---- MERGE and schema changes ---------------------------------------------------------------------

  private async merge(plan: MergePlan, parameters: StatementParameters, trace: Trace): Promise<StatementOutcome> {
    const table = await this.resolveTable(plan.target);
    const targetColumns = (await this.tableColumnsOf(table)).map((c) => c.name);
    const mergeSql = renderMerge(plan, targetColumns);
    const bySource = renderNotMatchedBySource(plan, `__not_matched_by_source_${randomUUID().replaceAll('-', '')}`);
    const checkSql = renderMultipleMatchCheck(plan);
    const translatedSql = [
      ...(checkSql === undefined ? [] : [`-- multiple-match check\n${checkSql};`]),
      ...bySource.map(({ sql }) => `-- WHEN NOT MATCHED BY SOURCE\n${sql};`),
      ...(mergeSql === undefined ? [] : [mergeSql]),
    ].join('\n');
    trace.sql = translatedSql;
    await this.checkStarSources(plan, targetColumns, parameters);
    const actions = await this.transaction(async () => {
      if (checkSql !== undefined) {
        const duplicates = await (await this.prepare(checkSql, parameters)).runAndReadAll();
        if (duplicates.currentRowCount > 0) throw databricksErrors.multipleSourceRowsMatched();
      }
      const changed: unknown[] = [];
      for (const { sql, counted } of [...bySource, ...(mergeSql === undefined ? [] : [{ sql: mergeSql, counted: true }])]) {
        const reader = await (await this.prepare(sql, parameters)).runAndReadAll();
        if (counted) changed.push(...(reader.getColumnsJson()[0] ?? []));
      }
      return changed;
    });
    const count = (action: string) => BigInt(actions.filter((a) => a === action).length);
    const [updated, deleted, inserted] = [count('UPDATE'), count('DELETE'), count('INSERT')];
    const result = resultFromRows(
      ['num_affected_rows', 'num_updated_rows', 'num_deleted_rows', 'num_inserted_rows'].map((n) => column(n, BIGINT)),
      [[updated + deleted + inserted, updated, deleted, inserted]],
    );
    return { result, translatedSql, rows: actions.length };
  }

  /** `UPDATE SET *` / `INSERT *` need every target column in the source (Delta matches them by name). */
  private async checkStarSources(plan: MergePlan, targetColumns: readonly string[], parameters: StatementParameters): Promise<void> {
    const star = plan.clauses.find((c) => c.action.kind === 'updateAll' || c.action.kind === 'insertAll');
    if (!star) return;
    // Executed rather than only prepared: with unbound parameters DuckDB cannot name the columns yet.
    const probe = await (await this.prepare(`SELECT * FROM ${plan.sourceSql} AS ${quoteIdent(plan.sourceAlias)} LIMIT 0`, parameters)).run();
    const sourceColumns = probe.columnNames();
    const available = new Set(sourceColumns.map((c) => c.toLowerCase()));
    const missing = targetColumns.find((c) => !available.has(c.toLowerCase()));
    if (missing !== undefined) {
      const clause = star.action.kind === 'updateAll' ? 'UPDATE' : 'INSERT';
      throw databricksErrors.mergeUnresolvedColumn(`${plan.sourceAlias}.${missing}`, clause, sourceColumns.map((c) => `${plan.sourceAlias}.${c}`));
    }
  }

  private async addColumns(
    name: ObjectName,
    tableSql: string,
    columns: readonly ColumnDefinition[],
    trace: Trace,
  ): Promise<StatementOutcome> {
    const table = await this.resolveTable(name);
    const existing = new Set((await this.tableColumnsOf(table)).map((c) => c.name.toLowerCase()));
    const seen = new Set<string>();
    for (const c of columns) {
      const key = c.name.toLowerCase();
      if (existing.has(key) || seen.has(key)) throw databricksErrors.fieldsAlreadyExist(c.name, [table.catalog, table.schema, table.name]);
      seen.add(key);
    }
    const statements = columns.flatMap((c) => [
      `ALTER TABLE ${tableSql} ADD COLUMN ${quoteIdent(c.name)} ${c.typeSql}`,
      ...(c.comment === undefined ? [] : [`COMMENT ON COLUMN ${tableSql}.${quoteIdent(c.name)} IS ${quoteLiteral(c.comment)}`]),
    ]);
    trace.sql = statements.join(';\n');
    await this.transaction(async () => {
      for (const statement of statements) await this.connection.run(statement);
    });
    return { result: EMPTY_RESULT, translatedSql: statements.join(';\n'), rows: 0 };
  }

  // ---- Tables and what Delta keeps beside them -------------------------------------------------------

  private async tableRefOf(name: ObjectName): Promise<TableRef> {
    const current = await this.currentNamespace();
    return { catalog: name.catalog ?? current.catalog, schema: name.schema ?? current.schema, name: name.name.toLowerCase() };
  }

  private async findTable(name: ObjectName): Promise<ResolvedTable | undefined> {
    try {
      return await this.resolveTable(name);
    } catch (error) {
      if (error instanceof WarehouseError && error.errorClass === 'TABLE_OR_VIEW_NOT_FOUND') return undefined;
      throw error;
    }
  }

  /**
   * CREATE TABLE, checked as Delta checks it before anything is created: clustering keys exist, are at most 4
   * and have statistics under the statement's properties. The check runs even when IF NOT EXISTS finds the
   * table (stricter than needed: the statement would fail on a fresh warehouse).
   */
  private async createTable(plan: Extract<Plan, { kind: 'createTable' }>, parameters: StatementParameters, trace: Trace): Promise<StatementOutcome> {
    const ref = await this.tableRefOf(plan.table);
    this.catalogs.require(ref.catalog);
    const properties = new Map<string, string>();
    for (const [key, value] of plan.properties) setProperty(properties, key, value);
    const clustering = plan.clusterBy?.kind === 'columns' ? plan.clusterBy.columns : undefined;
    const label = `${ref.catalog}.${ref.schema}.${ref.name}`;
    if (clustering && plan.columns.length > 0) checkClustering(label, plan.columns.map((c) => c.name), properties, clustering);
    trace.sql = plan.statements.join(';\n');
    if (plan.ifNotExists && (await this.findTable(plan.table))) return { result: EMPTY_RESULT, translatedSql: trace.sql, rows: 0 };
    await this.transaction(async () => {
      for (const statement of plan.statements) await this.runPrepared(statement, parameters);
      if (clustering && plan.columns.length === 0) {
        const created = await this.resolveTable(plan.table);
        checkClustering(label, (await this.tableColumnsOf(created)).map((c) => c.name), properties, clustering);
      }
      await forgetTable(this.connection, ref);
      await writeMetadata(this.connection, ref, { properties, clustering: clustering ?? null });
    });
    return { result: EMPTY_RESULT, translatedSql: trace.sql, rows: 0 };
  }

  private async dropTable(name: ObjectName, ifExists: boolean, trace: Trace): Promise<StatementOutcome> {
    const table = await this.findTable(name);
    if (!table) {
      if (ifExists) return { result: EMPTY_RESULT, translatedSql: '-- drop table: not found', rows: 0 };
      throw databricksErrors.tableNotFound([name.catalog, name.schema, name.name].filter((p): p is string => p !== undefined));
    }
    trace.sql = `DROP ${table.isView ? 'VIEW' : 'TABLE'} ${objectSql(table)}`;
    await this.transaction(async () => {
      await this.connection.run(trace.sql);
      await forgetTable(this.connection, table);
    });
    return { result: EMPTY_RESULT, translatedSql: trace.sql, rows: 0 };
  }

  /** SET/UNSET TBLPROPERTIES and CLUSTER BY: the new state must still give every clustering key statistics. */
  private async alterTableMetadata(plan: Extract<Plan, { kind: 'alterTableMetadata' }>): Promise<StatementOutcome> {
    const table = await this.resolveTable(plan.table);
    const label = `${table.catalog}.${table.schema}.${table.name}`;
    const properties = await readProperties(this.connection, table);
    for (const [key, value] of plan.setProperties ?? []) setProperty(properties, key, value);
    for (const key of plan.unsetProperties?.keys ?? []) {
      if (!unsetProperty(properties, key) && !plan.unsetProperties!.ifExists) {
        throw new WarehouseError('UNSET_NONEXISTENT_PROPERTIES', '42K0J', `Attempted to unset non-existent properties [${key}] in table ${label}.`);
      }
    }
    let clustering = (await readClustering(this.connection, table)) ?? [];
    if (plan.clusterBy) clustering = plan.clusterBy.kind === 'columns' ? [...plan.clusterBy.columns] : [];
    checkClustering(label, (await this.tableColumnsOf(table)).map((c) => c.name), properties, clustering);
    await this.transaction(() => writeMetadata(this.connection, table, { properties, clustering }));
    return { result: EMPTY_RESULT, translatedSql: `-- table metadata of ${label}`, rows: 0 };
  }

  /** Rows `key, value`; a missing key answers the sentence Databricks answers. */
  private async showTblProperties(name: ObjectName, key?: string): Promise<StatementOutcome> {
    const table = await this.resolveTable(name);
    const properties = await readProperties(this.connection, table);
    let rows: CellValue[][] = [...properties].map(([k, v]) => [k, v]);
    if (key !== undefined) {
      const value = [...properties].find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
      rows = [[key, value ?? `Table ${table.catalog}.${table.schema}.${table.name} does not have property: ${key}`]];
    }
    return { result: resultFromRows([column('key'), column('value')], rows), translatedSql: '-- show tblproperties', rows: rows.length };
  }

  // ---- COPY INTO ------------------------------------------------------------------------------------

  private copySourceCounter = 0;

  /**
   * Loads the files not yet loaded into the target (all of them with force) in one transaction with the record
   * of what was loaded. Result: `num_affected_rows, num_inserted_rows`; `bytes` (read, uncompressed) feeds the
   * latency model.
   */
  private async copyInto(plan: CopyIntoPlan, trace: Trace): Promise<StatementOutcome> {
    const table = await this.resolveTable(plan.target);
    const mergeSchema = plan.copyOptions.get('mergeschema')?.toLowerCase() === 'true';
    if (mergeSchema) throw databricksErrors.unsupported("COPY_OPTIONS ('mergeSchema' = 'true'): add the columns with ALTER TABLE first");
    for (const key of plan.copyOptions.keys()) if (key !== 'force' && key !== 'mergeschema') throw databricksErrors.unsupported(`the COPY option '${key}'`);
    const force = plan.copyOptions.get('force')?.toLowerCase() === 'true';
    const storage = this.settings.storage;
    const files = await sourceFiles(storage, plan.url, { ...(plan.files ? { files: plan.files } : {}), ...(plan.pattern !== undefined ? { pattern: plan.pattern } : {}) });
    const already = force ? new Set<string>() : await loadedFiles(this.connection, table);
    const pending = files.filter((f) => !already.has(f.url));
    const counts = (n: number) => resultFromRows([column('num_affected_rows', BIGINT), column('num_inserted_rows', BIGINT)], [[BigInt(n), BigInt(n)]]);
    if (pending.length === 0) return { result: counts(0), translatedSql: `-- COPY INTO: all ${files.length} file(s) already loaded`, rows: 0, bytesRead: 0 };

    const lines: string[] = [];
    let bytes = 0;
    for (const file of pending) {
      const read = await readSourceLines(storage!, file);
      lines.push(...read.lines);
      bytes += read.bytes;
    }
    const source = sourceRelation(plan.format, lines, plan.formatOptions);
    const temp = `__copy_source_${++this.copySourceCounter}`;
    await this.connection.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdent(temp)} (value VARCHAR)`);
    try {
      const appender = await this.connection.createAppender(temp, 'main', 'temp');
      for (const row of source.rows) {
        if (row === null) appender.appendNull();
        else appender.appendVarchar(row);
        appender.endRow();
      }
      appender.flushSync();
      appender.closeSync();
      const query = `SELECT ${plan.selectSql ?? '*'} FROM (SELECT ${source.projection} FROM temp.main.${quoteIdent(temp)}) AS __copy_source`;
      const targetColumns = (await this.tableColumnsOf(table)).map((c) => c.name);
      let insertColumns: string[];
      if (plan.columns) insertColumns = [...plan.columns];
      else {
        const probe = await this.connection.prepare(`SELECT * FROM (${query}) LIMIT 0`);
        const names = Array.from({ length: probe.columnCount }, (_, i) => probe.columnName(i));
        if (plan.byPosition) insertColumns = targetColumns.slice(0, names.length);
        else {
          insertColumns = names.map((n) => {
            const match = targetColumns.find((c) => c.toLowerCase() === n.toLowerCase());
            if (match === undefined) {
              throw new WarehouseError(
                'DELTA_METADATA_MISMATCH',
                '42KDG',
                `A schema mismatch detected when writing to the Delta table ${table.catalog}.${table.schema}.${table.name}: the source column ${n} is not in the table. ` +
                  'Add it with ALTER TABLE, or select only the table\'s columns.',
              );
            }
            return match;
          });
        }
      }
      trace.sql = `INSERT INTO ${objectSql(table)} (${insertColumns.map(quoteIdent).join(', ')}) ${query}`;
      const inserted = await this.transaction(async () => {
        const reader = await this.connection.runAndReadAll(trace.sql);
        await recordLoadedFiles(this.connection, table, pending.map((f) => f.url));
        return reader.rowsChanged;
      });
      return { result: counts(inserted), translatedSql: trace.sql, rows: inserted, bytesRead: bytes };
    } finally {
      await this.connection.run(`DROP TABLE IF EXISTS temp.main.${quoteIdent(temp)}`).catch(() => undefined);
    }
  }

  // ---- Namespaces and metadata ----------------------------------------------------------------------

  /** Switches the session's catalog and schema; both must exist. Returns the DuckDB statement. */
  async use(catalog: string, schema: string): Promise<string> {
    this.catalogs.require(catalog);
    if (!(await this.schemaExists(catalog, schema))) throw databricksErrors.schemaNotFound([catalog, schema]);
    const sql = `USE ${quoteIdent(catalogAlias(catalog))}.${quoteIdent(schema)}`;
    await this.connection.run(sql);
    return sql;
  }

  private async currentNamespace(): Promise<{ catalog: string; schema: string }> {
    const row = (await this.connection.runAndReadAll('SELECT current_database() AS db, current_schema() AS sch')).getRowObjectsJson()[0]!;
    return { catalog: catalogFromAlias(String(row.db)), schema: String(row.sch) };
  }

  private async schemaExists(catalog: string, schema: string): Promise<boolean> {
    const reader = await this.connection.runAndReadAll(
      `SELECT 1 FROM duckdb_schemas() WHERE database_name = ${quoteLiteral(catalogAlias(catalog))} AND schema_name = ${quoteLiteral(schema)} ` +
        `AND schema_name <> ${quoteLiteral(METADATA_SCHEMA)}`,
    );
    return reader.currentRowCount > 0;
  }

  private async resolveTable(name: ObjectName): Promise<ResolvedTable> {
    const current = await this.currentNamespace();
    const catalog = name.catalog ?? current.catalog;
    const schema = name.schema ?? current.schema;
    const parts = [catalog, schema, name.name];
    if (!this.catalogs.has(catalog)) throw databricksErrors.tableNotFound(parts);
    const reader = await this.connection.runAndReadAll(
      `SELECT table_name, false AS is_view FROM duckdb_tables() WHERE database_name = $db AND schema_name = $sch AND lower(table_name) = $name
       UNION ALL SELECT view_name, true FROM duckdb_views() WHERE database_name = $db AND schema_name = $sch AND lower(view_name) = $name`,
      { db: catalogAlias(catalog), sch: schema, name: name.name.toLowerCase() },
    );
    const row = reader.getRowObjectsJson()[0];
    if (!row) throw databricksErrors.tableNotFound(parts);
    return { catalog, schema, name: String(row.table_name), isView: row.is_view === true };
  }

  private async tableColumns(name: ObjectName): Promise<TableColumn[]> {
    return this.tableColumnsOf(await this.resolveTable(name));
  }

  /** Column names, Databricks types, nullability and comments of a table, in order. */
  private async tableColumnsOf(table: ResolvedTable): Promise<TableColumn[]> {
    const tableSql = objectSql(table);
    const prepared = await this.connection.prepare(`SELECT * FROM ${tableSql}`);
    const details = await this.connection.runAndReadAll(
      `SELECT column_name, is_nullable, comment FROM duckdb_columns()
       WHERE database_name = $db AND schema_name = $sch AND table_name = $name ORDER BY column_index`,
      { db: catalogAlias(table.catalog), sch: table.schema, name: table.name },
    );
    const byName = new Map(details.getRowObjectsJson().map((r) => [String(r.column_name), r]));
    return Array.from({ length: prepared.columnCount }, (_, i) => {
      const name = prepared.columnName(i);
      const detail = byName.get(name);
      return {
        name,
        type: sparkTypeOfDuckDb(prepared.columnType(i)),
        nullable: detail?.is_nullable !== false,
        comment: typeof detail?.comment === 'string' ? detail.comment : null,
      };
    });
  }

  private async showTables(catalogName?: string, schemaName?: string, pattern?: string): Promise<StatementOutcome> {
    const current = await this.currentNamespace();
    const catalog = catalogName ?? current.catalog;
    const schema = schemaName ?? current.schema;
    this.catalogs.require(catalog);
    if (!(await this.schemaExists(catalog, schema))) throw databricksErrors.schemaNotFound([catalog, schema]);
    const names = (await this.objectsIn(catalog, schema))
      .map((o) => o.name)
      .filter((n) => pattern === undefined || showPatternMatches(pattern, n));
    const result = resultFromRows(
      [column('database'), column('tableName'), column('isTemporary', BOOLEAN)],
      names.map((n) => [schema, n, false]),
    );
    return { result, translatedSql: `-- show tables in ${catalog}.${schema}`, rows: names.length };
  }

  private async showSchemas(catalogName?: string, pattern?: string): Promise<StatementOutcome> {
    const catalog = catalogName ?? (await this.currentNamespace()).catalog;
    this.catalogs.require(catalog);
    const names = (await this.schemasOf(catalog)).filter((n) => pattern === undefined || showPatternMatches(pattern, n));
    const result = resultFromRows([column('databaseName')], names.map((n) => [n]));
    return { result, translatedSql: `-- show schemas in ${catalog}`, rows: names.length };
  }

  private async schemasOf(catalog: string): Promise<string[]> {
    const reader = await this.connection.runAndReadAll(
      `SELECT schema_name FROM duckdb_schemas() WHERE database_name = $db AND NOT internal AND schema_name <> '${METADATA_SCHEMA}' ORDER BY schema_name`,
      { db: catalogAlias(catalog) },
    );
    return reader.getRowObjectsJson().map((r) => String(r.schema_name));
  }

  private async objectsIn(catalog: string, schema?: string): Promise<Array<{ schema: string; name: string; isView: boolean; comment: string | null }>> {
    const filter = `${schema === undefined ? '' : ' AND schema_name = $sch'} AND schema_name <> '${METADATA_SCHEMA}'`;
    const reader = await this.connection.runAndReadAll(
      `SELECT schema_name, table_name AS name, false AS is_view, comment FROM duckdb_tables() WHERE database_name = $db${filter}
       UNION ALL SELECT schema_name, view_name, true, comment FROM duckdb_views() WHERE database_name = $db AND NOT internal${filter}
       ORDER BY 1, 2`,
      { db: catalogAlias(catalog), ...(schema === undefined ? {} : { sch: schema }) },
    );
    return reader.getRowObjectsJson().map((r) => ({
      schema: String(r.schema_name), name: String(r.name), isView: r.is_view === true, comment: typeof r.comment === 'string' ? r.comment : null,
    }));
  }

  /** Fills this session's temp tables behind `information_schema.columns/tables/schemata`. */
  private async refreshCatalogViews(): Promise<void> {
    const columnRows: string[] = [];
    const tableRows: string[] = [];
    const schemaRows: string[] = [];
    for (const catalog of this.catalogs.names()) {
      for (const schema of await this.schemasOf(catalog)) schemaRows.push(`(${[catalog, schema].map(quoteLiteral).join(', ')})`);
      for (const object of await this.objectsIn(catalog)) {
        const table: ResolvedTable = { catalog, schema: object.schema, name: object.name, isView: object.isView };
        const tableValues = [catalog, object.schema, object.name, object.isView ? 'VIEW' : 'MANAGED'].map(quoteLiteral);
        tableRows.push(`(${[...tableValues, object.comment === null ? 'NULL' : quoteLiteral(object.comment)].join(', ')})`);
        (await this.tableColumnsOf(table)).forEach((c, position) => {
          const typeName = databricksTypeName(c.type);
          const values = [catalog, object.schema, object.name, c.name].map(quoteLiteral);
          values.push(String(position), quoteLiteral(c.nullable ? 'YES' : 'NO'));
          values.push(quoteLiteral(typeName.replace(/[(<].*$/, '').toUpperCase()), quoteLiteral(typeName));
          values.push(c.type.kind === 'decimal' ? String(c.type.precision) : 'NULL', c.type.kind === 'decimal' ? String(c.type.scale) : 'NULL');
          values.push(c.comment === null ? 'NULL' : quoteLiteral(c.comment));
          columnRows.push(`(${values.join(', ')})`);
        });
      }
    }
    const replace = async (table: string, columnsSql: string, rows: string[]) => {
      await this.connection.run(`CREATE OR REPLACE TEMP TABLE ${table} (${columnsSql})`);
      if (rows.length > 0) await this.connection.run(`INSERT INTO temp.${table} VALUES ${rows.join(', ')}`);
    };
    await replace(CATALOG_VIEW_TABLES.schemata, 'catalog_name VARCHAR, schema_name VARCHAR', schemaRows);
    await replace(CATALOG_VIEW_TABLES.tables, 'table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, table_type VARCHAR, comment VARCHAR', tableRows);
    await replace(
      CATALOG_VIEW_TABLES.columns,
      'table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, column_name VARCHAR, ordinal_position INTEGER, ' +
        'is_nullable VARCHAR, data_type VARCHAR, full_data_type VARCHAR, numeric_precision INTEGER, numeric_scale INTEGER, comment VARCHAR',
      columnRows,
    );
  }
}
