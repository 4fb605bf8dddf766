// The key ranges of a split backfill or full read (the entity's `split`, shared/catalog/entityDefinition.ts):
// sorted, distinct boundaries b1 < … < bk give the ranges (below b1), [b1, b2), …, [bk, above), so every key
// value falls in exactly one range whatever the boundaries are: no gap, no overlap, and a boundary value
// belongs to the range it starts. Values are compared as M3 compares them (numbers by value, alpha by code unit).
import type { EntityDefinition, EntitySplit } from '../catalog/entityDefinition.ts';
import { compareFieldValues } from '../extract/keyOrder.ts';
import type { KeyRange } from '../extract/keyRange.ts';

/** What a split needs to know about the unit's scope at plan time. */
export interface SplitContext {
  /** The run's year in the tenant's zone (yyyy). */
  currentYear: number;
  /** The company's divisions (for a split by division). */
  divisions?: readonly string[];
}

/** The boundaries a split asks for, before sorting and de-duplication. */
export function splitBoundaries(split: EntitySplit, context: SplitContext): string[] {
  switch (split.by) {
    case 'year': {
      // The last `years` years, each its own range; the first range holds every older year.
      const first = context.currentYear - split.years + 2;
      return Array.from({ length: split.years - 1 }, (_, i) => String(first + i));
    }
    case 'division':
      // The smallest division shares the first range with anything below it (the blank division, say).
      return [...(context.divisions ?? [])].sort().slice(1);
    case 'boundaries':
      return [...split.boundaries];
  }
}

/** The ranges that cover every value of `field` exactly once, from boundaries in any order. */
export function keyRangesOf(entity: EntityDefinition, field: string, boundaries: readonly string[]): KeyRange[] {
  const type = entity.fields.find((f) => f.name === field)?.type ?? 'A';
  const sorted = [...boundaries].sort((a, b) => compareFieldValues({ type }, a, b));
  const distinct = sorted.filter((b, i) => i === 0 || compareFieldValues({ type }, sorted[i - 1]!, b) !== 0);
  const lowers: (string | null)[] = [null, ...distinct];
  return lowers.map((from, i) => ({ field, from, to: distinct[i] ?? null }));
}
