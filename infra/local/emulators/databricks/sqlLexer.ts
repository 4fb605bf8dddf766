// Tokenizer for Databricks (Spark) SQL. The translator rewrites token streams, never raw text, so string
// literals, backtick identifiers and comments can never be mangled by a rewrite.
import { databricksErrors } from './errors.ts';

export type TokenKind =
  | 'word' // identifier or keyword
  | 'quotedIdent' // `back ticked`
  | 'string' // 'literal' or "literal" (Spark: double quotes delimit strings), escapes decoded
  | 'number'
  | 'namedParam' // :name
  | 'ordinalParam' // ?
  | 'op' // punctuation and operators
  | 'end';

export interface Token {
  readonly kind: TokenKind;
  /** The source text of the token. */
  readonly text: string;
  /** Decoded value: the identifier, the unescaped string, the parameter name, or `text`. */
  readonly value: string;
  /** Whitespace and comments before the token, kept so translated SQL stays readable. */
  readonly leading: string;
}

// No `<<`/`>>`: nested types such as ARRAY<ARRAY<INT>> must close one bracket per token.
const MULTI_CHAR_OPERATORS = ['<=>', '::', '<=', '>=', '<>', '!=', '==', '||', '->', '=>'];
const WORD_START = /[\p{L}_]/u;
const WORD_PART = /[\p{L}\p{N}_]/u;
const DIGIT = /[0-9]/;

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  '0': '\0',
  Z: '\u001a',
  '%': '\\%',
  _: '\\_',
};

/** Splits SQL into tokens; adjacent string literals are concatenated, as Spark does. */
export function lex(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let leadingStart = 0;

  const push = (kind: TokenKind, start: number, end: number, value?: string): void => {
    const text = sql.slice(start, end);
    tokens.push({ kind, text, value: value ?? text, leading: sql.slice(leadingStart, start) });
    leadingStart = end;
  };

  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1] ?? '';

    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw databricksErrors.parseSyntax('end of input', ': unclosed comment');
      i = end + 2;
      continue;
    }

    const start = i;
    if ((c === 'r' || c === 'R') && (next === "'" || next === '"')) {
      const end = sql.indexOf(next, i + 2);
      if (end === -1) throw databricksErrors.parseSyntax('end of input', ': unclosed string literal');
      i = end + 1;
      pushString(sql.slice(start + 2, end), start);
      continue;
    }
    if (c === "'" || c === '"') {
      const { value, end } = readEscapedString(sql, i);
      i = end;
      pushString(value, start);
      continue;
    }
    if (c === '`') {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw databricksErrors.parseSyntax('end of input', ': unclosed back-quoted identifier');
        if (sql[j] === '`') {
          if (sql[j + 1] === '`') {
            value += '`';
            j += 2;
            continue;
          }
          break;
        }
        value += sql[j];
        j += 1;
      }
      i = j + 1;
      push('quotedIdent', start, i, value);
      continue;
    }
    if (DIGIT.test(c) || (c === '.' && DIGIT.test(next))) {
      i = readNumber(sql, i);
      push('number', start, i);
      continue;
    }
    if (WORD_START.test(c)) {
      while (i < sql.length && WORD_PART.test(sql[i]!)) i += 1;
      push('word', start, i);
      continue;
    }
    if (c === '?') {
      i += 1;
      push('ordinalParam', start, i);
      continue;
    }
    if (c === ':' && next !== ':' && WORD_START.test(next) && isParameterPosition(tokens, sql.slice(leadingStart, i))) {
      i += 1;
      while (i < sql.length && WORD_PART.test(sql[i]!)) i += 1;
      push('namedParam', start, i, sql.slice(start + 1, i));
      continue;
    }
    const op = MULTI_CHAR_OPERATORS.find((o) => sql.startsWith(o, i)) ?? c;
    i += op.length;
    push('op', start, i);
  }
  tokens.push({ kind: 'end', text: '', value: '', leading: sql.slice(leadingStart) });
  return tokens;

  function pushString(value: string, start: number): void {
    const previous = tokens.at(-1);
    // Spark concatenates adjacent literals: 'a' 'b' and 'It''s' are 'ab' and 'Its'.
    if (previous?.kind === 'string' && /^\s*$/.test(sql.slice(leadingStart, start))) {
      tokens[tokens.length - 1] = { ...previous, text: previous.text + sql.slice(leadingStart, i), value: previous.value + value };
      leadingStart = i;
      return;
    }
    push('string', start, i, value);
  }
}

/**
 * `:name` is a parameter marker unless it directly follows an identifier or closing bracket without
 * whitespace (`col:field` JSON paths, `STRUCT<a:INT>` fields).
 */
