// The working table of one load: the staged rows of its units, then the source of its MERGEs. Each load has its
// own, named after the load (the execution and target table, stable across the load's continuations), so no two
// writers share one: a CLI load or a local sync against the same warehouse cannot replace the working table
// under a deployed load. It carries who it belongs to and when its load last worked on it; a later load of the
// same table drops working tables whose load is evidently over (no heartbeat for an hour: a Load invocation lasts
// at most 15 minutes and renews it on every invocation), and a load that fails drops its own.
import { createHash } from 'node:crypto';
import type { TargetTable } from './loadTypes.ts';

export const WORKING_TABLE_MARK = '__ld';
/** Unity Catalog names are at most 255 characters. */
const MAX_NAME = 255;
const HASH_CHARS = 7;

export const PROPERTY_WORKING_TABLE_OF = 'cloudsuite_sync.working_table_of';
export const PROPERTY_LOAD_ID = 'cloudsuite_sync.load_id';
export const PROPERTY_HEARTBEAT = 'cloudsuite_sync.heartbeat';

/** No heartbeat for this long: the load that made the working table is over (failed or killed). */
export const STALE_WORKING_TABLE_MS = 60 * 60 * 1000;

/** The table's name before the working-table mark (cut so that the whole name stays within 255 characters). */
function baseName(table: TargetTable): string {
  return table.name.slice(0, MAX_NAME - WORKING_TABLE_MARK.length - HASH_CHARS);
}

/** `<table>__ld<7 characters of the load id's hash>` in the target's catalog and schema. */
export function workingTableOf(table: TargetTable, loadId: string): TargetTable {
  const hash = BigInt(`0x${createHash('sha256').update(`${table.catalog}.${table.schema}.${table.name}|${loadId}`).digest('hex').slice(0, 12)}`)
    .toString(36)
    .padStart(HASH_CHARS, '0')
    .slice(-HASH_CHARS);
  return { ...table, name: `${baseName(table)}${WORKING_TABLE_MARK}${hash}` };
}

/** SHOW TABLES pattern for the target, its history and every working table of it. */
export function tablesPattern(table: TargetTable, historySuffix: string): string {
  return `${table.name}|${table.name}${historySuffix}|${baseName(table)}${WORKING_TABLE_MARK}*`;
}

export function isWorkingTableName(table: TargetTable, name: string): boolean {
  const prefix = `${baseName(table)}${WORKING_TABLE_MARK}`;
  return name.startsWith(prefix) && name.length === prefix.length + HASH_CHARS;
}

/** Whether another load's working table may be dropped: it is ours to clean (same target) and its load is over. */
export function isAbandoned(properties: ReadonlyMap<string, string>, target: string, nowMs: number): boolean {
  if (properties.get(PROPERTY_WORKING_TABLE_OF) !== target) return false;
  const heartbeat = Date.parse(properties.get(PROPERTY_HEARTBEAT) ?? '');
  return Number.isNaN(heartbeat) || nowMs - heartbeat > STALE_WORKING_TABLE_MS;
}
