// Databricks SQL → an execution plan of DuckDB SQL. Scoped to the statements a loader emits (see README):
// every construct is a small rewrite over the token stream, and anything outside the subset fails loudly.
import { WarehouseError, databricksErrors } from './errors.ts';
import { CURRENT_CATALOG_SQL, catalogAlias, quoteIdent, quoteLiteral } from './identifiers.ts';
import type { StatementParameters } from './parameters.ts';
import { duckDbTypeSql, parseTypeAt } from './sparkTypes.ts';
import { FUNCTION_REWRITES, TABLE_FUNCTIONS, type ArgumentReader } from './sqlFunctions.ts';
import { findTopLevelWord, identifierName, isOp, isWord, lex, matchingClose, splitTopLevel, type Token } from './sqlLexer.ts';

/** A table or schema name as written, lower-cased; missing parts resolve against the session at run time. */
export interface ObjectName {
  readonly catalog?: string;
  readonly schema?: string;
  readonly name: string;
}

export interface ColumnDefinition {
  readonly name: string;
  readonly typeSql: string;
  readonly notNull: boolean;
  readonly comment?: string;
}

export type MergeAction =
  | { kind: 'updateAll' }
  | { kind: 'update'; setSql: string }
  | { kind: 'delete' }
  | { kind: 'insertAll' }
  | { kind: 'insert'; columnsSql: string; valuesSql: string };

export interface MergeClause {
  readonly when: 'matched' | 'notMatched' | 'notMatchedBySource';
  readonly conditionSql?: string;
  readonly action: MergeAction;
}

export interface MergePlan {
  readonly target: ObjectName;
  readonly targetSql: string;
  /** How conditions refer to the target: its alias, or its table name. */
  readonly targetAlias: string;
  readonly sourceSql: string;
  readonly sourceAlias: string;
  readonly onSql: string;
  readonly clauses: readonly MergeClause[];
}

/** A CLUSTER BY clause: keys, AUTO (Databricks picks them) or NONE. */
export type ClusterSpec = { readonly kind: 'columns'; readonly columns: readonly string[] } | { readonly kind: 'auto' } | { readonly kind: 'none' };

export type Plan =
  /** Run as is; the result depends on DuckDB's statement type (rows, DML counts, or nothing). */
  | { kind: 'sql'; sql: string; usesCatalogViews: boolean }
  /** DDL run in one transaction, without a result. */
  | { kind: 'script'; statements: readonly string[] }
  | { kind: 'merge'; merge: MergePlan; usesCatalogViews: boolean }
  | { kind: 'addColumns'; table: ObjectName; tableSql: string; columns: readonly ColumnDefinition[] }
  /** CREATE TABLE: DuckDB DDL plus what Delta keeps beside it (properties, clustering), checked before it runs. */
  | {
      kind: 'createTable';
      table: ObjectName;
      tableSql: string;
      ifNotExists: boolean;
      orReplace: boolean;
      /** Empty for CREATE TABLE … AS query (known once the query ran). */
      columns: readonly ColumnDefinition[];
      clusterBy?: ClusterSpec;
      properties: ReadonlyMap<string, string>;
      statements: readonly string[];
    }
  | { kind: 'createSchema'; catalog?: string; schema: string; statements: readonly string[] }
  | { kind: 'dropTable'; table: ObjectName; ifExists: boolean }
  | {
      kind: 'alterTableMetadata';
      table: ObjectName;
      setProperties?: ReadonlyMap<string, string>;
      unsetProperties?: { keys: readonly string[]; ifExists: boolean };
      clusterBy?: ClusterSpec;
    }
  | { kind: 'showTblProperties'; table: ObjectName; key?: string }
  /** ALTER TABLE … ALTER COLUMN c COMMENT '…': the column must exist. */
  | { kind: 'commentColumn'; table: ObjectName; column: string; comment: string }
  /** COMMENT ON TABLE … IS '…' | NULL. */
  | { kind: 'commentTable'; table: ObjectName; comment: string | null }
  | CopyIntoPlan
  | { kind: 'createCatalog'; name: string; ifNotExists: boolean }
  | { kind: 'use'; catalog?: string; schema?: string }
  | { kind: 'describeTable'; table: ObjectName; tableSql: string }
  | { kind: 'showColumns'; table: ObjectName; tableSql: string }
  | { kind: 'showTables'; catalog?: string; schema?: string; pattern?: string }
  | { kind: 'showSchemas'; catalog?: string; pattern?: string }
  | { kind: 'showCatalogs'; pattern?: string }
  /** Accepted and ignored (table maintenance, session settings). */
  | { kind: 'noop' };

/** COPY INTO: where the files are, which ones, how to read them, and the SELECT over them (DuckDB SQL). */
export interface CopyIntoPlan {
  readonly kind: 'copyInto';
  readonly target: ObjectName;
  /** Target columns `(a, b)` to fill by position, or undefined: by name. */
  readonly columns?: readonly string[];
  readonly byPosition: boolean;
  /** The source location as written (`s3://bucket/prefix`). */
  readonly url: string;
  /** The SELECT list over the source's columns, translated; undefined for `FROM 'path'`. */
  readonly selectSql?: string;
  readonly format: string;
  readonly files?: readonly string[];
  readonly pattern?: string;
  readonly formatOptions: ReadonlyMap<string, string>;
  readonly copyOptions: ReadonlyMap<string, string>;
}

/** Temp tables the executor fills before running a plan that reads information_schema. */
export const CATALOG_VIEW_TABLES = {
  columns: 'uc_information_schema_columns',
  tables: 'uc_information_schema_tables',
  schemata: 'uc_information_schema_schemata',
} as const;

/** Translates one Databricks statement. Throws WarehouseError for what Databricks (or the emulator) rejects. */
export function translateStatement(sql: string, parameters: StatementParameters): Plan {
  const tokens = statementTokens(sql);
  checkParameterMarkers(tokens, parameters);
  const translator = new Translator(tokens, parameters);
  return translator.plan();
}

