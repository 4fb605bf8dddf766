// Record failure: the Catch target of Extract (one unit) and of Load/Commit (one table's units). It marks
// the units failed in the ledger with the error's name and message only, so the healthy units still load
// and commit, FinishRun can end the execution Failed naming them, and a rerun finds exactly these.
import { LedgerTransitionError, type UnitStatus } from '../state/runLedger.ts';
import { tableKey } from '../config/targetTable.ts';
import type { PipelineDeps } from './pipelineDeps.ts';
import { unitHolder, unitOf, type PlannedUnit } from './runPlan.ts';
import { errorFromCaught, type CaughtError } from './taskError.ts';

export interface RecordFailureRequest {
  plan: string;
  /** The unit whose extraction failed, or */
  unitId?: string;
  /** the table whose load or commit failed (every unit of it not yet committed fails). */
  table?: string;
  error?: CaughtError;
}

export interface RecordFailureResult {
  plan: string;
  failed: string[];
}

const FAILABLE: readonly UnitStatus[] = ['pending', 'extracting', 'extracted', 'loading', 'loaded'];

export async function recordFailure(
  request: RecordFailureRequest,
  deps: Pick<PipelineDeps, 'plans' | 'ledger' | 'log'>,
): Promise<RecordFailureResult> {
  const plan = await deps.plans.get(request.plan);
  deps.log.appendKeys({ runId: plan.runId });
  let units: PlannedUnit[];
  if (request.unitId !== undefined) units = [unitOf(plan, request.unitId)];
  else if (request.table !== undefined) units = plan.units.filter((u) => tableKey(u.table) === request.table);
  else throw new Error('record failure needs a unitId or a table');

  const error = errorFromCaught(request.error);
  const failed: string[] = [];
  for (const unit of units) {
    try {
      await deps.ledger.transitionUnit(plan.unitsRunKey, unit.unitId, FAILABLE, 'failed', { error, holder: unitHolder(plan) });
      failed.push(unit.unitId);
    } catch (transition) {
      // Already failed, committed before the table's failure, or held by a rerun now: leave it as it is.
      if (!(transition instanceof LedgerTransitionError)) throw transition;
    }
  }
  deps.log.warn('units failed', { failed, error: error.name, ...(request.table ? { table: request.table } : {}) });
  return { plan: request.plan, failed };
}
