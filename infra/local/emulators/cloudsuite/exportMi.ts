// EXPORTMI/Select: the documented query subset (parser), its execution over one table of the session
// company, and the REPL output (separated or fixed-width, cut at 984 characters like M3).
import { hash32 } from './prng.ts';
import { isKeyableValue, keySegment, valueOf, type Partition } from './store.ts';
import { TABLES, displayWidth, tableDef, type FieldDef, type TableDef } from './tables.ts';
import { tenantValue, type TenantTables } from './tenantTables.ts';
import type { Knobs, M3Row } from './types.ts';
import { canonicalNumber, compareByType, rightTrim } from './values.ts';

/** M3 answers EXPORTMI rows in one REPL field of at most this many characters. */
export const REPL_LENGTH = 984;

export type Operator = '=' | '<>' | '<' | '<=' | '>' | '>=';

export interface Condition {
  readonly field: FieldDef;
  readonly column: string;
  readonly op: Operator;
  /** The literal as compared: canonical number for N/D fields, right-trimmed text for alpha. */
  readonly value: string;
}

export interface ExportQuery {
  readonly table: TableDef;
  /** Selected columns with their prefixed names (IDSUNO). */
  readonly columns: readonly { readonly name: string; readonly field: FieldDef }[];
  readonly conditions: readonly Condition[];
}

/** A query outside the supported subset or naming something that does not exist. */
export class QueryError extends Error {
  override name = 'QueryError';
}

// --- tokenizer --------------------------------------------------------------------------------------

type TokenKind = 'ident' | 'number' | 'string' | 'op' | 'comma' | 'star' | 'lparen' | 'rparen' | 'end';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly pos: number;
}

const OPERATORS: readonly string[] = ['<=', '>=', '<>', '=', '<', '>'];

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const previous = tokens[tokens.length - 1];
    const signed = (c === '-' || c === '+') && /\d/.test(query[i + 1] ?? '') && previous?.kind === 'op';
    if (/\d/.test(c) || signed) {
      const m = /^[+-]?\d+(\.\d+)?/.exec(query.slice(i)) as RegExpExecArray;
      if (/^[A-Za-z_]/.test(query[i + m[0].length] ?? '')) throw new QueryError(`unexpected text at position ${i + 1}: "${query.slice(i, i + 12)}"`);
      tokens.push({ kind: 'number', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(query.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'ident', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    if (c === "'") {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= query.length) throw new QueryError(`unterminated string starting at position ${i + 1}`);
        if (query[j] === "'") {
          if (query[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          break;
        }
        text += query[j];
        j++;
      }
      tokens.push({ kind: 'string', text, pos: i });
      i = j + 1;
      continue;
    }
    const op = OPERATORS.find((o) => query.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', text: op, pos: i });
      i += op.length;
      continue;
    }
    if (c === '!' && query[i + 1] === '=') throw new QueryError('operator != is not supported; use <>');
    const single: Record<string, TokenKind> = { ',': 'comma', '*': 'star', '(': 'lparen', ')': 'rparen' };
    const kind = single[c];
    if (!kind) throw new QueryError(`unexpected character "${c}" at position ${i + 1}`);
    tokens.push({ kind, text: c, pos: i });
    i++;
  }
  tokens.push({ kind: 'end', text: '', pos: query.length });
  return tokens;
}

// --- parser -----------------------------------------------------------------------------------------

const UNSUPPORTED_KEYWORDS: Record<string, string> = {
  OR: 'OR is not supported: conditions can only be joined with AND',
  NOT: 'NOT is not supported',
  LIKE: 'LIKE is not supported',
  IN: 'IN is not supported',
  BETWEEN: 'BETWEEN is not supported; use two conditions joined with AND',
  IS: 'IS NULL is not supported',
  ORDER: 'ORDER BY is not supported: rows come in primary-key order',
  GROUP: 'GROUP BY is not supported',
  HAVING: 'HAVING is not supported',
  JOIN: 'joins are not supported: EXPORTMI reads one table',
  INNER: 'joins are not supported: EXPORTMI reads one table',
  LEFT: 'joins are not supported: EXPORTMI reads one table',
  UNION: 'UNION is not supported',
  DISTINCT: 'DISTINCT is not supported',
  TOP: 'TOP is not supported; use maxrecs',
  LIMIT: 'LIMIT is not supported; use maxrecs',
  FETCH: 'FETCH is not supported; use maxrecs',
};

class Parser {
  private at = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.at] as Token;
  }

  private advance(): Token {
    return this.tokens[this.at++] as Token;
  }

  private isKeyword(token: Token, word: string): boolean {
    return token.kind === 'ident' && token.text.toUpperCase() === word;
  }

  private rejectUnsupported(token: Token): void {
    if (token.kind === 'lparen') throw new QueryError(`parentheses and functions are not supported (position ${token.pos + 1})`);
    if (token.kind === 'ident') {
      const reason = UNSUPPORTED_KEYWORDS[token.text.toUpperCase()];
      if (reason) throw new QueryError(reason);
    }
  }

  parse(): { columns: Token[] | 'all'; table: Token; conditions: { column: Token; op: Token; literal: Token }[] } {
    const first = this.peek();
    if (this.isKeyword(first, 'SELECT')) throw new QueryError('QERY starts with the column list: EXPORTMI adds SELECT itself');
    let columns: Token[] | 'all';
    if (first.kind === 'star') {
      this.advance();
      columns = 'all';
    } else {
      columns = [this.column()];
      while (this.peek().kind === 'comma') {
        this.advance();
        columns.push(this.column());
      }
    }
    const from = this.advance();
    if (!this.isKeyword(from, 'FROM')) {
      this.rejectUnsupported(from);
      throw new QueryError(from.kind === 'end' ? 'FROM <table> is missing' : `expected FROM at position ${from.pos + 1}, found "${from.text}"`);
    }
    const table = this.advance();
    if (table.kind !== 'ident') throw new QueryError('a table name must follow FROM');
    const conditions: { column: Token; op: Token; literal: Token }[] = [];
    let next = this.advance();
    if (next.kind === 'comma') throw new QueryError('joins are not supported: EXPORTMI reads one table');
    if (this.isKeyword(next, 'WHERE')) {
      conditions.push(this.condition());
      next = this.advance();
      while (this.isKeyword(next, 'AND')) {
        conditions.push(this.condition());
        next = this.advance();
      }
    }
    if (next.kind !== 'end') {
      this.rejectUnsupported(next);
      throw new QueryError(`unexpected "${next.text}" at position ${next.pos + 1}`);
    }
    return { columns, table, conditions };
  }

  private column(): Token {
    const token = this.advance();
    this.rejectUnsupported(token);
    if (token.kind === 'star') throw new QueryError('* cannot be combined with named columns');
    if (token.kind !== 'ident') throw new QueryError(`expected a column name at position ${token.pos + 1}, found "${token.text}"`);
    if (this.peek().kind === 'lparen') throw new QueryError(`functions are not supported (${token.text}(...))`);
    return token;
  }

  private condition(): { column: Token; op: Token; literal: Token } {
    const column = this.column();
    const op = this.advance();
    if (op.kind !== 'op') {
      this.rejectUnsupported(op);
      throw new QueryError(`expected a comparison operator (= <> < <= > >=) after ${column.text}, found "${op.text}"`);
    }
    const literal = this.advance();
    if (literal.kind === 'ident') throw new QueryError(`${column.text} ${op.text} ${literal.text}: compare with a number or a 'quoted' string, not a column`);
    if (literal.kind !== 'number' && literal.kind !== 'string') {
      this.rejectUnsupported(literal);
      throw new QueryError(`expected a number or a 'quoted' string after ${column.text} ${op.text}`);
    }
    return { column, op, literal };
  }
}

