// How the two target tables are laid out so that a real warehouse accepts them: liquid-clustering keys (the
// current table on the CloudSuite key, history on _record_key) must be among the columns Delta collects
// statistics on, which by default are only the first 32 (`delta.dataSkippingNumIndexedCols`), while the audit
// columns follow the entity's fields and an entity may have hundreds of fields. So every table names its
// statistics columns (`delta.dataSkippingStatsColumns`): the clustering keys, the key and the audit columns a
// query or a load filters on, then the first fields, at most 32 in all. Named columns do not move when columns
// are added, so the rule holds after schema drift; tables made by earlier versions get the property too.
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import { currentKeyColumns, fieldColumns } from './tableColumns.ts';

export const STATS_COLUMNS_PROPERTY = 'delta.dataSkippingStatsColumns';
/** Delta's default number of columns with statistics, kept as the size of our named list. */
export const MAX_STATS_COLUMNS = 32;
/** Liquid clustering allows at most 4 keys. */
export const MAX_CLUSTERING_KEYS = 4;

/** The current table's clustering keys: the CloudSuite key without _tenant (one tenant per table), at most 4. */
export function currentClusteringKeys(entity: EntityDefinition): string[] {
  return currentKeyColumns(entity).filter((k) => k !== '_tenant').slice(0, MAX_CLUSTERING_KEYS);
}

export const HISTORY_CLUSTERING_KEYS = ['_record_key'] as const;

/** The columns both tables collect statistics on, in this order, at most 32. */
export function statsColumns(entity: EntityDefinition): string[] {
  const wanted = [
    ...currentClusteringKeys(entity),
    ...HISTORY_CLUSTERING_KEYS,
    ...currentKeyColumns(entity),
    '_change_stamp', '_company', '_division', '_deleted_at', '_loaded_at', '_run_id', '_extracted_at',
    ...fieldColumns(entity).map((c) => c.name),
  ];
  return [...new Set(wanted)].slice(0, MAX_STATS_COLUMNS);
}

/** The TBLPROPERTIES both target tables are created with. */
export function targetTableProperties(entity: EntityDefinition): Record<string, string> {
  return {
    'delta.enableChangeDataFeed': 'true',
    'cloudsuite_sync.managed': 'true',
    [STATS_COLUMNS_PROPERTY]: statsColumns(entity).join(','),
  };
}
