// Group: after every unit has been extracted (or has failed), the target tables that have staged units
// waiting, read from the ledger. The table Map loads each once, with all of its units together.
import { tableKey } from '../config/targetTable.ts';
import type { PipelineDeps } from './pipelineDeps.ts';

export interface GroupResult {
  plan: string;
  /** catalog.schema.table keys, sorted. */
  tables: string[];
}

export async function groupByTable(request: { plan: string }, deps: Pick<PipelineDeps, 'plans' | 'ledger'>): Promise<GroupResult> {
  const plan = await deps.plans.get(request.plan);
  const statuses = new Map((await deps.ledger.listUnits(plan.unitsRunKey)).map((u) => [u.unitId, u.status]));
  const tables = new Set(plan.units.filter((u) => statuses.get(u.unitId) === 'extracted').map((u) => tableKey(u.table)));
  return { plan: request.plan, tables: [...tables].sort() };
}
