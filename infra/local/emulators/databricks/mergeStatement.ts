// MERGE INTO, the Databricks way, on DuckDB. Two differences need rewriting: DuckDB's `UPDATE SET *` and
// `INSERT *` are positional while Delta's are by name (so they are expanded from the target's columns), and
// DuckDB lets several source rows update one target row where Delta fails with
// DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE (so a check query runs first). And `WHEN NOT MATCHED BY
// SOURCE` runs as UPDATE/DELETE statements beside the MERGE (renderNotMatchedBySource): DuckDB 1.5.6 crashes the
// process (SIGSEGV, intermittently) on such a MERGE of the loader's shape (IS NOT DISTINCT FROM keys, a QUALIFY
// source, a wide target). Same result: a target row no source row matches is untouched by the other clauses.
import { quoteIdent } from './identifiers.ts';
import type { MergeClause, MergePlan } from './sqlTranslator.ts';

/**
 * The DuckDB MERGE for a plan's WHEN MATCHED / WHEN NOT MATCHED clauses, returning one `merge_action` row per
 * changed target row; undefined when the plan has only WHEN NOT MATCHED BY SOURCE clauses.
 */
export function renderMerge(plan: MergePlan, targetColumns: readonly string[]): string | undefined {
  const target = quoteIdent(plan.targetAlias);
  const source = quoteIdent(plan.sourceAlias);
  const others = plan.clauses.filter((c) => c.when !== 'notMatchedBySource');
  if (others.length === 0) return undefined;
  const clauses = others.map((clause) => renderClause(clause, targetColumns, source));
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

/**
 * The WHEN NOT MATCHED BY SOURCE clauses as statements run in order before the MERGE: first a temporary table
 * `choices` of the target rows no source row matches, each with the first clause whose condition holds (judged
 * on the rows as they are, as Delta does), then one UPDATE or DELETE per clause for its rows, each returning one
 * `merge_action` row per changed row, then the temporary table dropped. Empty when there is no such clause. Run
 * before the MERGE: the rows they change have no source row, so the MERGE leaves them as they are either way.
 */
export function renderNotMatchedBySource(plan: MergePlan, choices: string): { sql: string; counted: boolean }[] {
  const clauses = plan.clauses.filter((c) => c.when === 'notMatchedBySource');
  if (clauses.length === 0) return [];
  const target = quoteIdent(plan.targetAlias);
  const source = quoteIdent(plan.sourceAlias);
  const table = `temp.main.${quoteIdent(choices)}`;
  const which = clauses.map((c, i) => `WHEN ${c.conditionSql === undefined ? 'TRUE' : `(${c.conditionSql.trim()})`} THEN ${i}`).join(' ');
  const statements = [{
    sql:
      `CREATE OR REPLACE TEMP TABLE ${quoteIdent(choices)} AS SELECT * FROM (SELECT ${target}.rowid AS row_id, CASE ${which} END AS clause ` +
      `FROM ${plan.targetSql} AS ${target} WHERE NOT EXISTS (SELECT 1 FROM ${plan.sourceSql} AS ${source} WHERE ${plan.onSql.trim()})) WHERE clause IS NOT NULL`,
    counted: false,
  }];
  clauses.forEach((clause, i) => {
    const rows = `${target}.rowid IN (SELECT row_id FROM ${table} WHERE clause = ${i})`;
    const { action } = clause;
    if (action.kind === 'delete') statements.push({ sql: `DELETE FROM ${plan.targetSql} AS ${target} WHERE ${rows} RETURNING 'DELETE' AS merge_action`, counted: true });
    else if (action.kind === 'update') {
      statements.push({ sql: `UPDATE ${plan.targetSql} AS ${target} SET ${action.setSql.trim()} WHERE ${rows} RETURNING 'UPDATE' AS merge_action`, counted: true });
    } else throw new Error(`WHEN NOT MATCHED BY SOURCE takes UPDATE SET or DELETE, not ${action.kind}`);
  });
  statements.push({ sql: `DROP TABLE ${table}`, counted: false });
  return statements;
}
