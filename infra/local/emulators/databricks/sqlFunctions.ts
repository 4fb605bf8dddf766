// Spark SQL functions that DuckDB names or types differently, rewritten by name. Each rewrite receives its
// arguments as token ranges and returns DuckDB SQL; unlisted functions pass through (most are shared).
import { databricksErrors } from './errors.ts';
import { CURRENT_CATALOG_SQL, quoteIdent, quoteLiteral } from './identifiers.ts';
import { duckDbTypeSql, jsonStructure, jsonStructureNeedsCast, parseSparkTypeString } from './sparkTypes.ts';
import { findTopLevelWord, identifierName, type Token } from './sqlLexer.ts';

/** Prefix of the message DuckDB raises for raise_error(), mapped back to USER_RAISED_EXCEPTION. */
export const RAISE_ERROR_MARKER = '[raise_error] ';

/** What a rewrite needs from the translator: its arguments rendered (recursively translated) or read. */
export interface ArgumentReader {
  /** The argument rendered as DuckDB SQL. */
  arg(range: [number, number] | undefined, functionName: string): string;
  /** A string-literal argument's value (patterns, schemas). */
  literalArg(range: [number, number] | undefined, functionName: string): string;
  /** `expr AS type` inside CAST( … ). */
  castArg(range: [number, number] | undefined, functionName: string): { exprSql: string; typeSql: string };
}

export interface CallRewriteInput {
  readonly translator: ArgumentReader;
  readonly args: Array<[number, number]>;
  readonly tokens: readonly Token[];
  readonly name: string;
}

/** Spark datetime pattern letters → strftime, for to_date/to_timestamp/date_format with literal patterns. */
const DATETIME_PATTERN_PARTS: ReadonlyArray<[string, string]> = [
  ['yyyy', '%Y'], ['yy', '%y'], ['MMMM', '%B'], ['MMM', '%b'], ['MM', '%m'], ['dd', '%d'], ['HH', '%H'], ['hh', '%I'],
  ['mm', '%M'], ['ss', '%S'], ['SSSSSS', '%f'], ['SSS', '%g'], ['a', '%p'], ['EEEE', '%A'], ['EEE', '%a'], ['M', '%-m'],
  ['d', '%-d'], ['H', '%-H'], ['XXX', '%z'], ['Z', '%z'],
];

/** Converts a Spark datetime pattern (`yyyyMMdd`, `yyyy-MM-dd'T'HH:mm:ss`) to a strftime format. */
export function sparkDatetimePatternToStrftime(pattern: string): string {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    if (pattern[i] === "'") {
      const end = pattern.indexOf("'", i + 1);
      const literal = end === -1 ? pattern.slice(i + 1) : pattern.slice(i + 1, end);
      out += literal === '' ? "'" : literal.replaceAll('%', '%%');
      i = end === -1 ? pattern.length : end + 1;
      continue;
    }
    const part = DATETIME_PATTERN_PARTS.find(([spark]) => pattern.startsWith(spark, i));
    if (part) {
      out += part[1];
      i += part[0].length;
      continue;
    }
    const ch = pattern[i]!;
    if (/[A-Za-z]/.test(ch)) throw databricksErrors.unsupported(`the datetime pattern letter '${ch}' in '${pattern}'`);
    out += ch === '%' ? '%%' : ch;
    i += 1;
  }
  return out;
}

const sha2 = ({ translator, args, name }: CallRewriteInput): string => {
  const bits = translator.arg(args[1], name);
  if (bits !== '256' && bits !== '0') throw databricksErrors.unsupported(`sha2(..., ${bits}) (only 256 bits)`);
  return `sha256(${translator.arg(args[0], name)})`;
};

const datetimeParse = (target: 'DATE' | 'TIMESTAMPTZ', tolerant: boolean) =>
  ({ translator, args, name }: CallRewriteInput): string => {
    const value = translator.arg(args[0], name);
    if (args.length < 2) return `${tolerant ? 'TRY_CAST' : 'CAST'}(${value} AS ${target})`;
    const format = quoteLiteral(sparkDatetimePatternToStrftime(translator.literalArg(args[1], name)));
    return `CAST(${tolerant ? 'try_strptime' : 'strptime'}(${value}, ${format}) AS ${target})`;
  };

/** Generators Spark accepts as table references (`FROM inline(…) AS r`): rendered as a subquery. */
export const TABLE_FUNCTIONS: ReadonlySet<string> = new Set(['inline', 'explode']);

/**
 * Function rewrites, by lower-case name. Each receives the argument ranges and returns DuckDB SQL.
 * Unlisted functions pass through unchanged (DuckDB shares most scalar functions with Spark).
 */