function isParameterPosition(tokens: readonly Token[], gap: string): boolean {
  const previous = tokens.at(-1);
  if (!previous || gap.length > 0) return true;
  if (previous.kind === 'word' || previous.kind === 'quotedIdent') return false;
  return !(previous.kind === 'op' && (previous.text === ')' || previous.text === ']'));
}

function readEscapedString(sql: string, start: number): { value: string; end: number } {
  const quote = sql[start]!;
  let value = '';
  let j = start + 1;
  while (j < sql.length) {
    const ch = sql[j]!;
    if (ch === quote) return { value, end: j + 1 };
    if (ch !== '\\') {
      value += ch;
      j += 1;
      continue;
    }
    const escaped = sql[j + 1] ?? '';
    if (escaped === 'u' && /^[0-9a-fA-F]{4}$/.test(sql.slice(j + 2, j + 6))) {
      value += String.fromCharCode(parseInt(sql.slice(j + 2, j + 6), 16));
      j += 6;
    } else if (/^[0-7]{3}$/.test(sql.slice(j + 1, j + 4))) {
      value += String.fromCharCode(parseInt(sql.slice(j + 1, j + 4), 8));
      j += 4;
    } else {
      value += SIMPLE_ESCAPES[escaped] ?? escaped;
      j += 2;
    }
  }
  throw databricksErrors.parseSyntax('end of input', ': unclosed string literal');
}

function readNumber(sql: string, start: number): number {
  let i = start;
  while (DIGIT.test(sql[i] ?? '')) i += 1;
  if (sql[i] === '.') {
    i += 1;
    while (DIGIT.test(sql[i] ?? '')) i += 1;
  }
  if (/[eE]/.test(sql[i] ?? '') && /[0-9+-]/.test(sql[i + 1] ?? '')) {
    i += 2;
    while (DIGIT.test(sql[i] ?? '')) i += 1;
  }
  const suffix = /^(bd|[lsydf])(?![\p{L}\p{N}_])/iu.exec(sql.slice(i));
  return suffix ? i + suffix[0].length : i;
}

export const isWord = (token: Token | undefined, ...words: string[]): boolean =>
  token?.kind === 'word' && words.some((w) => w.toUpperCase() === token.value.toUpperCase());

export const isOp = (token: Token | undefined, ...ops: string[]): boolean => token?.kind === 'op' && ops.includes(token.text);

/** An identifier token (plain word or back-quoted), as its name. */
export const identifierName = (token: Token | undefined): string | undefined =>
  token?.kind === 'word' || token?.kind === 'quotedIdent' ? token.value : undefined;

/** Index of the bracket closing the one at `open` (`(`, `<` or `[`). */
export function matchingClose(tokens: readonly Token[], open: number): number {
  const opener = tokens[open]?.text;
  const closer = opener === '(' ? ')' : opener === '<' ? '>' : ']';
  let depth = 0;
  for (let i = open; i < tokens.length; i += 1) {
    const t = tokens[i]!;
    if (t.kind !== 'op') continue;
    if (t.text === opener) depth += 1;
    else if (t.text === closer) {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  throw databricksErrors.parseSyntax('end of input', `: missing '${closer}'`);
}

/**
 * Splits tokens [from, to) at top-level commas. With `angleBrackets` (type syntax), `<…>` outside parentheses
 * nest too, so `STRUCT<a: DECIMAL(10,2), b: INT>` stays whole while `CHECK (a < b)` does not confuse it.
 */
export function splitTopLevel(tokens: readonly Token[], from: number, to: number, angleBrackets = false): Array<[number, number]> {
  const parts: Array<[number, number]> = [];
  let depth = 0;
  let angleDepth = 0;
  let partStart = from;
  for (let i = from; i < to; i += 1) {
    const t = tokens[i]!;
    if (t.kind !== 'op') continue;
    if (t.text === '(' || t.text === '[') depth += 1;
    else if (t.text === ')' || t.text === ']') depth -= 1;
    else if (angleBrackets && depth === 0 && t.text === '<') angleDepth += 1;
    else if (angleBrackets && depth === 0 && t.text === '>') angleDepth -= 1;
    else if (t.text === ',' && depth === 0 && angleDepth === 0) {
      parts.push([partStart, i]);
      partStart = i + 1;
    }
  }
  parts.push([partStart, to]);
  return parts;
}

/** Index of `word` outside parentheses within [from, to). */
export function findTopLevelWord(tokens: readonly Token[], [from, to]: [number, number], word: string): number | undefined {
  let depth = 0;
  for (let i = from; i < to; i += 1) {
    const t = tokens[i]!;
    if (isOp(t, '(')) depth += 1;
    else if (isOp(t, ')')) depth -= 1;
    else if (depth === 0 && isWord(t, word)) return i;
  }
  return undefined;
}
