// The SQL of the load's control totals (shared/staging/controlTotals.ts): per unit and period, the record
// count and the sum of every amount field in the working table (exactly the rows the MERGE writes) and in the
// current table after the merge, and the `_sync_control_totals` table that keeps them beside what was staged.
// Sums are DECIMAL, read as text and compared as exact decimals: never a float.
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import { amountFields, controlPeriodField, NO_PERIOD } from '../staging/controlTotals.ts';
import { qualifiedName, quote } from './identifiers.ts';
import { sqlString } from './loadSql.ts';
import type { TargetTable } from './loadTypes.ts';
import type { Column } from './tableColumns.ts';

export const CONTROL_TOTALS_TABLE = '_sync_control_totals';
/** The `field` of a row that counts records rather than summing an amount. */
export const RECORDS_FIELD = '_records';

export function controlTotalsTableOf(table: TargetTable): TargetTable {
  return { ...table, name: CONTROL_TOTALS_TABLE };
}

const CONTROL_TOTALS_COLUMNS: readonly Column[] = [
  { name: 'tenant', type: 'STRING', comment: 'CloudSuite tenant of the unit' },
  { name: 'table_name', type: 'STRING', comment: 'The current table loaded (catalog.schema.table)' },
  { name: 'entity', type: 'STRING', comment: 'Catalog entity of the unit' },
  { name: 'unit_id', type: 'STRING', comment: 'The staged unit (one company, or company and division, of one run)' },
  { name: 'run_id', type: 'STRING', comment: 'The sync run that staged the unit' },
  { name: 'company', type: 'STRING', comment: 'M3 company (CONO) of the unit' },
  { name: 'division', type: 'STRING', comment: 'M3 division (DIVI) of the unit; empty for company-level units' },
  {
    name: 'period', type: 'STRING',
    comment: 'yyyy-MM of the entity control period field (ledgers: accounting date; others: change date); none when there is no such date',
  },
  { name: 'field', type: 'STRING', comment: '_records for the record count, else the amount column summed (e.g. cuam)' },
  { name: 'staged_total', type: 'STRING', comment: 'Count or exact sum as staged from CloudSuite (decimal text)' },
  { name: 'loaded_total', type: 'STRING', comment: 'Count or exact sum of the rows merged into the current table (decimal text); equal to staged_total, or the unit failed' },
  {
    name: 'current_total', type: 'STRING',
    comment: "Count or sum found in the current table after the merge for the unit's keys (differs only where the table already held a newer version); NULL when the load's working table was gone before the totals were written",
  },
  { name: 'load_id', type: 'STRING', comment: 'The load that wrote the row' },
  { name: 'loaded_at', type: 'TIMESTAMP', comment: 'When the load ran (UTC)' },
];

export function createControlTotalsTableSql(table: TargetTable): string {
  const columns = CONTROL_TOTALS_COLUMNS.map((c) => `${quote(c.name)} ${c.type} COMMENT ${sqlString(c.comment!)}`).join(', ');
  const comment = 'Finance control totals: per loaded unit and period, the record count and the sum of every amount field as staged, as merged and as found in the current table';
  return `CREATE TABLE IF NOT EXISTS ${qualifiedName(controlTotalsTableOf(table))} (${columns}) USING DELTA COMMENT ${sqlString(comment)}`;
}

/** A total's column alias in the queries below (`total_cuam`). */
export const totalAlias = (field: string) => `total_${field.toLowerCase()}`;

/** The control period of a row (yyyy-MM), as the staged control totals have it. */
export function periodExpression(entity: EntityDefinition, alias: string): string {
  const field = controlPeriodField(entity);
  return field ? `coalesce(substr(CAST(${alias}.${quote(field.toLowerCase())} AS STRING), 1, 7), ${sqlString(NO_PERIOD)})` : sqlString(NO_PERIOD);
}

function totalsSelect(entity: EntityDefinition, alias: string): string {
  const sums = amountFields(entity).map((f) => `CAST(sum(${alias}.${quote(f.toLowerCase())}) AS STRING) AS ${quote(totalAlias(f))}`);
  return [`${periodExpression(entity, alias)} AS period`, 'count(*) AS records', ...sums].join(', ');
}

/** Per unit and period: the current table's rows for the keys each unit brought, after the merge. */
export function currentRowTotalsSql(entity: EntityDefinition, table: TargetTable, working: TargetTable): string {
  return (
    `SELECT k.\`_unit\` AS unit, ${totalsSelect(entity, 't')} FROM ${qualifiedName(table)} AS t ` +
    `JOIN (SELECT DISTINCT \`_unit\`, \`_tenant\`, \`_record_key\` FROM ${qualifiedName(working)}) AS k ` +
    `ON t.\`_tenant\` = k.\`_tenant\` AND t.\`_record_key\` = k.\`_record_key\` GROUP BY k.\`_unit\`, ${periodExpression(entity, 't')}`
  );
}

const ROW_FIELDS = CONTROL_TOTALS_COLUMNS.map((c) => c.name);

/** Writes a load's rows (bound as one JSON array of strings); written again after a lost answer, it adds nothing. */
export function writeControlTotalsSql(table: TargetTable): string {
  const schema = `ARRAY<STRUCT<${ROW_FIELDS.map((n) => `${n}: STRING`).join(', ')}>>`;
  const values = CONTROL_TOTALS_COLUMNS.map((c) => (c.type === 'TIMESTAMP' ? `CAST(s.${quote(c.name)} AS TIMESTAMP)` : `s.${quote(c.name)}`));
  const on = ['tenant', 'table_name', 'unit_id', 'period', 'field'].map((n) => `c.${quote(n)} = s.${quote(n)}`).join(' AND ');
  return (
    `MERGE INTO ${qualifiedName(controlTotalsTableOf(table))} AS c USING (` +
    `SELECT ${ROW_FIELDS.map((n) => `r.${quote(n)}`).join(', ')} FROM inline(from_json(:rows, '${schema}')) AS r` +
    `) AS s ON ${on} WHEN NOT MATCHED THEN INSERT (${ROW_FIELDS.map(quote).join(', ')}) VALUES (${values.join(', ')})`
  );
}

export type ControlTotalsRow = Record<(typeof ROW_FIELDS)[number], string>;