function resolveColumn(table: TableDef, name: string): FieldDef {
  const upper = name.toUpperCase();
  const field = upper.startsWith(table.prefix) && upper.length === 6 ? table.field.get(upper.slice(2)) : undefined;
  if (!field) throw new QueryError(`field ${upper} does not exist in table ${table.name} (columns are ${table.prefix} + field, e.g. ${table.prefix}${table.key[1] ?? 'CONO'})`);
  return field;
}

/** Every emulated table as the emulator defines it (no tenant differences). */
const FULL_TABLES: Pick<TenantTables, 'table'> = { table: (name) => TABLES.get(name.toUpperCase()) };

/** Parses the supported EXPORTMI query subset over the tenant's tables; see README.md for the grammar. */
export function parseExportQuery(query: string, tables: Pick<TenantTables, 'table'> = FULL_TABLES): ExportQuery {
  if (query.trim() === '') throw new QueryError('the query is empty');
  const parsed = new Parser(tokenize(query)).parse();
  const table = tables.table(parsed.table.text);
  if (!table) throw new QueryError(`table ${parsed.table.text.toUpperCase()} does not exist`);
  const columns =
    parsed.columns === 'all'
      ? table.fields.map((field) => ({ name: table.prefix + field.name, field }))
      : parsed.columns.map((token) => {
          const field = resolveColumn(table, token.text);
          return { name: table.prefix + field.name, field };
        });
  const conditions = parsed.conditions.map(({ column, op, literal }): Condition => {
    const field = resolveColumn(table, column.text);
    const name = table.prefix + field.name;
    if (field.name === 'CONO') throw new QueryError(`conditions on the company (${name}) are not supported: the session company (cono) applies`);
    let value: string;
    if (field.type === 'A') {
      if (literal.kind !== 'string') throw new QueryError(`${name} is alphanumeric: compare it with a 'quoted' string`);
      value = rightTrim(literal.text);
    } else {
      const numeric = canonicalNumber(literal.text);
      if (numeric === null) throw new QueryError(`${name} is numeric: '${literal.text}' is not a number`);
      value = numeric;
    }
    return { field, column: name, op: op.text as Operator, value };
  });
  return { table, columns, conditions };
}

