// Databricks (Spark) data types, both ways: parsed from SQL (DDL columns, CAST, from_json schemas) into
// DuckDB types, and read back from DuckDB column types into Databricks type names (`decimal(17,2)`, `string`).
import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import { WarehouseError, databricksErrors } from './errors.ts';
import { identifierName, isOp, isWord, lex, matchingClose, splitTopLevel, type Token } from './sqlLexer.ts';
import { quoteIdent } from './identifiers.ts';

export type PrimitiveTypeName =
  | 'string'
  | 'int'
  | 'bigint'
  | 'smallint'
  | 'tinyint'
  | 'double'
  | 'float'
  | 'decimal'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'timestamp_ntz'
  | 'binary'
  | 'void';

export type SparkType =
  | { kind: 'primitive'; name: Exclude<PrimitiveTypeName, 'decimal'> }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'array'; element: SparkType }
  | { kind: 'map'; key: SparkType; value: SparkType }
  | { kind: 'struct'; fields: readonly StructField[] };

export interface StructField {
  readonly name: string;
  readonly type: SparkType;
}

const PRIMITIVE_ALIASES: Readonly<Record<string, Exclude<PrimitiveTypeName, 'decimal'>>> = {
  STRING: 'string',
  VARCHAR: 'string',
  CHAR: 'string',
  INT: 'int',
  INTEGER: 'int',
  BIGINT: 'bigint',
  LONG: 'bigint',
  SMALLINT: 'smallint',
  SHORT: 'smallint',
  TINYINT: 'tinyint',
  BYTE: 'tinyint',
  DOUBLE: 'double',
  FLOAT: 'float',
  REAL: 'float',
  BOOLEAN: 'boolean',
  DATE: 'date',
  TIMESTAMP: 'timestamp',
  TIMESTAMP_LTZ: 'timestamp',
  TIMESTAMP_NTZ: 'timestamp_ntz',
  BINARY: 'binary',
  VOID: 'void',
};

export const MAX_DECIMAL_PRECISION = 38;
const DEFAULT_DECIMAL = { precision: 10, scale: 0 }; // Spark's DECIMAL without arguments (DuckDB's would be 18,3)

const unsupportedType = (name: string) =>
  new WarehouseError('UNSUPPORTED_DATATYPE', '0A000', `Unsupported data type "${name}" in the local warehouse emulator.`);

/** Reads one data type starting at `tokens[start]`; returns it and the index after it. */
export function parseTypeAt(tokens: readonly Token[], start: number): { type: SparkType; end: number } {
  const head = tokens[start];
  if (head?.kind !== 'word') throw databricksErrors.parseSyntax(`'${head?.text ?? 'end of input'}'`, ': expected a data type');
  const name = head.value.toUpperCase();
  const next = tokens[start + 1];

  if (name === 'ARRAY' || name === 'MAP' || name === 'STRUCT') {
    if (!isOp(next, '<')) throw databricksErrors.parseSyntax(`'${next?.text ?? 'end of input'}'`, `: expected '<' after ${name}`);
    const close = matchingClose(tokens, start + 1);
    const parts = splitTopLevel(tokens, start + 2, close, true).filter(([a, b]) => b > a);
    const end = close + 1;
    if (name === 'ARRAY') return { type: { kind: 'array', element: parseWholeType(tokens, parts[0]) }, end };
    if (name === 'MAP') {
      return { type: { kind: 'map', key: parseWholeType(tokens, parts[0]), value: parseWholeType(tokens, parts[1]) }, end };
    }
    return { type: { kind: 'struct', fields: parts.map(([a, b]) => parseField(tokens, a, b)) }, end };
  }

  if (name === 'DECIMAL' || name === 'DEC' || name === 'NUMERIC') {
    if (!isOp(next, '(')) return { type: { kind: 'decimal', ...DEFAULT_DECIMAL }, end: start + 1 };
    const close = matchingClose(tokens, start + 1);
    const args = splitTopLevel(tokens, start + 2, close).map(([a]) => Number(tokens[a]?.text));
    const precision = args[0] ?? DEFAULT_DECIMAL.precision;
    const scale = args[1] ?? 0;
    if (!Number.isInteger(precision) || precision < 1 || precision > MAX_DECIMAL_PRECISION || scale < 0 || scale > precision) {
      throw new WarehouseError(
        'DECIMAL_PRECISION_EXCEEDS_MAX_PRECISION',
        '22003',
        `Decimal precision ${precision} exceeds max precision ${MAX_DECIMAL_PRECISION} or the scale ${scale} is invalid.`,
      );
    }
    return { type: { kind: 'decimal', precision, scale }, end: close + 1 };
  }

  const primitive = PRIMITIVE_ALIASES[name];
  if (!primitive) throw unsupportedType(head.value);
  // VARCHAR(n) / CHAR(n): Databricks stores them as STRING with a length check; the emulator keeps STRING.
  if ((name === 'VARCHAR' || name === 'CHAR') && isOp(next, '(')) {
    return { type: { kind: 'primitive', name: primitive }, end: matchingClose(tokens, start + 1) + 1 };
  }
  return { type: { kind: 'primitive', name: primitive }, end: start + 1 };
}

