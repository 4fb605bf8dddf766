// M3 value semantics in one place: how MI writes numbers, dates and alpha values as strings, how M3
// compares them, and the yyyymmdd calendar arithmetic the data generator and the clock share.

export type FieldType = 'A' | 'N' | 'D';

/** The blank character M3 pads alpha fields with; only it is trimmed (never tabs or other whitespace). */
const TRAILING_BLANKS = / +$/;

export function rightTrim(value: string): string {
  return value.replace(TRAILING_BLANKS, '');
}

/**
 * Formats a scaled integer (the value times 10^decimals) the way MI does: no leading zeros, '.' as
 * decimal point, minus sign first, no trailing decimal zeros, '0' for zero.
 */
export function formatScaled(scaled: bigint | number, decimals: number): string {
  let n = typeof scaled === 'bigint' ? scaled : BigInt(Math.round(scaled));
  const negative = n < 0n;
  if (negative) n = -n;
  let digits = n.toString();
  if (decimals > 0) {
    digits = digits.padStart(decimals + 1, '0');
    const intPart = digits.slice(0, digits.length - decimals);
    const frac = digits.slice(digits.length - decimals).replace(/0+$/, '');
    digits = frac ? `${intPart}.${frac}` : intPart;
  }
  if (digits === '0') return '0';
  return negative ? `-${digits}` : digits;
}

const NUMERIC = /^([+-]?)(\d*)(?:\.(\d*))?$/;

interface ParsedNumber {
  negative: boolean;
  intDigits: string;
  fracDigits: string;
}

function parseNumeric(text: string): ParsedNumber | null {
  const match = NUMERIC.exec(text.trim());
  if (!match) return null;
  const intDigits = (match[2] ?? '').replace(/^0+/, '');
  const fracDigits = (match[3] ?? '').replace(/0+$/, '');
  if (match[2] === '' && (match[3] === undefined || match[3] === '')) return null;
  const zero = intDigits === '' && fracDigits === '';
  return { negative: match[1] === '-' && !zero, intDigits, fracDigits };
}

/** Canonical MI form of a numeric text ('007.50' → '7.5', '-0' → '0'), or null when not a number. */
export function canonicalNumber(text: string): string | null {
  const parsed = parseNumeric(text);
  if (!parsed) return null;
  const body = `${parsed.intDigits || '0'}${parsed.fracDigits ? `.${parsed.fracDigits}` : ''}`;
  return parsed.negative ? `-${body}` : body;
}

/** Whether a numeric text fits a field of `length` total digits with `decimals` decimals. */
export function fitsNumericField(text: string, length: number, decimals: number): boolean {
  const parsed = parseNumeric(text);
  if (!parsed) return false;
  return parsed.fracDigits.length <= decimals && parsed.intDigits.length <= length - decimals;
}

/** Numeric comparison of MI numeric strings of any size ('' counts as 0, as the database stores it). */
export function compareNumeric(a: string, b: string): number {
  const pa = parseNumeric(a === '' ? '0' : a);
  const pb = parseNumeric(b === '' ? '0' : b);
  if (!pa || !pb) throw new Error(`not numeric: "${a}" / "${b}"`);
  const scale = Math.max(pa.fracDigits.length, pb.fracDigits.length);
  const va = BigInt(`${pa.intDigits || '0'}${pa.fracDigits.padEnd(scale, '0')}`) * (pa.negative ? -1n : 1n);
  const vb = BigInt(`${pb.intDigits || '0'}${pb.fracDigits.padEnd(scale, '0')}`) * (pb.negative ? -1n : 1n);
  return va < vb ? -1 : va > vb ? 1 : 0;
}

/** Alpha comparison as the database does it on CHAR columns: trailing blanks ignored, code-unit order. */
export function compareAlpha(a: string, b: string): number {
  const ta = rightTrim(a);
  const tb = rightTrim(b);
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

export function compareByType(type: FieldType, a: string, b: string): number {
  return type === 'A' ? compareAlpha(a, b) : compareNumeric(a, b);
}

// --- calendar -------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;

export function isValidDate(yyyymmdd: string): boolean {
  if (!/^\d{8}$/.test(yyyymmdd)) return false;
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** Days since 1970-01-01 for a yyyymmdd date. */
export function dayNumber(yyyymmdd: string): number {
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  return Math.round(Date.UTC(y, m - 1, d) / DAY_MS);
}

export function fromDayNumber(day: number): string {
  const date = new Date(day * DAY_MS);
  const y = String(date.getUTCFullYear()).padStart(4, '0');
  const m = String(date.getUTCMonth() + 1).padStart(2, '0');
  const d = String(date.getUTCDate()).padStart(2, '0');
  return `${y}${m}${d}`;
}

export function addDays(yyyymmdd: string, days: number): string {
  return fromDayNumber(dayNumber(yyyymmdd) + days);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(yyyymmdd: string): number {
  return (dayNumber(yyyymmdd) + 4) % 7;
}
