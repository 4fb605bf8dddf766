// What Delta keeps beside a table's data and DuckDB has no place for: table properties, liquid-clustering
// keys and the files COPY INTO has loaded. They live in a hidden schema of each catalog's DuckDB file, so they
// persist with the table and change in the same transaction as it. The clustering rules of a real warehouse
// are enforced here: at most 4 keys, every key among the columns Delta collects statistics on.
import type { DuckDBConnection } from '@duckdb/node-api';
import { WarehouseError } from './errors.ts';
import { catalogAlias, quoteIdent } from './identifiers.ts';

/** The hidden schema in every catalog (never listed by SHOW SCHEMAS or information_schema). */
export const METADATA_SCHEMA = '__uc_metadata';

/** Delta's default: statistics on the first 32 columns (`delta.dataSkippingNumIndexedCols`). */
export const DEFAULT_INDEXED_COLUMNS = 32;
/** Liquid clustering accepts at most this many keys. */
export const MAX_CLUSTERING_COLUMNS = 4;

export const STATS_COLUMNS_PROPERTY = 'delta.dataSkippingStatsColumns';
export const NUM_INDEXED_COLUMNS_PROPERTY = 'delta.dataSkippingNumIndexedCols';

const KNOWN_DELTA_KEYS = [
  'delta.dataSkippingStatsColumns',
  'delta.dataSkippingNumIndexedCols',
  'delta.enableChangeDataFeed',
  'delta.enableDeletionVectors',
  'delta.appendOnly',
  'delta.checkpointPolicy',
];

/** `delta.*` keys are case-insensitive in Delta: known ones take their documented spelling, others stay as written. */
export function normalizePropertyKey(key: string): string {
  if (!key.toLowerCase().startsWith('delta.')) return key;
  return KNOWN_DELTA_KEYS.find((k) => k.toLowerCase() === key.toLowerCase()) ?? key;
}

/** Sets a property, replacing a `delta.*` key spelled in another case. */
export function setProperty(properties: Map<string, string>, key: string, value: string): void {
  const normalized = normalizePropertyKey(key);
  if (normalized.toLowerCase().startsWith('delta.')) {
    for (const existing of properties.keys()) if (existing.toLowerCase() === normalized.toLowerCase()) properties.delete(existing);
  }
  properties.set(normalized, value);
}

/** Removes a property (case-insensitively for `delta.*` keys); false if it was not set. */
export function unsetProperty(properties: Map<string, string>, key: string): boolean {
  const normalized = normalizePropertyKey(key);
  const insensitive = normalized.toLowerCase().startsWith('delta.');
  const existing = [...properties.keys()].find((k) => (insensitive ? k.toLowerCase() === normalized.toLowerCase() : k === normalized));
  return existing !== undefined && properties.delete(existing);
}

export type TableProperties = ReadonlyMap<string, string>;

export interface TableRef {
  readonly catalog: string;
  readonly schema: string;
  readonly name: string;
}

const table = (catalog: string, name: string) => `${quoteIdent(catalogAlias(catalog))}.${quoteIdent(METADATA_SCHEMA)}.${quoteIdent(name)}`;

