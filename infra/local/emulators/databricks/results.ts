// A statement's result as the warehouse holds it between FetchResults calls: typed columns (Databricks types)
// and exact, column-major values. Numbers that a double cannot hold (BIGINT, DECIMAL, timestamps) stay bigints.
import {
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  type DuckDBResultReader,
  type DuckDBValue,
} from '@duckdb/node-api';
import { databricksErrors } from './errors.ts';
import { sparkTypeOfDuckDb, type SparkType } from './sparkTypes.ts';

/**
 * One cell, by column type: string → string; boolean → boolean; tinyint/smallint/int/float/double → number;
 * bigint → bigint; decimal → bigint unscaled at the column's scale; date → number of days since 1970-01-01;
 * timestamp / timestamp_ntz → bigint microseconds since the epoch (UTC); binary → Uint8Array;
 * array/map/struct → JSON text; null → null.
 */
export type CellValue = string | number | bigint | boolean | Uint8Array | null;

export interface ResultColumn {
  readonly name: string;
  readonly type: SparkType;
}

export interface ResultSet {
  readonly columns: readonly ResultColumn[];
  readonly rowCount: number;
  /** data[column][row] */
  readonly data: readonly (readonly CellValue[])[];
}

export const EMPTY_RESULT: ResultSet = { columns: [], rowCount: 0, data: [] };

const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;

/** Builds a result from rows (used for DESCRIBE, SHOW and DML counts). */
export function resultFromRows(columns: readonly ResultColumn[], rows: readonly (readonly CellValue[])[]): ResultSet {
  return { columns, rowCount: rows.length, data: columns.map((_, c) => rows.map((row) => row[c] ?? null)) };
}

/** Reads a DuckDB result completely into a ResultSet with Databricks column types. */
export async function resultFromReader(reader: DuckDBResultReader): Promise<ResultSet> {
  await reader.readAll();
  const duckTypes = reader.columnTypes();
  const names = reader.columnNames();
  const columns = duckTypes.map((duckType, i) => ({ name: names[i]!, type: sparkTypeOfDuckDb(duckType) }));
  const raw = reader.getColumns();
  const needsJson = columns.some((c) => ['array', 'map', 'struct'].includes(c.type.kind));
  const json = needsJson ? reader.getColumnsJson() : [];
  const data = columns.map((column, c) => {
    const values = raw[c] ?? [];
    if (['array', 'map', 'struct'].includes(column.type.kind)) {
      return (json[c] ?? []).map((v) => (v === null ? null : JSON.stringify(v)));
    }
    return values.map((v) => toCell(v, column, duckTypes[c]!.typeId));
  });
  return { columns, rowCount: reader.currentRowCount, data };
}

function toCell(value: DuckDBValue, column: ResultColumn, typeId: DuckDBTypeId): CellValue {
  if (value === null) return null;
  switch (column.type.kind) {
    case 'decimal':
      if (value instanceof DuckDBDecimalValue) return value.value;
      return typeof value === 'bigint' ? value : BigInt(String(value)); // UBIGINT / UHUGEINT as decimal(38,0)
    case 'primitive':
      break;
    default:
      return JSON.stringify(value);
  }
  switch (column.type.name) {
    case 'bigint': {
      const big = typeof value === 'bigint' ? value : BigInt(value as number);
      if (big < BIGINT_MIN || big > BIGINT_MAX) {
        throw databricksErrors.arithmeticOverflow(`BIGINT overflow in column \`${column.name}\` (value ${big})`);
      }
      return big;
    }
    case 'date':
      return value instanceof DuckDBDateValue ? value.days : null;
    case 'timestamp':
    case 'timestamp_ntz':
      return timestampMicros(value);
    case 'binary':
      return value instanceof DuckDBBlobValue ? value.bytes : null;
    case 'string':
      return typeId === DuckDBTypeId.VARCHAR ? (value as string) : String(value);
    default:
      return value as CellValue;
  }
}

function timestampMicros(value: DuckDBValue): bigint | null {
  if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue) return value.micros;
  if (value instanceof DuckDBTimestampSecondsValue) return value.seconds * 1_000_000n;
  if (value instanceof DuckDBTimestampMillisecondsValue) return value.millis * 1_000n;
  if (value instanceof DuckDBTimestampNanosecondsValue) return value.nanos / 1_000n;
  return null;
}

/** `YYYY-MM-DD` for days since the epoch. */
export function formatDate(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` (trailing zeros of the fraction trimmed), UTC, as Spark prints timestamps. */
export function formatTimestamp(micros: bigint): string {
  const millis = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const iso = new Date(Number(millis)).toISOString();
  const subSecond = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  const fraction = subSecond === 0n ? '' : `.${subSecond.toString().padStart(6, '0').replace(/0+$/, '')}`;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction}`;
}

/** The exact decimal text of an unscaled value. */
export function formatDecimal(unscaled: bigint, scale: number): string {
  if (scale === 0) return unscaled.toString();
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/**
 * Rows as plain objects for test assertions, exact and readable: bigint → bigint, decimal → exact string,
 * date → 'YYYY-MM-DD', timestamp → 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC), array/map/struct → parsed JSON.
 */
export function resultToObjects(result: ResultSet): Record<string, unknown>[] {
  return Array.from({ length: result.rowCount }, (_, row) =>
    Object.fromEntries(
      result.columns.map((column, c) => {
        const value = result.data[c]![row] ?? null;
        return [column.name, value === null ? null : readable(column.type, value)];
      }),
    ),
  );
}

function readable(type: SparkType, value: Exclude<CellValue, null>): unknown {
  if (type.kind === 'decimal') return formatDecimal(value as bigint, type.scale);
  if (type.kind !== 'primitive') return JSON.parse(value as string);
  if (type.name === 'date') return formatDate(value as number);
  if (type.name === 'timestamp' || type.name === 'timestamp_ntz') return formatTimestamp(value as bigint);
  return value;
}