/** Tokens of exactly one statement (a trailing `;` is allowed), ending with the 'end' token. */
function statementTokens(sql: string): Token[] {
  const tokens = lex(sql);
  while (tokens.length > 1 && isOp(tokens[tokens.length - 2], ';')) tokens.splice(tokens.length - 2, 1);
  if (tokens.length === 1) throw new WarehouseError('PARSE_EMPTY_STATEMENT', '42617', 'Syntax error, unexpected empty statement.');
  const separator = tokens.findIndex((t) => isOp(t, ';'));
  if (separator !== -1) throw databricksErrors.parseSyntax(`'${tokens[separator + 1]?.text ?? ';'}'`, ': one statement per request');
  return tokens;
}

function checkParameterMarkers(tokens: readonly Token[], parameters: StatementParameters): void {
  const named = new Set(tokens.filter((t) => t.kind === 'namedParam').map((t) => t.value));
  const ordinalCount = tokens.filter((t) => t.kind === 'ordinalParam').length;
  parameters.checkMarkers(named, ordinalCount);
}

const TABLE_POSITION_KEYWORDS = new Set(['FROM', 'JOIN', 'INTO', 'UPDATE', 'TABLE', 'EXISTS', 'VIEW']);
const FROM_LIST_ENDS = new Set([
  'WHERE', 'GROUP', 'HAVING', 'QUALIFY', 'ORDER', 'LIMIT', 'WINDOW', 'UNION', 'EXCEPT', 'INTERSECT',
  'SELECT', 'SET', 'VALUES', 'RETURNING', 'WHEN', 'USING', 'ON',
]);
/** Keywords that may precede `(` without being a function call. */
const CLAUSE_KEYWORDS = new Set([
  'IN', 'AS', 'AND', 'OR', 'NOT', 'THEN', 'ELSE', 'BY', 'IS', 'LIKE', 'ILIKE', 'RLIKE', 'CASE', 'END', 'FILTER', 'WITHIN',
  'DISTINCT', 'ALL', 'ANY', 'SOME', 'LATERAL', 'OVER', 'BETWEEN', 'WITH', 'RECURSIVE',
]);
const ALIAS_STOP_WORDS = new Set([...FROM_LIST_ENDS, 'JOIN', 'INNER', 'LEFT', 'RIGHT', 'FULL', 'CROSS', 'NATURAL', 'LATERAL']);

/** Renders Spark LIKE-style SHOW patterns (`*` wildcard, `|` alternatives) as a case-insensitive test. */
export function showPatternMatches(pattern: string, name: string): boolean {
  return pattern
    .split('|')
    .map((alternative) => alternative.trim().toLowerCase())
    .some((alternative) => {
      const regex = alternative.replace(/[.+?^${}()[\]\\]/g, '\\$&').replaceAll('*', '.*');
      return new RegExp(`^${regex}$`).test(name.toLowerCase());
    });
}

