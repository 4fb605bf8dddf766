// MERGE INTO, the Databricks way, on DuckDB. Two differences need rewriting: DuckDB's `UPDATE SET *` and
// `INSERT *` are positional while Delta's are by name (so they are expanded from the target's columns), and
// DuckDB lets several source rows update one target row where Delta fails with
// DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE (so a check query runs first).
import { quoteIdent } from './identifiers.ts';
import type { MergeClause, MergePlan } from './sqlTranslator.ts';

/** The DuckDB MERGE for a plan, returning one `merge_action` row per changed target row. */
export function renderMerge(plan: MergePlan, targetColumns: readonly string[]): string {
  const target = quoteIdent(plan.targetAlias);
  const source = quoteIdent(plan.sourceAlias);
  const clauses = plan.clauses.map((clause) => renderClause(clause, targetColumns, source));
  return [
    `MERGE INTO ${plan.targetSql} AS ${target}`,
    `USING ${plan.sourceSql} AS ${source}`,
    `ON ${plan.onSql.trim()}`,
    ...clauses,
    'RETURNING merge_action',
  ].join('\n');
}

function renderClause(clause: MergeClause, targetColumns: readonly string[], source: string): string {
  const when = { matched: 'WHEN MATCHED', notMatched: 'WHEN NOT MATCHED', notMatchedBySource: 'WHEN NOT MATCHED BY SOURCE' }[clause.when];
  const condition = clause.conditionSql === undefined ? '' : ` AND (${clause.conditionSql.trim()})`;
  const { action } = clause;
  let then: string;
  switch (action.kind) {
    case 'delete':
      then = 'DELETE';
      break;
    case 'update':
      then = `UPDATE SET ${action.setSql.trim()}`;
      break;
    case 'updateAll':
      then = `UPDATE SET ${targetColumns.map((c) => `${quoteIdent(c)} = ${source}.${quoteIdent(c)}`).join(', ')}`;
      break;
    case 'insert':
      then = `INSERT ${action.columnsSql} VALUES ${action.valuesSql}`;
      break;
    case 'insertAll':
      then = `INSERT (${targetColumns.map(quoteIdent).join(', ')}) VALUES (${targetColumns.map((c) => `${source}.${quoteIdent(c)}`).join(', ')})`;
      break;
  }
  return `${when}${condition} THEN ${then}`;
}

/**
 * A query returning a row when some target row is matched by more than one source row whose pair would take
 * a WHEN MATCHED action (Databricks Runtime 16+ semantics); undefined when Delta allows multiple matches
 * (no WHEN MATCHED clause, or a single unconditional WHEN MATCHED THEN DELETE).
 */
export function renderMultipleMatchCheck(plan: MergePlan): string | undefined {
  const matched = plan.clauses.filter((c) => c.when === 'matched');
  if (matched.length === 0) return undefined;
  if (matched.length === 1 && matched[0]!.action.kind === 'delete' && matched[0]!.conditionSql === undefined) return undefined;
  const target = quoteIdent(plan.targetAlias);
  const source = quoteIdent(plan.sourceAlias);
  const takesAction = matched.some((c) => c.conditionSql === undefined)
    ? ''
    : `WHERE ${matched.map((c) => `(${c.conditionSql!.trim()})`).join(' OR ')}`;
  return [
    `SELECT 1 FROM ${plan.targetSql} AS ${target}`,
    `JOIN ${plan.sourceSql} AS ${source} ON ${plan.onSql.trim()}`,
    takesAction,
    `GROUP BY ${target}.rowid HAVING count(*) > 1 LIMIT 1`,
  ]
    .filter((line) => line !== '')
    .join('\n');
}
