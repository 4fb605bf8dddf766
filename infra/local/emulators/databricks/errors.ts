// Databricks-shaped failures. Every error the emulator reports carries an error class, a SQLSTATE and a
// message in Databricks' format ("[CLASS] detail SQLSTATE: xxxxx"), so callers branch on them as in production.
import { catalogFromAlias } from './identifiers.ts';

export class WarehouseError extends Error {
  override name = 'WarehouseError';
  constructor(
    readonly errorClass: string,
    readonly sqlState: string,
    readonly detail: string,
  ) {
    super(`[${errorClass}] ${detail} SQLSTATE: ${sqlState}`);
  }
}

const quoteName = (parts: string | readonly string[]): string =>
  (typeof parts === 'string' ? [parts] : parts).map((p) => `\`${p}\``).join('.');

/** The error classes the emulator raises itself (not derived from a DuckDB message). */
export const databricksErrors = {
  parseSyntax: (near: string, hint = '') =>
    new WarehouseError('PARSE_SYNTAX_ERROR', '42601', `Syntax error at or near ${near}${hint}.`),
  tableNotFound: (name: string | readonly string[]) =>
    new WarehouseError(
      'TABLE_OR_VIEW_NOT_FOUND',
      '42P01',
      `The table or view ${quoteName(name)} cannot be found. Verify the spelling and correctness of the schema and catalog.`,
    ),
  schemaNotFound: (name: string | readonly string[]) =>
    new WarehouseError(
      'SCHEMA_NOT_FOUND',
      '42704',
      `The schema ${quoteName(name)} cannot be found. Verify the spelling and correctness of the schema and catalog.`,
    ),
  catalogNotFound: (name: string) =>
    new WarehouseError(
      'NO_SUCH_CATALOG_EXCEPTION',
      '42704',
      `The catalog '${name}' was not found. Please verify the catalog name and then retry the query or command again.`,
    ),
  catalogAlreadyExists: (name: string) =>
    new WarehouseError('CATALOG_ALREADY_EXISTS', '42P04', `Cannot create catalog ${quoteName(name)} because it already exists.`),
  invalidIdentifier: (name: string, why: string) =>
    new WarehouseError('INVALID_IDENTIFIER', '42602', `The identifier ${name} is invalid: ${why}.`),
  unboundParameter: (name: string) =>
    new WarehouseError(
      'UNBOUND_SQL_PARAMETER',
      '42P02',
      `Found the unbound parameter: ${name}. Please, fix \`args\` and provide a mapping of the parameter to either a SQL literal or collection constructor functions such as \`map()\`, \`array()\`, \`struct()\`.`,
    ),
  mixedParameters: () =>
    new WarehouseError(
      'INVALID_QUERY_MIXED_QUERY_PARAMETERS',
      '42613',
      'Parameterized query must either use positional, or named parameters, but not both.',
    ),
  invalidParameterValue: (name: string, type: string, value: string) =>
    new WarehouseError(
      'INVALID_PARAMETER_MARKER_VALUE.INVALID_VALUE_FOR_DATA_TYPE',
      '22023',
      `An invalid parameter mapping was provided: the value '${value}' for parameter '${name}' cannot be cast to ${type} because it is malformed.`,
    ),
  multipleSourceRowsMatched: () =>
    new WarehouseError(
      'DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE',
      '21506',
      'Cannot perform Merge as multiple source rows matched and attempted to modify the same target row in the Delta table in possibly conflicting ways. ' +
        'By SQL semantics of Merge, when multiple source rows match on the same target row, the result may be ambiguous as it is unclear which source row ' +
        'should be used to update or delete the matching target row. You can preprocess the source table to eliminate the possibility of multiple matches.',
    ),
  fieldsAlreadyExist: (column: string, table: readonly string[]) =>
    new WarehouseError(
      'FIELDS_ALREADY_EXISTS',
      '42710',
      `Cannot add column, because ${quoteName(column)} already exists in ${quoteName(table)}.`,
    ),
  mergeUnresolvedColumn: (column: string, clause: string, sourceColumns: readonly string[]) =>
    new WarehouseError(
      'DELTA_MERGE_UNRESOLVED_EXPRESSION',
      '42601',
      `Cannot resolve ${column} in ${clause} clause given columns ${sourceColumns.join(', ')}.`,
    ),
  arithmeticOverflow: (detail: string) =>
    new WarehouseError('ARITHMETIC_OVERFLOW', '22003', `${detail}. If necessary set "ansi_mode" to "false" to bypass this error.`),
  statementTooLarge: (bytes: number, limit: number) =>
    new WarehouseError(
      'EMULATOR_STATEMENT_TOO_LARGE',
      '54000',
      `The statement and its parameters are ${bytes} bytes, over the warehouse limit of ${limit} bytes. Send smaller batches.`,
    ),
  unsupported: (what: string) =>
    new WarehouseError('EMULATOR_UNSUPPORTED_STATEMENT', '0A000', `The local warehouse emulator does not support ${what}.`),
  injected: (errorClass: string, sqlState: string) =>
    new WarehouseError(errorClass, sqlState, 'Injected by the local warehouse emulator (fault injection).'),
};

