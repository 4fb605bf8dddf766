// Statement parameters as the driver sends them (TSparkParameter: a Spark type name and a string value) and
// how each marker becomes DuckDB SQL: the value is always bound as text and cast in SQL to its declared type,
// so DECIMAL, BIGINT and TIMESTAMP values reach DuckDB exactly as the client wrote them.
import { WarehouseError, databricksErrors } from './errors.ts';
import { MAX_DECIMAL_PRECISION } from './sparkTypes.ts';

/** Databricks rejects statements with more parameters than this (HTTP 400 from the warehouse). */
export const MAX_PARAMETERS_PER_STATEMENT = 256;

/** A parameter as it arrives on the wire. */
export interface WireParameter {
  name?: string | null;
  type?: string | null;
  value?: { stringValue?: string | null } | null;
}

interface Parameter {
  /** The DuckDB parameter name (`$key` in translated SQL). */
  readonly key: string;
  /** The Databricks name, or `_<n>` for the n-th ordinal parameter (as Databricks reports unbound ones). */
  readonly displayName: string;
  readonly type: string | undefined;
  readonly value: string | null;
}

const CAST_TYPES: Readonly<Record<string, string>> = {
  BOOLEAN: 'BOOLEAN',
  TINYINT: 'TINYINT',
  SMALLINT: 'SMALLINT',
  INTEGER: 'INTEGER',
  INT: 'INTEGER',
  BIGINT: 'BIGINT',
  FLOAT: 'FLOAT',
  DOUBLE: 'DOUBLE',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMPTZ', // an instant; the driver sends ISO-8601 with a zone (Date#toISOString)
  TIMESTAMP_LTZ: 'TIMESTAMPTZ',
  TIMESTAMP_NTZ: 'TIMESTAMP',
  BINARY: 'BLOB',
};

const DECIMAL_LITERAL = /^[+-]?(\d*)(?:\.(\d*))?$/;

/** The DuckDB DECIMAL type of a decimal literal: precision and scale come from its digits, as in Spark. */
export function decimalTypeOf(name: string, value: string): string {
  const match = DECIMAL_LITERAL.exec(value.trim());
  const integral = (match?.[1] ?? '').replace(/^0+/, '');
  const fraction = match?.[2] ?? '';
  if (!match || (match[1] === '' && fraction === '')) throw databricksErrors.invalidParameterValue(name, 'DECIMAL', value);
  const scale = fraction.length;
  const precision = Math.max(integral.length + scale, 1);
  if (precision > MAX_DECIMAL_PRECISION) throw databricksErrors.invalidParameterValue(name, 'DECIMAL(38)', value);
  return `DECIMAL(${precision},${scale})`;
}

export class StatementParameters {
  private constructor(
    readonly style: 'none' | 'named' | 'ordinal',
    private readonly parameters: ReadonlyMap<string, Parameter>,
    private readonly ordinalOrder: readonly Parameter[],
  ) {}

  static readonly none = new StatementParameters('none', new Map(), []);

  static fromWire(wire: readonly WireParameter[] | null | undefined): StatementParameters {
    if (!wire || wire.length === 0) return StatementParameters.none;
    const named = wire.filter((p) => p.name);
    if (named.length > 0 && named.length !== wire.length) throw databricksErrors.mixedParameters();
    const toParameter = (p: WireParameter, i: number): Parameter => {
      const key = p.name ? p.name : `_${i + 1}`;
      return { key, displayName: key, type: p.type?.toUpperCase() ?? undefined, value: p.value?.stringValue ?? null };
    };
    const list = wire.map(toParameter);
    const style = named.length > 0 ? 'named' : 'ordinal';
    return new StatementParameters(style, new Map(list.map((p) => [p.key.toLowerCase(), p])), style === 'ordinal' ? list : []);
  }

  get count(): number {
    return this.parameters.size;
  }

  /** Checks the markers found in the SQL against the supplied parameters (Databricks' binding rules). */
  checkMarkers(named: ReadonlySet<string>, ordinalCount: number): void {
    if (named.size > 0 && ordinalCount > 0) throw databricksErrors.mixedParameters();
    for (const name of named) {
      if (!this.parameters.has(name.toLowerCase()) || this.style === 'ordinal') throw databricksErrors.unboundParameter(name);
    }
    if (ordinalCount > this.ordinalOrder.length) throw databricksErrors.unboundParameter(`_${this.ordinalOrder.length + 1}`);
  }

  /** The DuckDB expression for `:name`. */
  namedMarker(name: string): string {
    const parameter = this.parameters.get(name.toLowerCase());
    if (!parameter) throw databricksErrors.unboundParameter(name);
    return markerSql(parameter);
  }

  /** The DuckDB expression for the `index`-th `?` (0-based). */
  ordinalMarker(index: number): string {
    const parameter = this.ordinalOrder[index];
    if (!parameter) throw databricksErrors.unboundParameter(`_${index + 1}`);
    return markerSql(parameter);
  }

  /** Text value for a DuckDB parameter name found in a prepared statement. */
  valueFor(key: string): string | null {
    return this.parameters.get(key.toLowerCase())?.value ?? null;
  }

  /** UTF-8 bytes of all parameter values (counted against the statement size limit). */
  get valueBytes(): number {
    let bytes = 0;
    for (const p of this.parameters.values()) bytes += p.value === null ? 0 : Buffer.byteLength(p.value, 'utf8');
    return bytes;
  }

  /** The parameters for the statement log: an object for named, an array for ordinal parameters. */
  toLogValue(): Record<string, unknown> | unknown[] {
    if (this.style === 'ordinal') return this.ordinalOrder.map((p) => p.value);
    return Object.fromEntries([...this.parameters.values()].map((p) => [p.displayName, p.value]));
  }
}

function markerSql(parameter: Parameter): string {
  if (parameter.value === null || parameter.type === 'VOID') return 'NULL';
  const reference = `$${parameter.key}`;
  const type = parameter.type ?? 'STRING';
  if (type === 'STRING') return reference;
  if (type === 'DECIMAL') return `CAST(${reference} AS ${decimalTypeOf(parameter.displayName, parameter.value)})`;
  const castType = CAST_TYPES[type];
  if (!castType) {
    throw new WarehouseError(
      'UNSUPPORTED_DATATYPE',
      '0A000',
      `Parameter '${parameter.displayName}' has type ${type}, which the local warehouse emulator does not bind.`,
    );
  }
  return `CAST(${reference} AS ${castType})`;
}