function parseWholeType(tokens: readonly Token[], range: [number, number] | undefined): SparkType {
  if (!range) throw databricksErrors.parseSyntax("'>'", ': expected a data type');
  const { type, end } = parseTypeAt(tokens, range[0]);
  if (end !== range[1]) throw databricksErrors.parseSyntax(`'${tokens[end]?.text}'`, ': unexpected text after the data type');
  return type;
}

/** `name[:] type [NOT NULL] [COMMENT '...']` inside STRUCT<...> or a DDL schema string. */
function parseField(tokens: readonly Token[], from: number, to: number): StructField {
  const name = identifierName(tokens[from]);
  if (name === undefined) throw databricksErrors.parseSyntax(`'${tokens[from]?.text}'`, ': expected a field name');
  const typeStart = isOp(tokens[from + 1], ':') ? from + 2 : from + 1;
  const { type, end } = parseTypeAt(tokens, typeStart);
  let i = end;
  while (i < to) {
    if (isWord(tokens[i], 'NOT') && isWord(tokens[i + 1], 'NULL')) i += 2;
    else if (isWord(tokens[i], 'COMMENT') && tokens[i + 1]?.kind === 'string') i += 2;
    else throw databricksErrors.parseSyntax(`'${tokens[i]?.text}'`, ': unexpected text in a STRUCT field');
  }
  return { name, type };
}

/**
 * Parses a schema string as `from_json` accepts it: a type (`ARRAY<STRUCT<a: STRING>>`) or a DDL field list
 * (`a STRING, b DECIMAL(15,2)`, read as a STRUCT).
 */
export function parseSparkTypeString(text: string): SparkType {
  const tokens = lex(text);
  const last = tokens.length - 1; // the 'end' token
  const head = tokens[0]?.value.toUpperCase() ?? '';
  if (['ARRAY', 'MAP', 'STRUCT'].includes(head) || (tokens.length === 2 && PRIMITIVE_ALIASES[head])) {
    return parseWholeType(tokens, [0, last]);
  }
  return { kind: 'struct', fields: splitTopLevel(tokens, 0, last, true).map(([a, b]) => parseField(tokens, a, b)) };
}

/** The DuckDB column type for a Databricks type (Databricks TIMESTAMP is an instant: DuckDB TIMESTAMPTZ). */
export function duckDbTypeSql(type: SparkType): string {
  switch (type.kind) {
    case 'decimal':
      return `DECIMAL(${type.precision},${type.scale})`;
    case 'array':
      return `${duckDbTypeSql(type.element)}[]`;
    case 'map':
      return `MAP(${duckDbTypeSql(type.key)}, ${duckDbTypeSql(type.value)})`;
    case 'struct':
      return `STRUCT(${type.fields.map((f) => `${quoteIdent(f.name)} ${duckDbTypeSql(f.type)}`).join(', ')})`;
    case 'primitive':
      return DUCKDB_PRIMITIVES[type.name];
  }
}

const DUCKDB_PRIMITIVES: Readonly<Record<Exclude<PrimitiveTypeName, 'decimal'>, string>> = {
  string: 'VARCHAR',
  int: 'INTEGER',
  bigint: 'BIGINT',
  smallint: 'SMALLINT',
  tinyint: 'TINYINT',
  double: 'DOUBLE',
  float: 'FLOAT',
  boolean: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMPTZ',
  timestamp_ntz: 'TIMESTAMP',
  binary: 'BLOB',
  void: 'VARCHAR',
};