/** Creates the hidden schema and its tables in a catalog (idempotent; run when the catalog is attached). */
export async function ensureMetadataSchema(admin: DuckDBConnection, catalog: string): Promise<void> {
  await admin.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(catalogAlias(catalog))}.${quoteIdent(METADATA_SCHEMA)}`);
  await admin.run(`CREATE TABLE IF NOT EXISTS ${table(catalog, 'table_properties')} (schema_name VARCHAR, table_name VARCHAR, key VARCHAR, value VARCHAR)`);
  await admin.run(`CREATE TABLE IF NOT EXISTS ${table(catalog, 'table_clustering')} (schema_name VARCHAR, table_name VARCHAR, columns VARCHAR)`);
  await admin.run(
    `CREATE TABLE IF NOT EXISTS ${table(catalog, 'copy_loaded_files')} (schema_name VARCHAR, table_name VARCHAR, path VARCHAR, loaded_at TIMESTAMPTZ)`,
  );
}

const where = 'schema_name = $schema AND table_name = $name';
const keyOf = (t: TableRef) => ({ schema: t.schema, name: t.name.toLowerCase() });

export async function readProperties(connection: DuckDBConnection, t: TableRef): Promise<Map<string, string>> {
  const reader = await connection.runAndReadAll(`SELECT key, value FROM ${table(t.catalog, 'table_properties')} WHERE ${where} ORDER BY key`, keyOf(t));
  return new Map(reader.getRowObjectsJson().map((r) => [String(r.key), String(r.value)]));
}

export async function readClustering(connection: DuckDBConnection, t: TableRef): Promise<string[] | undefined> {
  const reader = await connection.runAndReadAll(`SELECT columns FROM ${table(t.catalog, 'table_clustering')} WHERE ${where}`, keyOf(t));
  const row = reader.getRowObjectsJson()[0];
  return row ? (JSON.parse(String(row.columns)) as string[]) : undefined;
}

/** Replaces the table's properties and clustering (call inside the transaction that changes the table). */
export async function writeMetadata(
  connection: DuckDBConnection,
  t: TableRef,
  metadata: { properties?: TableProperties; clustering?: readonly string[] | null },
): Promise<void> {
  if (metadata.properties !== undefined) {
    await connection.run(`DELETE FROM ${table(t.catalog, 'table_properties')} WHERE ${where}`, keyOf(t));
    for (const [key, value] of metadata.properties) {
      await connection.run(`INSERT INTO ${table(t.catalog, 'table_properties')} VALUES ($schema, $name, $key, $value)`, { ...keyOf(t), key, value });
    }
  }
  if (metadata.clustering !== undefined) {
    await connection.run(`DELETE FROM ${table(t.catalog, 'table_clustering')} WHERE ${where}`, keyOf(t));
    if (metadata.clustering !== null && metadata.clustering.length > 0) {
      await connection.run(`INSERT INTO ${table(t.catalog, 'table_clustering')} VALUES ($schema, $name, $columns)`, {
        ...keyOf(t),
        columns: JSON.stringify(metadata.clustering),
      });
    }
  }
}

/** Forgets everything about a dropped or replaced table, including which files COPY INTO loaded into it. */
export async function forgetTable(connection: DuckDBConnection, t: TableRef): Promise<void> {
  for (const name of ['table_properties', 'table_clustering', 'copy_loaded_files']) {
    await connection.run(`DELETE FROM ${table(t.catalog, name)} WHERE ${where}`, keyOf(t));
  }
}

export async function loadedFiles(connection: DuckDBConnection, t: TableRef): Promise<Set<string>> {
  const reader = await connection.runAndReadAll(`SELECT path FROM ${table(t.catalog, 'copy_loaded_files')} WHERE ${where}`, keyOf(t));
  return new Set(reader.getRowObjectsJson().map((r) => String(r.path)));
}

export async function recordLoadedFiles(connection: DuckDBConnection, t: TableRef, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    await connection.run(`DELETE FROM ${table(t.catalog, 'copy_loaded_files')} WHERE ${where} AND path = $path`, { ...keyOf(t), path });
    await connection.run(`INSERT INTO ${table(t.catalog, 'copy_loaded_files')} VALUES ($schema, $name, $path, current_timestamp)`, { ...keyOf(t), path });
  }
}

/** The columns Delta collects file statistics on, under the table's properties (top-level columns only). */
export function statsColumns(columns: readonly string[], properties: TableProperties): string[] {
  const explicit = properties.get(STATS_COLUMNS_PROPERTY);
  if (explicit !== undefined) {
    const named = explicit.split(',').map((c) => c.trim().replace(/^`|`$/g, '').toLowerCase()).filter((c) => c !== '');
    const missing = named.find((c) => !columns.some((col) => col.toLowerCase() === c));
    if (missing !== undefined) {
      throw new WarehouseError(
        'DELTA_COLUMN_NOT_FOUND_IN_SCHEMA',
        '42703',
        `Couldn't find column ${missing} of ${STATS_COLUMNS_PROPERTY} in the table schema: ${columns.join(', ')}.`,
      );
    }
    return columns.filter((c) => named.includes(c.toLowerCase()));
  }
  const raw = properties.get(NUM_INDEXED_COLUMNS_PROPERTY);
  const count = raw === undefined ? DEFAULT_INDEXED_COLUMNS : Number(raw);
  if (!Number.isInteger(count) || count < -1) {
    throw new WarehouseError('DELTA_INVALID_TABLE_PROPERTY', '42616', `${NUM_INDEXED_COLUMNS_PROPERTY} must be an integer >= -1, got '${raw}'.`);
  }
  return count === -1 ? [...columns] : columns.slice(0, count);
}

/**
 * What CREATE TABLE … CLUSTER BY, ALTER TABLE … CLUSTER BY and SET TBLPROPERTIES are checked against: every
 * clustering key exists and has statistics (DELTA_CLUSTERING_COLUMN_MISSING_STATS), at most 4 keys.
 */
export function checkClustering(tableName: string, columns: readonly string[], properties: TableProperties, clustering: readonly string[]): void {
  if (clustering.length === 0) return;
  if (clustering.length > MAX_CLUSTERING_COLUMNS) {
    throw new WarehouseError(
      'DELTA_CLUSTER_BY_INVALID_NUM_COLUMNS',
      '54000',
      `CLUSTER BY for Liquid clustering supports up to ${MAX_CLUSTERING_COLUMNS} clustering columns, but the table has ${clustering.length} clustering columns.`,
    );
  }
  const unknown = clustering.find((c) => !columns.some((col) => col.toLowerCase() === c.toLowerCase()));
  if (unknown !== undefined) {
    throw new WarehouseError('DELTA_COLUMN_NOT_FOUND_IN_SCHEMA', '42703', `Couldn't find clustering column ${unknown} in table ${tableName}: ${columns.join(', ')}.`);
  }
  const withStats = new Set(statsColumns(columns, properties).map((c) => c.toLowerCase()));
  const missing = clustering.filter((c) => !withStats.has(c.toLowerCase()));
  if (missing.length > 0) {
    throw new WarehouseError(
      'DELTA_CLUSTERING_COLUMN_MISSING_STATS',
      '22000',
      `Liquid clustering requires clustering columns to have stats. Couldn't find clustering column(s) '${missing.join(', ')}' in stats schema of ${tableName} ` +
        `(statistics are collected on ${properties.has(STATS_COLUMNS_PROPERTY) ? `${STATS_COLUMNS_PROPERTY} = '${properties.get(STATS_COLUMNS_PROPERTY)}'` : `the first ${properties.get(NUM_INDEXED_COLUMNS_PROPERTY) ?? DEFAULT_INDEXED_COLUMNS} columns`}).`,
    );
  }
}
