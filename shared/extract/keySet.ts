// The key sweep's read of an incremental entity: the same EXPORTMI table, the same key-cursor pager, but only
// the key columns (one narrow column group), staged as a complete key set. Nothing else is read: no amounts,
// no change stamps (a key set moves no watermark and is never merged as content; the load only compares keys).
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import { displayWidth } from './exportMi/replFormat.ts';

/** M3 stops list answers at 10,000 records whatever maxrecs says (CMS100MI, XtendM3): no key page asks for more. */
export const KEY_SET_MAX_PAGE_SIZE = 10_000;

/** Characters of one row's REPL for these fields (with separators). */
function replWidth(fields: EntityDefinition['fields']): number {
  return fields.reduce((w, f) => w + displayWidth(f) + 1, 0);
}

/**
 * The entity reduced to its key fields. Its pages carry about as many characters as a full read's pages (the
 * page size grows by the ratio of a full row's width to a key's, up to KEY_SET_MAX_PAGE_SIZE), so a page of
 * keys asks no more of the gateway than a page of records, and a sweep needs far fewer calls than a complete
 * read; a page the gateway answers too slowly halves like any EXPORTMI page (down to the entity's minPageSize).
 */
export function keySetEntity(entity: EntityDefinition): EntityDefinition {
  if (entity.source.kind !== 'exportmi' || entity.fields.length === 0) {
    throw new Error(`entity ${entity.id}: a key sweep reads an EXPORTMI table with fields resolved against the tenant`);
  }
  const keyFields = entity.key.map((name) => {
    const field = entity.fields.find((f) => f.name === name);
    if (!field) throw new Error(`entity ${entity.id}: key field ${name} is not among its fields`);
    return field;
  });
  const widthRatio = Math.max(1, Math.floor(replWidth(entity.fields) / replWidth(keyFields)));
  const pageSize = Math.min(KEY_SET_MAX_PAGE_SIZE, Math.max(entity.pageSize, entity.pageSize * widthRatio));
  const { controlPeriodField: _period, ...rest } = entity;
  return { ...rest, fields: keyFields, changeFields: {}, pageSize };
}
