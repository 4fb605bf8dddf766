// A sub-unit's share of a table: one key field from a lower bound (inclusive) to an upper bound (exclusive),
// either bound open. Plan cuts a scope into such ranges (shared/pipeline/keyRanges.ts); the EXPORTMI pager asks
// for them as conditions and checks every row against them, keeping only its own rows (a tenant that ignores a
// condition returns rows of other ranges: those belong to sibling sub-units, which read them themselves).
import { compareFieldValues } from './keyOrder.ts';

export interface KeyRange {
  field: string;
  /** Inclusive lower bound; null: none. */
  from: string | null;
  /** Exclusive upper bound; null: none. */
  to: string | null;
}

/** Whether a value lies in a range, compared as M3 compares it (numbers by value, alpha by code unit). */
export function inKeyRange(range: KeyRange, type: 'A' | 'N' | 'D', value: string): boolean {
  if (range.from !== null && compareFieldValues({ type }, value, range.from) < 0) return false;
  if (range.to !== null && compareFieldValues({ type }, value, range.to) >= 0) return false;
  return true;
}

/** How a range reads in messages, e.g. "YEA4 in [2021, 2022)" or "DIVI below AAA". */
export function describeKeyRange(range: KeyRange): string {
  if (range.from === null && range.to === null) return `every ${range.field}`;
  if (range.from === null) return `${range.field} below ${range.to}`;
  if (range.to === null) return `${range.field} from ${range.from}`;
  return `${range.field} in [${range.from}, ${range.to})`;
}