// --- execution --------------------------------------------------------------------------------------

function matches(row: M3Row, condition: Condition): boolean {
  const c = compareByType(condition.field.type, valueOf(row, condition.field), condition.value);
  switch (condition.op) {
    case '=':
      return c === 0;
    case '<>':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

/**
 * Where to start and stop scanning in key order: equality conditions on the leading key fields fix a
 * prefix, a lower bound on the next key field positions the start (every row is still checked).
 */
function scanRange(table: TableDef, conditions: readonly Condition[]): { prefix: string; start: string | null } {
  // Storage is keyed on the full table's key fields, whatever the tenant's view of them.
  const stored = tableDef(table.name);
  let prefix = '';
  for (const keyName of stored.key.slice(1)) {
    const field = stored.field.get(keyName) as FieldDef;
    const own = conditions.filter((c) => c.field.name === field.name && isKeyableValue(field, c.value));
    const equal = own.find((c) => c.op === '=');
    if (equal) {
      prefix += keySegment(field, equal.value);
      continue;
    }
    const lower = own.filter((c) => c.op === '>' || c.op === '>=').sort((a, b) => compareByType(field.type, b.value, a.value))[0];
    return { prefix, start: lower ? prefix + keySegment(field, lower.value) : null };
  }
  return { prefix, start: null };
}

export interface ExportScope {
  readonly partition: Partition;
  /** The session division: '' is the blank, company-level division. */
  readonly division: string;
  readonly knobs: Knobs;
  readonly limit: number;
  readonly seed: number;
}

/** Whether a query's DIVI conditions apply in this session (see the exportDivisionFilter knob). */
export function divisionConditionsHonoured(knobs: Knobs, division: string): boolean {
  switch (knobs.exportDivisionFilter) {
    case 'always':
      return true;
    case 'ignored':
      return false;
    case 'blank-session-only':
      return division === '';
  }
}

/** The rows a query selects, in the order the knob prescribes, at most `limit`. */
export function selectRows(query: ExportQuery, scope: ExportScope): M3Row[] {
  const honourDivision = divisionConditionsHonoured(scope.knobs, scope.division);
  const conditions = query.conditions.filter((c) => c.field.name !== 'DIVI' || honourDivision);
  const accept = (row: M3Row) => conditions.every((c) => matches(row, c));
  const out: M3Row[] = [];
  if (scope.limit <= 0) return out;
  if (scope.knobs.exportRowOrder === 'primary-key') {
    const { prefix, start } = scanRange(query.table, conditions);
    for (const row of scope.partition.scan(prefix, start)) {
      if (!accept(row)) continue;
      out.push(row);
      if (out.length >= scope.limit) break;
    }
    return out;
  }
  // 'unordered': a stable pseudo-random order (the same on every call), as a heap table might give.
  const keyed: { rank: number; row: M3Row }[] = [];
  const keys = scope.partition.keys();
  const rows = scope.partition.rows();
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as M3Row;
    if (accept(row)) keyed.push({ rank: hash32(`${scope.seed}|${keys[i]}`), row });
  }
  keyed.sort((a, b) => a.rank - b.rank);
  for (const { row } of keyed.slice(0, scope.limit)) out.push(row);
  return out;
}

// --- REPL output ------------------------------------------------------------------------------------

/** Separators after which M3 also prefixes each value with its column name and a blank. */
const NAMED_SEPARATORS = new Set(['*', '#']);

function cut(repl: string): string {
  return repl.length > REPL_LENGTH ? repl.slice(0, REPL_LENGTH) : repl;
}

/**
 * One row as REPL: with a separator, values (alpha right-trimmed) joined by it; without, each value
 * padded to its display width (alpha left-aligned, numerics and dates right-aligned) with nothing
 * between. Cut at 984 characters: clients must choose column groups that fit.
 */
export function formatRepl(query: ExportQuery, row: M3Row, separator: string): string {
  if (separator !== '') {
    const named = NAMED_SEPARATORS.has(separator);
    return cut(
      query.columns
        .map(({ name, field }) => {
          const value = tenantValue(field, valueOf(row, field));
          const text = field.type === 'A' ? rightTrim(value) : value;
          return named ? `${name} ${text}` : text;
        })
        .join(separator),
    );
  }
  let repl = '';
  for (const { field } of query.columns) {
    const value = tenantValue(field, valueOf(row, field));
    repl += field.type === 'A' ? value.padEnd(field.length, ' ') : value.padStart(displayWidth(field), ' ');
    if (repl.length > REPL_LENGTH) break;
  }
  return cut(repl);
}

/** The header record (HDRS=1): column names, separated or padded to the column widths (never cut short). */
export function formatHeader(query: ExportQuery, separator: string): string {
  if (separator !== '') {
    const named = NAMED_SEPARATORS.has(separator);
    return cut(query.columns.map(({ name }) => (named ? `${name} ${name}` : name)).join(separator));
  }
  return cut(query.columns.map(({ name, field }) => name.padEnd(displayWidth(field), ' ')).join(''));
}