export const FUNCTION_REWRITES: Readonly<Record<string, (input: CallRewriteInput) => string>> = {
  from_json: ({ translator, args, name }) => {
    const json = translator.arg(args[0], name);
    const type = parseSparkTypeString(translator.literalArg(args[1], name));
    const transformed = `json_transform(${json}, ${quoteLiteral(JSON.stringify(jsonStructure(type)))})`;
    return jsonStructureNeedsCast(type) ? `TRY_CAST(${transformed} AS ${duckDbTypeSql(type)})` : transformed;
  },
  inline: ({ translator, args, name }) => `unnest(${translator.arg(args[0], name)}, recursive := true)`,
  // Spark answers NULL for text that is not JSON, or a path that is not there; DuckDB would fail on the former.
  get_json_object: ({ translator, args, name }) => {
    const json = translator.arg(args[0], name);
    return `CASE WHEN json_valid(${json}) THEN json_extract_string(${json}, ${quoteLiteral(translator.literalArg(args[1], name))}) END`;
  },
  regexp_like: ({ translator, args, name }) => `regexp_matches(${translator.arg(args[0], name)}, ${translator.arg(args[1], name)})`,
  // The marker lets errors.ts report USER_RAISED_EXCEPTION (DuckDB raises an Invalid Input Error).
  raise_error: ({ translator, args, name }) => `error(${quoteLiteral(RAISE_ERROR_MARKER)} || coalesce(CAST(${translator.arg(args[0], name)} AS VARCHAR), 'NULL'))`,
  explode: ({ translator, args, name }) => `unnest(${translator.arg(args[0], name)})`,
  to_date: datetimeParse('DATE', false),
  try_to_date: datetimeParse('DATE', true),
  to_timestamp: datetimeParse('TIMESTAMPTZ', false),
  try_to_timestamp: datetimeParse('TIMESTAMPTZ', true),
  date_format: ({ translator, args, name }) =>
    `strftime(${translator.arg(args[0], name)}, ${quoteLiteral(sparkDatetimePatternToStrftime(translator.literalArg(args[1], name)))})`,
  cast: ({ translator, args, name }) => {
    const { exprSql, typeSql } = translator.castArg(args[0], name);
    return `CAST(${exprSql} AS ${typeSql})`;
  },
  try_cast: ({ translator, args, name }) => {
    const { exprSql, typeSql } = translator.castArg(args[0], name);
    return `TRY_CAST(${exprSql} AS ${typeSql})`;
  },
  sha2,
  // Spark's datediff(end, start) counts days from start to end; DuckDB's datediff takes a part first and the
  // other order. The three-argument form (a unit first) is newer Databricks syntax the product does not use.
  datediff: ({ translator, args, name }) => {
    if (args.length !== 2) throw databricksErrors.unsupported('datediff with other than two arguments (datediff(endDate, startDate))');
    // Databricks answers an INTEGER; DuckDB's date_diff a BIGINT.
    return `CAST(date_diff('day', CAST(${translator.arg(args[1], name)} AS DATE), CAST(${translator.arg(args[0], name)} AS DATE)) AS INTEGER)`;
  },
  current_date: () => 'current_date',
  current_timestamp: () => 'current_timestamp',
  now: () => 'current_timestamp',
  current_catalog: () => CURRENT_CATALOG_SQL,
  current_database: () => 'current_schema()',
  current_schema: () => 'current_schema()',
  struct: ({ translator, args, name, tokens }) => {
    const fields = args.map((range) => {
      const asAt = findTopLevelWord(tokens, range, 'AS');
      if (asAt !== undefined) {
        return `${quoteIdent(identifierName(tokens[asAt + 1]) ?? '')} := ${translator.arg([range[0], asAt], name)}`;
      }
      const last = tokens[range[1] - 1];
      const fieldName = identifierName(last);
      if (fieldName === undefined) throw databricksErrors.unsupported('struct() fields without a name (alias each expression)');
      return `${quoteIdent(fieldName)} := ${translator.arg(range, name)}`;
    });
    return `struct_pack(${fields.join(', ')})`;
  },
  named_struct: ({ translator, args, name }) => {
    const pairs: string[] = [];
    for (let i = 0; i < args.length; i += 2) {
      pairs.push(`${quoteIdent(translator.literalArg(args[i], name))} := ${translator.arg(args[i + 1], name)}`);
    }
    return `struct_pack(${pairs.join(', ')})`;
  },
  nvl: ({ translator, args, name }) => `coalesce(${translator.arg(args[0], name)}, ${translator.arg(args[1], name)})`,
  array: ({ translator, args, name }) => `list_value(${args.map((a) => translator.arg(a, name)).join(', ')})`,
};
