// EXPORTMI answers one REPL string per row (at most 984 characters). This module sizes column groups
// to fit and splits REPL back into fields, by separator or by fixed widths.
import type { FieldDefinition } from '../../catalog/entityDefinition.ts';

export const MAX_REPL_CHARS = 984;

/**
 * Separators tried in turn, rarest in business text first; data may contain any of them, which the
 * field-count check detects (the page is then re-read with the next one, finally fixed-width).
 */
export const DEFAULT_SEPARATORS: readonly string[] = ['¤', '§', '¦', '~', '^', '|'];

/** The widest a value of the field can print: alpha its length; numerics with sign and decimal point. */
export function displayWidth(field: FieldDefinition): number {
  if (field.type === 'D') return 8;
  if (field.type === 'A') return field.length;
  return field.length + (field.decimals > 0 ? 1 : 0) + 1;
}

/**
 * Splits the wanted fields into groups whose REPL fits in 984 characters (with one separator between
 * values); each group carries the `always` fields (key and change counter) so groups can be joined
 * and checked against each other.
 */
export function planColumnGroups(fields: readonly FieldDefinition[], always: readonly FieldDefinition[]): FieldDefinition[][] {
  const fixed = always.reduce((w, f) => w + displayWidth(f) + 1, 0);
  if (fixed > MAX_REPL_CHARS) throw new Error(`key and change fields alone need ${fixed} characters, more than EXPORTMI's ${MAX_REPL_CHARS}`);
  const alwaysNames = new Set(always.map((f) => f.name));
  const groups: FieldDefinition[][] = [];
  let current = [...always];
  let width = fixed;
  for (const field of fields) {
    if (alwaysNames.has(field.name)) continue;
    const w = displayWidth(field) + 1;
    if (width + w > MAX_REPL_CHARS + 1 && current.length > always.length) {
      groups.push(current);
      current = [...always];
      width = fixed;
    }
    if (width + w > MAX_REPL_CHARS + 1) throw new Error(`field ${field.name} is too wide to read through EXPORTMI`);
    current.push(field);
    width += w;
  }
  groups.push(current);
  return groups;
}

/** Parses a REPL produced with a separator; undefined when the field count is wrong (the data held the separator). */
export function splitBySeparator(repl: string, separator: string, columns: readonly FieldDefinition[]): string[] | undefined {
  const parts = repl.split(separator);
  if (parts.length !== columns.length) return undefined;
  return parts.map((v, i) => normalize(columns[i]!, v));
}

/** Parses fixed-width output (SEPC blank): each value padded to its display width. */
export function splitFixedWidth(repl: string, columns: readonly FieldDefinition[]): string[] | undefined {
  const total = columns.reduce((w, c) => w + displayWidth(c), 0);
  if (repl.length > total) return undefined;
  const padded = repl.padEnd(total, ' ');
  const values: string[] = [];
  let at = 0;
  for (const c of columns) {
    const w = displayWidth(c);
    values.push(normalize(c, padded.slice(at, at + w)));
    at += w;
  }
  return values;
}

function normalize(field: FieldDefinition, value: string): string {
  return field.type === 'A' ? value.trimEnd() : value.trim();
}
