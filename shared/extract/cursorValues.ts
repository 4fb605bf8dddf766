// The values a pager sends back to M3 on its next call (an MI list's start key, EXPORTMI's key-cursor
// conditions) come from the last record of the page just read. Each must fit its field's length in M3's
// metadata: M3 cannot hold a longer value, so a longer one was not sent by M3 (a gateway or proxy altering
// answers), and sent back it would grow every next URL or query (a 100 MB value became the next page's start
// key, found by the hardening review). The page is refused before any of it is staged.
import type { FieldDefinition } from '../catalog/entityDefinition.ts';
import { ExtractionError } from './extractErrors.ts';

/** A key value longer than its field: the answer is not M3's. */
export class KeyValueTooLongError extends ExtractionError {
  override name = 'KeyValueTooLongError';
}

/** Characters a value of the field may have: its length, plus a sign and a decimal point for numbers. */
function maxCharacters(field: FieldDefinition): number {
  return field.type === 'N' ? field.length + 2 : field.length;
}

/** Throws KeyValueTooLongError unless every value fits its field; `where` names the call and unit. */
export function assertCursorValuesFit(where: string, fields: readonly FieldDefinition[], values: Readonly<Record<string, string>>): void {
  for (const field of fields) {
    const value = values[field.name] ?? '';
    if (value.length <= maxCharacters(field)) continue;
    throw new KeyValueTooLongError(
      `${where}: key field ${field.name} of the page's last record holds ${value.length} characters (starting ` +
        `${JSON.stringify(value.slice(0, 20))}), more than its length ${field.type}${field.length} in M3's metadata; it would be sent back ` +
        "as the next call's start key, so nothing of this page was staged. M3 does not store such a value: look for a gateway or proxy " +
        "altering answers, or correct the entity's field length (`cloudsuite-sync describe` prints M3's)",
    );
  }
}