const firstLine = (message: string): string => (message.split('\n')[0] ?? message).trim();

interface DuckDbErrorRule {
  pattern: RegExp;
  toError: (match: RegExpMatchArray, message: string) => WarehouseError;
}

// Ordered: the first matching rule wins. Patterns match DuckDB 1.5 messages.
const duckDbErrorRules: readonly DuckDbErrorRule[] = [
  {
    pattern: /\[raise_error\] ([\s\S]*)$/,
    toError: (m) => new WarehouseError('USER_RAISED_EXCEPTION', 'P0001', (m[1] ?? '').trim()),
  },
  {
    pattern: /Parser Error: syntax error at or near "([^"]*)"/,
    toError: (m) => databricksErrors.parseSyntax(`'${m[1]}'`),
  },
  {
    pattern: /Parser Error: syntax error at end of input/,
    toError: () => databricksErrors.parseSyntax('end of input'),
  },
  {
    pattern: /Catalog "([^"]+)" does not exist/,
    toError: (m) => databricksErrors.catalogNotFound(catalogFromAlias(m[1] ?? '')),
  },
  {
    pattern: /Table with name "?([^"!]+?)"? does not exist because schema "([^"]+)" does not exist/,
    toError: (m) => databricksErrors.tableNotFound((m[1] ?? '').split('.')),
  },
  {
    pattern: /Table with name "?([^"!\s]+)"? does not exist/,
    toError: (m) => databricksErrors.tableNotFound(m[1] ?? ''),
  },
  {
    pattern: /Schema with name "?([^"!\s]+)"? does not exist/,
    toError: (m) => databricksErrors.schemaNotFound(m[1] ?? ''),
  },
  {
    pattern: /Schema with name "?([^"!\s]+)"? already exists/,
    toError: (m) => new WarehouseError('SCHEMA_ALREADY_EXISTS', '42P06', `Cannot create schema \`${m[1]}\` because it already exists.`),
  },
  {
    pattern: /Table with name "?([^"!\s]+)"? already exists/,
    toError: (m) =>
      new WarehouseError('TABLE_OR_VIEW_ALREADY_EXISTS', '42P07', `Cannot create table or view \`${m[1]}\` because it already exists.`),
  },
  {
    pattern: /Referenced column "([^"]+)" not found|Column with name "?([^"!\s]+)"? does not exist/,
    toError: (m) =>
      new WarehouseError(
        'UNRESOLVED_COLUMN.WITH_SUGGESTION',
        '42703',
        `A column, variable, or function parameter with name \`${m[1] ?? m[2]}\` cannot be resolved.`,
      ),
  },
  {
    // A column a statement names that its table lacks (e.g. dropped behind the loader's back).
    pattern: /Table "([^"]+)" does not have a column named "([^"]+)"/,
    toError: (m) =>
      new WarehouseError('UNRESOLVED_COLUMN.WITH_SUGGESTION', '42703', `A column, variable, or function parameter with name \`${m[1]}\`.\`${m[2]}\` cannot be resolved.`),
  },
  {
    pattern: /Referenced table "([^"]+)" not found/,
    toError: (m) => databricksErrors.tableNotFound(m[1] ?? ''),
  },
  {
    pattern: /(?:Scalar|Table|Aggregate) Function with name "?([^"!\s]+)"? does not exist/,
    toError: (m) =>
      new WarehouseError('UNRESOLVED_ROUTINE', '42883', `Cannot resolve routine \`${m[1]}\` on search path.`),
  },
  {
    pattern: /Could not parse string "([^"]*)" according to format specifier "([^"]*)"/,
    toError: (m) =>
      new WarehouseError(
        'CANNOT_PARSE_TIMESTAMP',
        '22007',
        `Text '${m[1]}' could not be parsed with the pattern. Use \`try_to_timestamp\` to tolerate invalid input string and return NULL instead.`,
      ),
  },
  {
    pattern: /Date out of range: (\S+)/,
    toError: (m) =>
      new WarehouseError(
        'CANNOT_PARSE_TIMESTAMP',
        '22007',
        `Text could not be parsed: invalid date ${m[1]}. Use \`try_to_timestamp\` to tolerate invalid input string and return NULL instead.`,
      ),
  },
  {
    pattern: /Conversion Error: .*out of range|Overflow in|value out of range/i,
    toError: (_m, message) => new WarehouseError('NUMERIC_VALUE_OUT_OF_RANGE', '22003', `${firstLine(message)}.`),
  },
  {
    pattern: /Conversion Error: (?:Could not convert string|Unimplemented type for cast|invalid|date field value)/i,
    toError: (_m, message) =>
      new WarehouseError(
        'CAST_INVALID_INPUT',
        '22018',
        `${firstLine(message)}. Correct the value as per the syntax, or change its target type. Use \`try_cast\` to tolerate malformed input and return NULL instead.`,
      ),
  },
  {
    pattern: /NOT NULL constraint failed: ([^\s]+)/,
    toError: (m) =>
      new WarehouseError('DELTA_NOT_NULL_CONSTRAINT_VIOLATED', '23502', `NOT NULL constraint violated for column: ${m[1]}.`),
  },
  {
    pattern: /Column with name "?([^"!\s]+)"? already exists/,
    toError: (m) => databricksErrors.fieldsAlreadyExist(m[1] ?? '', []),
  },
  {
    pattern: /TransactionContext Error: .*[Cc]onflict/,
    toError: (_m, message) =>
      new WarehouseError(
        'DELTA_CONCURRENT_APPEND',
        '2D521',
        `Transaction conflict detected: ${firstLine(message)}. Refresh the table and retry the operation.`,
      ),
  },
  {
    pattern: /Unexpected prepared parameter|can't be prepared/,
    toError: () =>
      new WarehouseError(
        'UNSUPPORTED_FEATURE.PARAMETER_MARKER_IN_UNEXPECTED_STATEMENT',
        '0A000',
        'Parameter markers are not allowed in this statement (views, functions, defaults).',
      ),
  },
  {
    pattern: /No function matches the given name and argument types|Cannot compare values of type|Cannot mix values of type/,
    toError: (_m, message) => new WarehouseError('DATATYPE_MISMATCH', '42K09', `${firstLine(message)}.`),
  },
];

const sqlStateByDuckDbCategory: Readonly<Record<string, string>> = {
  'Parser Error': '42601',
  'Binder Error': '42000',
  'Catalog Error': '42000',
  'Conversion Error': '22000',
  'Invalid Input Error': '22023',
  'Out of Range Error': '22003',
  'Constraint Error': '23000',
  'Not implemented Error': '0A000',
};

/** Maps a DuckDB failure to the Databricks error a real warehouse would raise for the same cause. */
export function toWarehouseError(error: unknown): WarehouseError {
  if (error instanceof WarehouseError) return error;
  const message = error instanceof Error ? error.message : String(error);
  for (const rule of duckDbErrorRules) {
    const match = message.match(rule.pattern);
    if (match) return rule.toError(match, message);
  }
  const category = /^([A-Za-z ]+ Error):/.exec(message)?.[1] ?? '';
  return new WarehouseError('EMULATOR_UNMAPPED_ERROR', sqlStateByDuckDbCategory[category] ?? 'XX000', firstLine(message));
}
