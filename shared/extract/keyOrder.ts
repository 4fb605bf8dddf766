// Orders M3 key values the way the database does for paging checks: numerics by value (as exact
// decimal strings, never through Number), dates numerically, alpha by code unit.
import type { FieldDefinition } from '../catalog/entityDefinition.ts';

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/** Compares two M3 numeric strings exactly. Blank counts as 0. */
export function compareDecimalStrings(a: string, b: string): number {
  const pa = DECIMAL.exec(a.trim());
  const pb = DECIMAL.exec(b.trim());
  if (!pa || !pb) throw new Error(`not a decimal number: "${pa ? b : a}"`);
  const norm = (m: RegExpExecArray) => {
    const int = (m[2] ?? '').replace(/^0+/, '');
    const frac = (m[3] ?? '').replace(/0+$/, '');
    const zero = int === '' && frac === '';
    return { neg: m[1] === '-' && !zero, int, frac };
  };
  const x = norm(pa);
  const y = norm(pb);
  if (x.neg !== y.neg) return x.neg ? -1 : 1;
  const sign = x.neg ? -1 : 1;
  if (x.int.length !== y.int.length) return sign * (x.int.length - y.int.length);
  if (x.int !== y.int) return sign * (x.int < y.int ? -1 : 1);
  const width = Math.max(x.frac.length, y.frac.length);
  const fx = x.frac.padEnd(width, '0');
  const fy = y.frac.padEnd(width, '0');
  return fx === fy ? 0 : sign * (fx < fy ? -1 : 1);
}

export function compareFieldValues(field: Pick<FieldDefinition, 'type'>, a: string, b: string): number {
  if (field.type === 'A') return a === b ? 0 : a < b ? -1 : 1;
  return compareDecimalStrings(a === '' ? '0' : a, b === '' ? '0' : b);
}

/** Compares two records on the given key fields, in order. */
export function compareKeys(fields: readonly FieldDefinition[], a: Record<string, string>, b: Record<string, string>): number {
  for (const f of fields) {
    const c = compareFieldValues(f, a[f.name] ?? '', b[f.name] ?? '');
    if (c !== 0) return c;
  }
  return 0;
}