class Translator implements ArgumentReader {
  private usesCatalogViews = false;
  private ordinalIndex = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly parameters: StatementParameters,
  ) {}

  private get end(): number {
    return this.tokens.length - 1;
  }

  private word(i: number): string {
    const t = this.tokens[i];
    return t?.kind === 'word' ? t.value.toUpperCase() : '';
  }

  plan(): Plan {
    const first = this.word(0);
    switch (first) {
      case 'CREATE':
        return this.create();
      case 'DROP':
        return this.drop();
      case 'ALTER':
        return this.alter();
      case 'USE':
        return this.use(1);
      case 'SET':
        return this.word(1) === 'CATALOG' ? this.use(1) : { kind: 'noop' };
      case 'RESET':
      case 'OPTIMIZE':
      case 'VACUUM':
      case 'ANALYZE':
      case 'REFRESH':
      case 'CACHE':
      case 'UNCACHE':
        return { kind: 'noop' };
      case 'DESCRIBE':
      case 'DESC':
        return this.describe();
      case 'SHOW':
        return this.show();
      case 'MERGE':
        return this.mergeInto();
      case 'COMMENT':
        return this.commentOn();
      case 'COPY':
        return this.copyInto();
      case 'INSERT':
        if (this.word(1) === 'OVERWRITE' || this.tokens.some((t, i) => isWord(t, 'REPLACE') && isWord(this.tokens[i + 1], 'WHERE'))) {
          throw databricksErrors.unsupported('INSERT OVERWRITE / INSERT ... REPLACE WHERE');
        }
        return this.sqlPlan();
      default:
        return this.sqlPlan();
    }
  }

  private sqlPlan(): Plan {
    const sql = this.render(0, this.end);
    return { kind: 'sql', sql, usesCatalogViews: this.usesCatalogViews };
  }

  // ---- DDL ------------------------------------------------------------------------------------------

  private create(): Plan {
    let i = 1;
    const orReplace = this.word(i) === 'OR' && this.word(i + 1) === 'REPLACE';
    if (orReplace) i += 2;
    const object = this.word(i);
    if (object === 'CATALOG') {
      const ifNotExists = this.word(i + 1) === 'IF';
      const name = this.plainName(ifNotExists ? i + 4 : i + 1);
      return { kind: 'createCatalog', name, ifNotExists };
    }
    if (object === 'SCHEMA' || object === 'DATABASE') return this.createSchema(i + 1);
    if (object === 'TABLE') return this.createTable(i + 1, orReplace);
    if (object === 'EXTERNAL' || object === 'STREAMING' || object === 'MATERIALIZED') {
      throw databricksErrors.unsupported(`CREATE ${object} ...`);
    }
    return this.sqlPlan(); // views, temporary views, functions: rewritten generically
  }

  private createSchema(start: number): Plan {
    const ifNotExists = this.word(start) === 'IF';
    const nameStart = ifNotExists ? start + 3 : start;
    const { parts, end } = this.readName(nameStart);
    const schema = this.schemaName(parts);
    this.expectOnly(end, ['COMMENT', 'LOCATION', 'MANAGED', 'WITH', 'DEFAULT']);
    return { kind: 'createSchema', ...schema, statements: [`CREATE SCHEMA ${ifNotExists ? 'IF NOT EXISTS ' : ''}${schemaSql(schema)}`] };
  }

  private drop(): Plan {
    const object = this.word(1);
    if (object === 'CATALOG') throw databricksErrors.unsupported('DROP CATALOG');
    if (object === 'TABLE') {
      const ifExists = this.word(2) === 'IF';
      const { parts, end } = this.readName(ifExists ? 4 : 2);
      this.expectOnly(end, ['PURGE']);
      return { kind: 'dropTable', table: this.tableName(parts), ifExists };
    }
    if (object !== 'SCHEMA' && object !== 'DATABASE') return this.sqlPlan();
    const ifExists = this.word(2) === 'IF';
    const { parts, end } = this.readName(ifExists ? 4 : 2);
    const cascade = this.word(end) === 'CASCADE';
    return {
      kind: 'script',
      statements: [`DROP SCHEMA ${ifExists ? 'IF EXISTS ' : ''}${schemaSql(this.schemaName(parts))}${cascade ? ' CASCADE' : ''}`],
    };
  }

  private createTable(start: number, orReplace: boolean): Plan {
    let i = start;
    const ifNotExists = this.word(i) === 'IF';
    if (ifNotExists) i += 3;
    const { parts, end: nameEnd } = this.readName(i);
    const table = this.tableName(parts);
    const tableSql = objectSql(table);
    i = nameEnd;

    let columns: ColumnDefinition[] = [];
    if (isOp(this.tokens[i], '(')) {
      const close = matchingClose(this.tokens, i);
      columns = this.columnDefinitions(i + 1, close);
      i = close + 1;
    }

    let tableComment: string | undefined;
    let asQuery: string | undefined;
    let clusterBy: ClusterSpec | undefined;
    let partitioned = false;
    let properties = new Map<string, string>();
    while (i < this.end) {
      const clause = this.word(i);
      if (clause === 'USING') i += 2;
      else if (clause === 'CLUSTER') {
        ({ spec: clusterBy, end: i } = this.clusterSpec(i + 2));
      } else if (clause === 'PARTITIONED') {
        partitioned = true;
        i += 2;
        i = isOp(this.tokens[i], '(') ? matchingClose(this.tokens, i) + 1 : i + 1;
      } else if (clause === 'TBLPROPERTIES') {
        const close = matchingClose(this.tokens, i + 1);
        properties = this.propertyList(i + 2, close);
        i = close + 1;
      } else if (clause === 'OPTIONS') i = matchingClose(this.tokens, i + 1) + 1;
      else if (clause === 'LOCATION') i += 2;
      else if (clause === 'COMMENT') {
        tableComment = this.tokens[i + 1]?.value;
        i += 2;
      } else if (clause === 'AS') {
        asQuery = this.render(i + 1, this.end);
        i = this.end;
      } else throw databricksErrors.parseSyntax(`'${this.tokens[i]?.text}'`, ' in CREATE TABLE');
    }

    if (partitioned && clusterBy !== undefined && clusterBy.kind !== 'none') {
      throw new WarehouseError('DELTA_CLUSTER_BY_WITH_PARTITIONED_BY', '42613', 'Clustering and partitioning cannot both be specified.');
    }
    const head = `CREATE ${orReplace ? 'OR REPLACE ' : ''}TABLE ${ifNotExists ? 'IF NOT EXISTS ' : ''}${tableSql}`;
    const statements: string[] = [];
    if (asQuery !== undefined) statements.push(`${head} AS${asQuery}`);
    else {
      if (columns.length === 0) throw databricksErrors.parseSyntax("'end of input'", ': CREATE TABLE needs columns or AS <query>');
      statements.push(`${head} (${columns.map(columnDefinitionSql).join(', ')})`);
    }
    if (tableComment !== undefined) statements.push(`COMMENT ON TABLE ${tableSql} IS ${quoteLiteral(tableComment)}`);
    for (const column of columns) {
      if (column.comment !== undefined) {
        statements.push(`COMMENT ON COLUMN ${tableSql}.${quoteIdent(column.name)} IS ${quoteLiteral(column.comment)}`);
      }
    }
    return { kind: 'createTable', table, tableSql, ifNotExists, orReplace, columns, properties, statements, ...(clusterBy ? { clusterBy } : {}) };
  }

  /** `(a, b)` | `AUTO` | `NONE` after CLUSTER BY. */
  private clusterSpec(at: number): { spec: ClusterSpec; end: number } {
    if (isOp(this.tokens[at], '(')) {
      const close = matchingClose(this.tokens, at);
      const columns = splitTopLevel(this.tokens, at + 1, close).map(([a, b]) => {
        const name = identifierName(this.tokens[a]);
        if (name === undefined || b !== a + 1) throw databricksErrors.parseSyntax(`'${this.tokens[a]?.text}'`, ': expected a clustering column');
        return name.toLowerCase();
      });
      return { spec: { kind: 'columns', columns }, end: close + 1 };
    }
    const word = this.word(at);
    if (word === 'AUTO' || word === 'NONE') return { spec: { kind: word === 'AUTO' ? 'auto' : 'none' }, end: at + 1 };
    throw databricksErrors.parseSyntax(`'${this.tokens[at]?.text ?? 'end of input'}'`, ': expected (columns), AUTO or NONE');
  }

  /** `'key' = 'value', delta.key = true, …` between parentheses: keys as written (`a.b` or a string), values as text. */
  private propertyList(from: number, to: number, valuesRequired = true): Map<string, string> {
    const properties = new Map<string, string>();
    if (from === to) return properties;
    for (const [a, b] of splitTopLevel(this.tokens, from, to)) {
      let i = a;
      let key = '';
      if (this.tokens[i]?.kind === 'string') key = this.tokens[i++]!.value;
      else {
        while (i < b && !isOp(this.tokens[i], '=')) key += this.tokens[i++]!.value;
      }
      if (key === '') throw databricksErrors.parseSyntax(`'${this.tokens[a]?.text}'`, ': expected a property key');
      if (isOp(this.tokens[i], '=')) i += 1;
      const value = i < b ? this.tokens.slice(i, b).map((t) => t.value).join('') : undefined;
      if (value === undefined && valuesRequired) throw databricksErrors.parseSyntax(`'${this.tokens[b]?.text ?? ')'}'`, `: property '${key}' needs a value`);
      properties.set(key, value ?? '');
    }
    return properties;
  }

  /** Column definitions in ( ... ); table constraints are informational in Unity Catalog and dropped. */
  private columnDefinitions(from: number, to: number): ColumnDefinition[] {
    const definitions: ColumnDefinition[] = [];
    for (const [a, b] of splitTopLevel(this.tokens, from, to, true)) {
      const head = this.word(a);
      if (head === 'CONSTRAINT' || head === 'PRIMARY' || head === 'FOREIGN' || head === 'CHECK') continue;
      definitions.push(this.columnDefinition(a, b));
    }
    return definitions;
  }

  private columnDefinition(from: number, to: number): ColumnDefinition {
    const name = identifierName(this.tokens[from]);
    if (name === undefined) throw databricksErrors.parseSyntax(`'${this.tokens[from]?.text}'`, ': expected a column name');
    const { type, end } = parseTypeAt(this.tokens, from + 1);
    let notNull = false;
    let comment: string | undefined;
    let i = end;
    while (i < to) {
      const w = this.word(i);
      if (w === 'NOT' && this.word(i + 1) === 'NULL') {
        notNull = true;
        i += 2;
      } else if (w === 'COMMENT') {
        comment = this.tokens[i + 1]?.value;
        i += 2;
      } else if (w === 'PRIMARY' && this.word(i + 1) === 'KEY') i += 2;
      else throw databricksErrors.unsupported(`the column option '${this.tokens[i]?.text}' (column \`${name}\`)`);
    }
    return { name, typeSql: duckDbTypeSql(type), notNull, ...(comment === undefined ? {} : { comment }) };
  }

  private alter(): Plan {
    if (this.word(1) !== 'TABLE') return this.sqlPlan();
    const { parts, end } = this.readName(2);
    const table = this.tableName(parts);
    const action = this.word(end);
    if (action === 'ADD' && (this.word(end + 1) === 'COLUMNS' || this.word(end + 1) === 'COLUMN')) {
      const start = end + 2;
      const columns = isOp(this.tokens[start], '(')
        ? this.columnDefinitions(start + 1, matchingClose(this.tokens, start))
        : splitTopLevel(this.tokens, start, this.end, true).map(([a, b]) => this.columnDefinition(a, b));
      return { kind: 'addColumns', table, tableSql: objectSql(table), columns };
    }
    // Properties and clustering are kept (and checked as Delta checks them); tags have no effect here.
    if (action === 'SET' && this.word(end + 1) === 'TBLPROPERTIES') {
      const open = end + 2;
      return { kind: 'alterTableMetadata', table, setProperties: this.propertyList(open + 1, matchingClose(this.tokens, open)) };
    }
    if (action === 'UNSET' && this.word(end + 1) === 'TBLPROPERTIES') {
      const ifExists = this.word(end + 2) === 'IF';
      const open = ifExists ? end + 4 : end + 2;
      const keys = [...this.propertyList(open + 1, matchingClose(this.tokens, open), false).keys()];
      return { kind: 'alterTableMetadata', table, unsetProperties: { keys, ifExists } };
    }
    if (action === 'CLUSTER' && this.word(end + 1) === 'BY') {
      return { kind: 'alterTableMetadata', table, clusterBy: this.clusterSpec(end + 2).spec };
    }
    if (['SET', 'UNSET'].includes(action) && this.word(end + 1) === 'TAGS') return { kind: 'noop' };
    if (action === 'ALTER' || action === 'CHANGE') {
      // Only the comment form: `ALTER TABLE t { ALTER | CHANGE } [COLUMN] c COMMENT 'text'`.
      const at = this.word(end + 1) === 'COLUMN' ? end + 2 : end + 1;
      const column = identifierName(this.tokens[at]);
      const text = this.tokens[at + 2];
      if (column === undefined || this.word(at + 1) !== 'COMMENT' || text?.kind !== 'string' || at + 3 !== this.end) {
        throw databricksErrors.unsupported(`ALTER TABLE … ${action} COLUMN other than \`${action} COLUMN c COMMENT '…'\``);
      }
      return { kind: 'commentColumn', table, column, comment: text.value };
    }
    return this.sqlPlan();
  }

  /** `COMMENT ON TABLE name IS 'text' | NULL`; columns take ALTER TABLE … ALTER COLUMN (COMMENT ON COLUMN needs DBR 16.1). */
  private commentOn(): Plan {
    if (this.word(1) !== 'ON') throw databricksErrors.parseSyntax(`'${this.tokens[1]?.text ?? 'end of input'}'`, ': expected COMMENT ON');
    if (this.word(2) !== 'TABLE') throw databricksErrors.unsupported(`COMMENT ON ${this.word(2)}`);
    const { parts, end } = this.readName(3);
    if (this.word(end) !== 'IS') throw databricksErrors.parseSyntax(`'${this.tokens[end]?.text ?? 'end of input'}'`, ': expected IS');
    const text = this.tokens[end + 1];
    const isNull = this.word(end + 1) === 'NULL';
    if ((!isNull && text?.kind !== 'string') || end + 2 !== this.end) {
      throw databricksErrors.parseSyntax(`'${text?.text ?? 'end of input'}'`, ": expected IS 'comment' or IS NULL");
    }
    return { kind: 'commentTable', table: this.tableName(parts), comment: isNull ? null : text!.value };
  }

  // ---- COPY INTO ------------------------------------------------------------------------------------

  private copyInto(): Plan {
    if (this.word(1) !== 'INTO') throw databricksErrors.parseSyntax(`'${this.tokens[1]?.text}'`, ': expected COPY INTO');
    const { parts, end } = this.readName(2);
    const target = this.tableName(parts);
    let i = end;
    let byPosition = false;
    let columns: string[] | undefined;
    if (this.word(i) === 'BY' && this.word(i + 1) === 'POSITION') {
      byPosition = true;
      i += 2;
    } else if (isOp(this.tokens[i], '(')) {
      const close = matchingClose(this.tokens, i);
      columns = splitTopLevel(this.tokens, i + 1, close).map(([a]) => (identifierName(this.tokens[a]) ?? '').toLowerCase());
      i = close + 1;
    }
    if (this.word(i) !== 'FROM') throw databricksErrors.parseSyntax(`'${this.tokens[i]?.text ?? 'end of input'}'`, ': expected FROM');
    i += 1;
    let url: string;
    let selectSql: string | undefined;
    if (this.tokens[i]?.kind === 'string') {
      url = this.tokens[i]!.value;
      i += 1;
    } else if (isOp(this.tokens[i], '(') && this.word(i + 1) === 'SELECT') {
      const close = matchingClose(this.tokens, i);
      const fromAt = findTopLevelWord(this.tokens, [i + 2, close], 'FROM');
      const path = fromAt === undefined ? undefined : this.tokens[fromAt + 1];
      if (fromAt === undefined || path?.kind !== 'string' || fromAt + 2 !== close) {
        throw databricksErrors.unsupported("COPY INTO … FROM (SELECT … FROM <anything but one 'path'>)");
      }
      selectSql = this.render(i + 2, fromAt).trim();
      url = path.value;
      i = close + 1;
    } else throw databricksErrors.parseSyntax(`'${this.tokens[i]?.text ?? 'end of input'}'`, ": expected 'path' or (SELECT … FROM 'path')");
    if (this.word(i) === 'WITH') throw databricksErrors.unsupported('COPY INTO … WITH (CREDENTIAL …): use an external location');

    let format: string | undefined;
    let files: string[] | undefined;
    let pattern: string | undefined;
    let formatOptions = new Map<string, string>();
    let copyOptions = new Map<string, string>();
    const afterEquals = (at: number) => (isOp(this.tokens[at + 1], '=') ? at + 2 : at + 1);
    while (i < this.end) {
      const clause = this.word(i);
      if (clause === 'FILEFORMAT') {
        const at = afterEquals(i);
        format = this.word(at);
        i = at + 1;
      } else if (clause === 'FILES') {
        const open = afterEquals(i);
        const close = matchingClose(this.tokens, open);
        files = splitTopLevel(this.tokens, open + 1, close).map(([a, b]) => {
          if (this.tokens[a]?.kind !== 'string' || b !== a + 1) throw databricksErrors.parseSyntax(`'${this.tokens[a]?.text}'`, ': FILES lists string literals');
          return this.tokens[a]!.value;
        });
        i = close + 1;
      } else if (clause === 'PATTERN') {
        const at = afterEquals(i);
        pattern = this.tokens[at]?.value;
        i = at + 1;
      } else if (clause === 'FORMAT_OPTIONS' || clause === 'COPY_OPTIONS') {
        const open = afterEquals(i);
        const close = matchingClose(this.tokens, open);
        const options = new Map([...this.propertyList(open + 1, close)].map(([k, v]) => [k.toLowerCase(), v]));
        if (clause === 'FORMAT_OPTIONS') formatOptions = options;
        else copyOptions = options;
        i = close + 1;
      } else if (clause === 'VALIDATE') {
        throw databricksErrors.unsupported('COPY INTO … VALIDATE');
      } else throw databricksErrors.parseSyntax(`'${this.tokens[i]?.text}'`, ' in COPY INTO');
    }
    if (format === undefined) throw databricksErrors.parseSyntax("'end of input'", ': COPY INTO needs FILEFORMAT = …');
    if (files !== undefined && pattern !== undefined) {
      throw databricksErrors.parseSyntax("'PATTERN'", ': FILES and PATTERN cannot both be given');
    }
    return {
      kind: 'copyInto', target, byPosition, url, format, formatOptions, copyOptions,
      ...optional('columns', columns), ...optional('selectSql', selectSql), ...optional('files', files), ...optional('pattern', pattern),
    };
  }

  // ---- Session and metadata -------------------------------------------------------------------------

  private use(start: number): Plan {
    const kind = this.word(start);
    if (kind === 'CATALOG') return { kind: 'use', catalog: this.plainName(start + 1) };
    const nameStart = ['SCHEMA', 'DATABASE', 'NAMESPACE'].includes(kind) ? start + 1 : start;
    const { parts } = this.readName(nameStart);
    if (parts.length > 2) throw databricksErrors.parseSyntax(`'${parts.join('.')}'`, ': expected [catalog.]schema');
    return parts.length === 2 ? { kind: 'use', catalog: parts[0]!, schema: parts[1]! } : { kind: 'use', schema: parts[0]! };
  }

  private describe(): Plan {
    let i = 1;
    const next = this.word(i);
    if (['SCHEMA', 'DATABASE', 'CATALOG', 'DETAIL', 'HISTORY', 'QUERY', 'FUNCTION'].includes(next)) {
      throw databricksErrors.unsupported(`DESCRIBE ${next}`);
    }
    if (next === 'TABLE') i += 1;
    if (this.word(i) === 'EXTENDED' || this.word(i) === 'FORMATTED') i += 1;
    const { parts } = this.readName(i);
    const table = this.tableName(parts);
    return { kind: 'describeTable', table, tableSql: objectSql(table) };
  }

  private show(): Plan {
    const what = this.word(1);
    const inName = (at: number): { parts: string[]; end: number } =>
      this.word(at) === 'IN' || this.word(at) === 'FROM' ? this.readName(at + 1) : { parts: [], end: at };
    const pattern = (at: number): string | undefined => {
      const i = this.word(at) === 'LIKE' ? at + 1 : at;
      return this.tokens[i]?.kind === 'string' ? this.tokens[i]!.value : undefined;
    };
    if (what === 'TABLES') {
      const { parts, end } = inName(2);
      const schema = parts.length > 0 ? this.schemaName(parts) : {};
      return { kind: 'showTables', ...schema, ...optional('pattern', pattern(end)) };
    }
    if (what === 'SCHEMAS' || what === 'DATABASES') {
      const { parts, end } = inName(2);
      return { kind: 'showSchemas', ...optional('catalog', parts[0]), ...optional('pattern', pattern(end)) };
    }
    if (what === 'CATALOGS') return { kind: 'showCatalogs', ...optional('pattern', pattern(2)) };
    if (what === 'TBLPROPERTIES') {
      const { parts, end } = this.readName(2);
      const key = isOp(this.tokens[end], '(') ? [...this.propertyList(end + 1, matchingClose(this.tokens, end), false).keys()][0] : undefined;
      return { kind: 'showTblProperties', table: this.tableName(parts), ...optional('key', key) };
    }
    if (what === 'COLUMNS') {
      const { parts, end } = inName(2);
      const { parts: schemaParts } = inName(end);
      const table = this.tableName([...schemaParts, ...parts]);
      return { kind: 'showColumns', table, tableSql: objectSql(table) };
    }
    throw databricksErrors.unsupported(`SHOW ${what}`);
  }

  // ---- MERGE ----------------------------------------------------------------------------------------

  private mergeInto(): Plan {
    let i = 1;
    if (this.word(i) === 'WITH') throw databricksErrors.unsupported('MERGE WITH SCHEMA EVOLUTION (add the columns with ALTER TABLE first)');
    if (this.word(i) !== 'INTO') throw databricksErrors.parseSyntax(`'${this.tokens[i]?.text}'`, ': expected MERGE INTO');
    const { parts, end: targetEnd } = this.readName(i + 1);
    const target = this.tableName(parts);
    const targetAliasRead = this.readAlias(targetEnd);
    i = targetAliasRead.end;
    if (this.word(i) !== 'USING') throw databricksErrors.parseSyntax(`'${this.tokens[i]?.text}'`, ': expected USING');

    let sourceSql: string;
    let sourceName: string;
    if (isOp(this.tokens[i + 1], '(')) {
      const close = matchingClose(this.tokens, i + 1);
      sourceSql = this.render(i + 1, close + 1).trimStart();
      sourceName = '';
      i = close + 1;
    } else {
      const source = this.readName(i + 1);
      const sourceTable = this.tableName(source.parts);
      sourceSql = objectSql(sourceTable);
      sourceName = sourceTable.name;
      i = source.end;
    }
    const sourceAliasRead = this.readAlias(i);
    i = sourceAliasRead.end;
    const sourceAlias = sourceAliasRead.alias ?? sourceName;
    if (sourceAlias === '') throw databricksErrors.parseSyntax("'ON'", ': a MERGE source subquery needs an alias');
    if (this.word(i) !== 'ON') throw databricksErrors.parseSyntax(`'${this.tokens[i]?.text}'`, ': expected ON');

    const whens = this.topLevelWhens(i + 1);
    if (whens.length === 0) throw databricksErrors.parseSyntax("'end of input'", ': MERGE needs at least one WHEN clause');
    const onSql = this.render(i + 1, whens[0]!);
    const clauses = whens.map((at, k) => this.mergeClause(at, whens[k + 1] ?? this.end));

    return {
      kind: 'merge',
      usesCatalogViews: this.usesCatalogViews,
      merge: {
        target,
        targetSql: objectSql(target),
        targetAlias: targetAliasRead.alias ?? target.name,
        sourceSql,
        sourceAlias,
        onSql,
        clauses,
      },
    };
  }

  /** Positions of WHEN keywords outside parentheses and CASE expressions. */
  private topLevelWhens(from: number): number[] {
    const positions: number[] = [];
    let depth = 0;
    let caseDepth = 0;
    for (let i = from; i < this.end; i += 1) {
      const t = this.tokens[i]!;
      if (isOp(t, '(')) depth += 1;
      else if (isOp(t, ')')) depth -= 1;
      else if (depth === 0 && isWord(t, 'CASE')) caseDepth += 1;
      else if (depth === 0 && isWord(t, 'END') && caseDepth > 0) caseDepth -= 1;
      else if (depth === 0 && caseDepth === 0 && isWord(t, 'WHEN')) positions.push(i);
    }
    return positions;
  }

  private mergeClause(from: number, to: number): MergeClause {
    let i = from + 1;
    let when: MergeClause['when'];
    if (this.word(i) === 'MATCHED') {
      when = 'matched';
      i += 1;
    } else if (this.word(i) === 'NOT' && this.word(i + 1) === 'MATCHED') {
      i += 2;
      when = 'notMatched';
      if (this.word(i) === 'BY') {
        when = this.word(i + 1) === 'SOURCE' ? 'notMatchedBySource' : 'notMatched';
        i += 2;
      }
    } else throw databricksErrors.parseSyntax(`'${this.tokens[i]?.text}'`, ': expected [NOT] MATCHED');

    const thenAt = this.tokens.findIndex((t, k) => k >= i && k < to && isWord(t, 'THEN'));
    if (thenAt === -1) throw databricksErrors.parseSyntax("'WHEN'", ': expected THEN');
    const conditionSql = this.word(i) === 'AND' ? this.render(i + 1, thenAt) : undefined;
    const action = this.mergeAction(thenAt + 1, to);
    if ((when === 'notMatched') !== (action.kind === 'insert' || action.kind === 'insertAll')) {
      throw databricksErrors.parseSyntax(`'${this.tokens[thenAt + 1]?.text}'`, ': this action is not allowed in this WHEN clause');
    }
    return { when, action, ...(conditionSql === undefined ? {} : { conditionSql }) };
  }

  private mergeAction(from: number, to: number): MergeAction {
    const verb = this.word(from);
    if (verb === 'DELETE') return { kind: 'delete' };
    if (verb === 'UPDATE') {
      if (this.word(from + 1) !== 'SET') throw databricksErrors.parseSyntax(`'${this.tokens[from + 1]?.text}'`, ': expected SET');
      if (isOp(this.tokens[from + 2], '*')) return { kind: 'updateAll' };
      return { kind: 'update', setSql: this.render(from + 2, to) };
    }
    if (verb === 'INSERT') {
      if (isOp(this.tokens[from + 1], '*')) return { kind: 'insertAll' };
      if (!isOp(this.tokens[from + 1], '(')) throw databricksErrors.parseSyntax(`'${this.tokens[from + 1]?.text}'`, ': expected (columns)');
      const columnsClose = matchingClose(this.tokens, from + 1);
      if (this.word(columnsClose + 1) !== 'VALUES') {
        throw databricksErrors.parseSyntax(`'${this.tokens[columnsClose + 1]?.text}'`, ': expected VALUES');
      }
      return {
        kind: 'insert',
        columnsSql: this.render(from + 1, columnsClose + 1).trim(),
        valuesSql: this.render(columnsClose + 2, to).trim(),
      };
    }
    throw databricksErrors.parseSyntax(`'${this.tokens[from]?.text}'`, ': expected UPDATE, DELETE or INSERT');
  }

  // ---- Names ----------------------------------------------------------------------------------------

  /** Reads `a.b.c` starting at `start`. */
  private readName(start: number): { parts: string[]; end: number } {
    const parts: string[] = [];
    let i = start;
    for (;;) {
      const t = this.tokens[i];
      const name = t?.kind === 'string' ? t.value : identifierName(t);
      if (name === undefined) throw databricksErrors.parseSyntax(`'${t?.text || 'end of input'}'`, ': expected a name');
      parts.push(name.toLowerCase());
      i += 1;
      if (!isOp(this.tokens[i], '.')) return { parts, end: i };
      i += 1;
    }
  }

  private plainName(at: number): string {
    const { parts } = this.readName(at);
    if (parts.length !== 1) throw databricksErrors.parseSyntax(`'${parts.join('.')}'`, ': expected a simple name');
    return parts[0]!;
  }

  /** `[[catalog.]schema.]table` */
  private tableName(parts: readonly string[]): ObjectName {
    if (parts.length === 0 || parts.length > 3) {
      throw databricksErrors.parseSyntax(`'${parts.join('.')}'`, ': expected [catalog.][schema.]table');
    }
    const [name, schema, catalog] = [...parts].reverse();
    return { name: name!, ...optional('schema', schema), ...optional('catalog', catalog) };
  }

  /** `[catalog.]schema` */
  private schemaName(parts: readonly string[]): { catalog?: string; schema: string } {
    if (parts.length === 0 || parts.length > 2) throw databricksErrors.parseSyntax(`'${parts.join('.')}'`, ': expected [catalog.]schema');
    return parts.length === 2 ? { catalog: parts[0]!, schema: parts[1]! } : { schema: parts[0]! };
  }

  private readAlias(at: number): { alias?: string; end: number } {
    if (this.word(at) === 'AS') {
      const alias = identifierName(this.tokens[at + 1]);
      if (alias === undefined) throw databricksErrors.parseSyntax(`'${this.tokens[at + 1]?.text}'`, ': expected an alias');
      return { alias, end: at + 2 };
    }
    const t = this.tokens[at];
    if (t?.kind === 'quotedIdent' || (t?.kind === 'word' && !ALIAS_STOP_WORDS.has(t.value.toUpperCase()))) {
      return { alias: t.value, end: at + 1 };
    }
    return { end: at };
  }

  private expectOnly(from: number, allowedClauses: readonly string[]): void {
    const w = this.word(from);
    if (from < this.end && !allowedClauses.includes(w)) throw databricksErrors.parseSyntax(`'${this.tokens[from]?.text}'`);
  }

  // ---- Generic rendering ----------------------------------------------------------------------------

  /** Renders tokens [from, to) as DuckDB SQL, applying every token-level rewrite. */
  render(from: number, to: number): string {
    let out = '';
    let depth = 0;
    const fromListDepths = new Set<number>();
    let previousWord = '';
    let tableNext = false;

    let i = from;
    while (i < to) {
      const t = this.tokens[i]!;
      const upper = t.kind === 'word' ? t.value.toUpperCase() : '';

      if (t.kind === 'word' || t.kind === 'quotedIdent') {
        const chainEnd = this.chainEnd(i, to);
        const inTablePosition = tableNext || TABLE_POSITION_KEYWORDS.has(previousWord);
        // Keywords first: `FROM (`, `IN (`, `VALUES (` open parentheses, not function calls.
        if (t.kind === 'word' && chainEnd === i + 1 && this.isKeywordUse(upper, i)) {
          out += t.leading + this.renderKeyword(i);
          if (upper === 'FROM') fromListDepths.add(depth);
          if (FROM_LIST_ENDS.has(upper)) fromListDepths.delete(depth);
          previousWord = upper;
          tableNext = false;
          i += 1;
          continue;
        }
        const isCall = isOp(this.tokens[chainEnd], '(') && chainEnd < to;
        if (isCall && !(inTablePosition && ['INTO', 'TABLE', 'EXISTS', 'VIEW', 'UPDATE'].includes(previousWord))) {
          const close = matchingClose(this.tokens, chainEnd);
          out += t.leading + this.renderCall(i, chainEnd, close, inTablePosition);
          i = close + 1;
          previousWord = '';
          tableNext = false;
          continue;
        }
        out += t.leading + (inTablePosition ? this.renderTableChain(i, chainEnd, to) : this.renderChain(i, chainEnd));
        i = chainEnd;
        previousWord = '';
        tableNext = false;
        continue;
      }

      if (t.kind === 'op') {
        if (t.text === '(') depth += 1;
        if (t.text === ')') {
          fromListDepths.delete(depth);
          depth -= 1;
        }
        if (t.text === ',' && fromListDepths.has(depth)) tableNext = true;
        if (t.text === '::') {
          const { type, end } = parseTypeAt(this.tokens, i + 1);
          out += `::${duckDbTypeSql(type)}`;
          i = end;
          previousWord = '';
          continue;
        }
        out += t.text === '<=>' ? ' IS NOT DISTINCT FROM ' : t.leading + t.text;
        if (t.text !== ',') tableNext = false;
        previousWord = '';
        i += 1;
        continue;
      }

      out += t.leading + this.renderAtom(t);
      previousWord = '';
      tableNext = false;
      i += 1;
    }
    return out;
  }

  /** Index after an identifier chain `a.b.c` starting at `start`. */
  private chainEnd(start: number, to: number): number {
    let i = start + 1;
    while (i + 1 < to && isOp(this.tokens[i], '.') && this.tokens[i]!.leading === '' && identifierName(this.tokens[i + 1]) !== undefined) {
      i += 2;
    }
    return i;
  }

  /** A single word that reads as a keyword here (rather than a column named like one). */
  private isKeywordUse(upper: string, i: number): boolean {
    if (upper === 'TIMESTAMP' || upper === 'TIMESTAMP_NTZ' || upper === 'TIMESTAMP_LTZ') return this.tokens[i + 1]?.kind === 'string';
    return upper !== '' && (TABLE_POSITION_KEYWORDS.has(upper) || FROM_LIST_ENDS.has(upper) || CLAUSE_KEYWORDS.has(upper));
  }

  private renderKeyword(i: number): string {
    const t = this.tokens[i]!;
    const upper = t.value.toUpperCase();
    return KEYWORD_REWRITES.get(upper) ?? t.text;
  }

  private renderAtom(t: Token): string {
    switch (t.kind) {
      case 'string':
        return quoteLiteral(t.value);
      case 'number':
        return renderNumber(t.text);
      case 'namedParam':
        return this.parameters.namedMarker(t.value);
      case 'ordinalParam': {
        const sql = this.parameters.ordinalMarker(this.ordinalIndex);
        this.ordinalIndex += 1;
        return sql;
      }
      default:
        return t.text;
    }
  }

  private renderChain(start: number, end: number): string {
    const parts = this.chainParts(start, end);
    // catalog.schema.table.column in an expression: map the catalog
    if (parts.length >= 4) return [quoteIdent(catalogAlias(parts[0]!.name)), ...parts.slice(1).map((p) => quoteIdent(p.name))].join('.');
    return parts.map((p) => p.sql).join('.');
  }

  /** A table reference: `catalog.schema.table` maps the catalog; information_schema becomes a catalog view. */
  private renderTableChain(start: number, end: number, to: number): string {
    const parts = this.chainParts(start, end);
    const names = parts.map((p) => p.name.toLowerCase());
    const view = names.at(-1) as keyof typeof CATALOG_VIEW_TABLES | undefined;
    if (names.length >= 2 && names.at(-2) === 'information_schema' && view && view in CATALOG_VIEW_TABLES) {
      this.usesCatalogViews = true;
      const catalogFilter = names.length === 3 ? quoteLiteral(names[0]!) : CURRENT_CATALOG_SQL;
      const filterColumn = view === 'schemata' ? 'catalog_name' : 'table_catalog';
      const next = this.tokens[end];
      const hasAlias =
        end < to &&
        (isWord(next, 'AS') || next?.kind === 'quotedIdent' || (next?.kind === 'word' && !ALIAS_STOP_WORDS.has(next.value.toUpperCase())));
      return `(SELECT * FROM temp.${CATALOG_VIEW_TABLES[view]} WHERE ${filterColumn} = ${catalogFilter})${hasAlias ? '' : ` AS ${view}`}`;
    }
    if (parts.length === 1) return parts[0]!.sql;
    if (parts.length === 3) return [quoteIdent(catalogAlias(names[0]!)), quoteIdent(names[1]!), quoteIdent(names[2]!)].join('.');
    return parts.map((p) => quoteIdent(p.name)).join('.');
  }

  private chainParts(start: number, end: number): Array<{ name: string; sql: string }> {
    const parts: Array<{ name: string; sql: string }> = [];
    for (let i = start; i < end; i += 2) {
      const t = this.tokens[i]!;
      parts.push({ name: t.value, sql: t.kind === 'quotedIdent' ? quoteIdent(t.value) : t.text });
    }
    return parts;
  }

  // ---- Function calls -------------------------------------------------------------------------------

  private renderCall(nameStart: number, open: number, close: number, asTable = false): string {
    const nameParts = this.chainParts(nameStart, open);
    const name = nameParts.length === 1 ? nameParts[0]!.name.toLowerCase() : '';
    const argRanges = open + 1 === close ? [] : splitTopLevel(this.tokens, open + 1, close);
    const rewrite = FUNCTION_REWRITES[name];
    // A generator as a table reference (`FROM inline(…) AS r`, the form Databricks recommends): a subquery.
    if (asTable && rewrite && TABLE_FUNCTIONS.has(name)) {
      return `(SELECT ${rewrite({ translator: this, args: argRanges, tokens: this.tokens, name })}${name === 'explode' ? ' AS col' : ''})`;
    }
    if (rewrite) return rewrite({ translator: this, args: argRanges, tokens: this.tokens, name });
    const args = argRanges.map(([a, b]) => this.render(a, b)).join(',');
    return `${nameParts.map((p) => p.sql).join('.')}(${args}${this.tokens[close]!.leading})`;
  }

  /** Rendered argument SQL (trimmed). */
  arg(range: [number, number] | undefined, functionName: string): string {
    if (!range) {
      throw new WarehouseError('WRONG_NUM_ARGS', '42605', `The \`${functionName}\` requires more parameters than were passed.`);
    }
    return this.render(range[0], range[1]).trim();
  }

  /** A string-literal argument's value (patterns, schemas). */
  literalArg(range: [number, number] | undefined, functionName: string): string {
    const t = range ? this.tokens[range[0]] : undefined;
    if (!range || t?.kind !== 'string' || range[1] !== range[0] + 1) {
      throw databricksErrors.unsupported(`a non-literal pattern or schema argument to ${functionName}()`);
    }
    return t.value;
  }

  /** `expr AS type` inside CAST( ... ). */
  castArg(range: [number, number] | undefined, functionName: string): { exprSql: string; typeSql: string } {
    const asAt = range ? findTopLevelWord(this.tokens, range, 'AS') : undefined;
    if (!range || asAt === undefined) throw databricksErrors.parseSyntax("')'", `: ${functionName} needs 'expr AS type'`);
    const { type, end } = parseTypeAt(this.tokens, asAt + 1);
    if (end !== range[1]) throw databricksErrors.parseSyntax(`'${this.tokens[end]?.text}'`, ` in ${functionName}`);
    return { exprSql: this.render(range[0], asAt).trim(), typeSql: duckDbTypeSql(type) };
  }
}

