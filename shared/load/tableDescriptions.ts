// What the two tables of an entity say about themselves in the warehouse: a comment on every column
// (tableColumns.ts) and on each table, naming its M3 source, key and strategy. A load compares the column
// comments with what DESCRIBE shows and the table comment with a fingerprint kept as a table property, and
// sets only what changed (never rewriting data).
import { createHash } from 'node:crypto';
import type { EntityDefinition } from '../catalog/entityDefinition.ts';

export const TABLE_COMMENT_PROPERTY = 'cloudsuite_sync.table_comment';

/** The business-named view of a current table (businessView.ts). */
export const VIEW_SUFFIX = '_v';

function m3Source(entity: EntityDefinition): string {
  return entity.source.kind === 'exportmi'
    ? `table ${entity.source.table} (columns ${entity.source.prefix}…) through EXPORTMI`
    : `${entity.source.program}/${entity.source.transaction}`;
}

function strategy(entity: EntityDefinition): string {
  return entity.strategy === 'incremental'
    ? `incremental: records changed since the last sync (change date ${entity.changeFields.date})`
    : 'snapshot: every record read on every sync, changes found by content';
}

/** The comment of the current table (suffix '') or its history. */
export function tableComment(entity: EntityDefinition, tableName: string, suffix: string): string {
  const what = entity.description.trim() || `Entity ${entity.id}`;
  const source = `From M3 ${m3Source(entity)}; key ${entity.key.join(', ')}; ${strategy(entity)}.`;
  const shape = suffix
    ? 'History: one row per distinct version of each record, never updated.'
    : `Current state: one row per key; live rows have _deleted_at NULL. Business-named view: ${tableName}${VIEW_SUFFIX}.`;
  return `${what}. ${shape} ${source}`.replace(/\.\./g, '.').replace(/[\u0000-\u001f]/g, ' ');
}

/** Changes whenever the table comment would change. */
export function tableCommentFingerprint(entity: EntityDefinition, tableName: string, suffix: string): string {
  return createHash('sha256').update(tableComment(entity, tableName, suffix)).digest('hex').slice(0, 16);
}
