// The business-named view of an entity, `<table>_v`: live rows only (`_deleted_at IS NULL`), each field under
// its business name from the catalog (supplier_number, invoice_date, amount_fc, …; the M3 name where the
// catalog has none), and beside each code with a fixed meaning in M3 a `<name>_meaning` column. It is created
// where the tables are (the load) and replaced only when its definition changes (a fingerprint on the table).
import { createHash } from 'node:crypto';
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import { qualifiedName, quote } from './identifiers.ts';
import { sqlString } from './loadSql.ts';
import type { TargetTable } from './loadTypes.ts';
import { fieldColumns } from './tableColumns.ts';
import { VIEW_SUFFIX } from './tableDescriptions.ts';

export const VIEW_PROPERTY = 'cloudsuite_sync.view';

/** Audit columns the view keeps, under names a reader understands. */
const VIEW_AUDIT_COLUMNS: readonly [string, string][] = [
  ['_tenant', 'source_tenant'],
  ['_record_key', 'record_key'],
  ['_run_id', 'sync_run_id'],
  ['_extracted_at', 'extracted_at'],
  ['_loaded_at', 'loaded_at'],
];

export function viewOf(table: TargetTable): TargetTable {
  return { ...table, name: `${table.name}${VIEW_SUFFIX}` };
}

/** The view's columns: [expression over `t`, name]; a name already taken falls back to the M3 field name. */
export function businessViewColumns(entity: EntityDefinition): [string, string][] {
  const taken = new Set<string>(VIEW_AUDIT_COLUMNS.map(([, n]) => n));
  const columns: [string, string][] = [];
  const claim = (wanted: string, fallback: string) => {
    const name = !taken.has(wanted) ? wanted : fallback;
    if (taken.has(name)) return undefined;
    taken.add(name);
    return name;
  };
  for (const column of fieldColumns(entity)) {
    const field = column.field!;
    const name = claim(field.businessName ?? column.name, column.name);
    if (!name) continue;
    columns.push([`t.${quote(column.name)}`, name]);
    if (field.codes && Object.keys(field.codes).length > 0) {
      const meaning = claim(`${name}_meaning`, `${column.name}_meaning`);
      if (!meaning) continue;
      const cases = Object.entries(field.codes).map(([code, text]) => `WHEN ${sqlString(code)} THEN ${sqlString(text)}`).join(' ');
      columns.push([`CASE CAST(t.${quote(column.name)} AS STRING) ${cases} END`, meaning]);
    }
  }
  for (const [column, name] of VIEW_AUDIT_COLUMNS) columns.push([`t.${quote(column)}`, name]);
  return columns;
}

export function businessViewSql(entity: EntityDefinition, table: TargetTable): string {
  const select = businessViewColumns(entity).map(([expression, name]) => `${expression} AS ${quote(name)}`).join(', ');
  return `CREATE OR REPLACE VIEW ${qualifiedName(viewOf(table))} AS SELECT ${select} FROM ${qualifiedName(table)} AS t WHERE t.\`_deleted_at\` IS NULL`;
}

export function viewFingerprint(entity: EntityDefinition, table: TargetTable): string {
  return createHash('sha256').update(businessViewSql(entity, table)).digest('hex').slice(0, 16);
}