/** Keywords rewritten wherever they appear as keywords. */
const KEYWORD_REWRITES = new Map<string, string>([
  ['TIMESTAMP', 'TIMESTAMPTZ'], // TIMESTAMP '...' literal: an instant
  ['TIMESTAMP_LTZ', 'TIMESTAMPTZ'],
  ['TIMESTAMP_NTZ', 'TIMESTAMP'],
]);

function renderNumber(text: string): string {
  const suffix = /(bd|[lsydf])$/i.exec(text)?.[1]?.toUpperCase();
  if (!suffix) return text;
  const digits = text.slice(0, -suffix.length);
  const type = { L: 'BIGINT', S: 'SMALLINT', Y: 'TINYINT', D: 'DOUBLE', F: 'FLOAT', BD: '' }[suffix];
  return type ? `CAST(${digits} AS ${type})` : digits;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** DuckDB SQL for a table (or view) name; unqualified parts resolve against the session's USE. */
export function objectSql(name: ObjectName): string {
  const parts = [name.catalog === undefined ? undefined : catalogAlias(name.catalog), name.schema, name.name].filter(
    (p): p is string => p !== undefined,
  );
  if (name.catalog !== undefined && name.schema === undefined) throw databricksErrors.parseSyntax(`'${name.name}'`);
  return parts.map(quoteIdent).join('.');
}

export function schemaSql(name: { catalog?: string; schema: string }): string {
  return name.catalog === undefined ? quoteIdent(name.schema) : `${quoteIdent(catalogAlias(name.catalog))}.${quoteIdent(name.schema)}`;
}

function columnDefinitionSql(column: ColumnDefinition): string {
  return `${quoteIdent(column.name)} ${column.typeSql}${column.notNull ? ' NOT NULL' : ''}`;
}