/**
 * The `json_transform` structure for a type. DECIMAL leaves are read as text and cast afterwards, because
 * DuckDB would parse a JSON number through a double (123456789012345.67 → …345.68); Spark reads it exactly.
 */
export function jsonStructure(type: SparkType): unknown {
  switch (type.kind) {
    case 'decimal':
      return 'VARCHAR';
    case 'array':
      return [jsonStructure(type.element)];
    case 'struct':
      return Object.fromEntries(type.fields.map((f) => [f.name, jsonStructure(f.type)]));
    case 'map':
      return duckDbTypeSql({ kind: 'map', key: type.key, value: { kind: 'primitive', name: 'string' } });
    case 'primitive':
      return DUCKDB_PRIMITIVES[type.name];
  }
}

/** Whether `jsonStructure` reads some leaf as text that must be cast to the real type afterwards. */
export function jsonStructureNeedsCast(type: SparkType): boolean {
  switch (type.kind) {
    case 'decimal':
      return true;
    case 'array':
      return jsonStructureNeedsCast(type.element);
    case 'struct':
      return type.fields.some((f) => jsonStructureNeedsCast(f.type));
    case 'map':
      return true;
    case 'primitive':
      return false;
  }
}

/** The type name Databricks shows in DESCRIBE and information_schema (`decimal(17,2)`, `struct<a:string>`). */
export function databricksTypeName(type: SparkType): string {
  switch (type.kind) {
    case 'decimal':
      return `decimal(${type.precision},${type.scale})`;
    case 'array':
      return `array<${databricksTypeName(type.element)}>`;
    case 'map':
      return `map<${databricksTypeName(type.key)},${databricksTypeName(type.value)}>`;
    case 'struct':
      return `struct<${type.fields.map((f) => `${f.name}:${databricksTypeName(f.type)}`).join(',')}>`;
    case 'primitive':
      return type.name;
  }
}

/** Reads a DuckDB column type as the Databricks type a warehouse would report for it. */
export function sparkTypeOfDuckDb(type: DuckDBType): SparkType {
  const primitive = (name: Exclude<PrimitiveTypeName, 'decimal'>): SparkType => ({ kind: 'primitive', name });
  switch (type.typeId) {
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.UUID:
    case DuckDBTypeId.ENUM:
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_TZ:
    case DuckDBTypeId.INTERVAL:
    case DuckDBTypeId.BIT:
      return primitive('string');
    case DuckDBTypeId.BOOLEAN:
      return primitive('boolean');
    case DuckDBTypeId.TINYINT:
      return primitive('tinyint');
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return primitive('smallint');
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return primitive('int');
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.HUGEINT: // sum(bigint): Databricks answers BIGINT (and overflows instead of widening)
      return primitive('bigint');
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
      return { kind: 'decimal', precision: 38, scale: 0 };
    case DuckDBTypeId.FLOAT:
      return primitive('float');
    case DuckDBTypeId.DOUBLE:
      return primitive('double');
    case DuckDBTypeId.DECIMAL:
      return { kind: 'decimal', precision: type.width, scale: type.scale };
    case DuckDBTypeId.DATE:
      return primitive('date');
    case DuckDBTypeId.TIMESTAMP_TZ:
      return primitive('timestamp');
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return primitive('timestamp_ntz');
    case DuckDBTypeId.BLOB:
      return primitive('binary');
    case DuckDBTypeId.SQLNULL:
      return primitive('void');
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return { kind: 'array', element: sparkTypeOfDuckDb(type.valueType) };
    case DuckDBTypeId.MAP:
      return { kind: 'map', key: sparkTypeOfDuckDb(type.keyType), value: sparkTypeOfDuckDb(type.valueType) };
    case DuckDBTypeId.STRUCT:
      return {
        kind: 'struct',
        fields: type.entryNames.map((name, i) => ({ name, type: sparkTypeOfDuckDb(type.entryTypes[i]!) })),
      };
    default:
      return primitive('string');
  }
}
