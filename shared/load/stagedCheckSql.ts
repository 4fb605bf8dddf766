// The one statement that checks a load's working table before anything merges, as rows told apart by `kind`:
//   totals   per unit and period, the record count and every amount's sum (completeness: a unit's counts add up
//            to its manifest's records; control totals: they equal the staged ones)
//   silent   per unit and company, the current rows the MERGE will replace although their change stamp did not
//            move (the data-quality figure; counted before the MERGE that repairs them)
//   vanished per complete unit (parameters suffixed _<i>), the keys its read no longer contains and the active
//            keys of its scope (the vanished-keys guard, and the soft deletes the MERGE will make)
// One round trip instead of four or more: statements per load stay a small constant (README, "Two load modes").
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import { amountFields } from '../staging/controlTotals.ts';
import { periodExpression, totalAlias } from './controlTotalsSql.ts';
import { qualifiedName, quote } from './identifiers.ts';
import { silentChangesFrom, vanishedCountsSelect, type VanishedGuard } from './loadSql.ts';
import type { TargetTable } from './loadTypes.ts';

export type CheckKind = 'totals' | 'silent' | 'vanished';

const NULL_TEXT = 'CAST(NULL AS STRING)';
const NULL_COUNT = 'CAST(NULL AS BIGINT)';

/** The unit parameter of the i-th complete unit (the others: tenant, company, division, stamp or read_started). */
export const completeUnitParam = (name: string, i: number) => `${name}_${i}`;

/**
 * `completeUnits`: how many complete units the vanished rows are asked for; the i-th binds its scope as
 * `:tenant_i`, `:company_i`, [`:division_i`,] `:stamp_i` or `:read_started_i` and `:unit_i`.
 */
export function stagedCheckSql(
  entity: EntityDefinition, table: TargetTable, working: TargetTable, completeUnits: number, divisional: boolean, guard: VanishedGuard,
): string {
  const amounts = amountFields(entity);
  const row = (kind: CheckKind, v: { unit: string; period?: string; company?: string; records?: string; totals?: string[]; silent?: string; vanished?: string }) =>
    [
      `'${kind}' AS kind`, `${v.unit} AS unit`, `${v.period ?? NULL_TEXT} AS period`, `${v.company ?? NULL_TEXT} AS company`,
      `${v.records ?? NULL_COUNT} AS records`,
      ...amounts.map((f, i) => `${v.totals?.[i] ?? NULL_TEXT} AS ${quote(totalAlias(f))}`),
      `${v.silent ?? NULL_COUNT} AS silent`,
      v.vanished ?? `${NULL_COUNT} AS vanished, ${NULL_COUNT} AS active`,
    ].join(', ');
  const totals =
    `SELECT ${row('totals', {
      unit: 'w.`_unit`', period: periodExpression(entity, 'w'), records: 'count(*)',
      totals: amounts.map((f) => `CAST(sum(w.${quote(f.toLowerCase())}) AS STRING)`),
    })} FROM ${qualifiedName(working)} AS w GROUP BY w.\`_unit\`, ${periodExpression(entity, 'w')}`;
  const silent =
    `SELECT ${row('silent', { unit: 's.`_unit`', company: 's.`_company`', silent: 'count(*)' })} ` +
    `${silentChangesFrom(entity, table, working)} GROUP BY s.\`_unit\`, s.\`_company\``;
  const vanished = Array.from({ length: completeUnits }, (_, i) =>
    `SELECT ${row('vanished', { unit: `:${completeUnitParam('unit', i)}`, vanished: vanishedCountsSelect(table, working, divisional, guard, `_${i}`) })}`,
  );
  return [totals, silent, ...vanished].join(' UNION ALL ');
}
