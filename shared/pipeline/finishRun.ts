// FinishRun: the last step. Any unit of this execution that neither committed nor failed is marked failed,
// the run is closed in the ledger with its summary, and the answer tells the state machine whether to end
// Succeeded or Failed, with a cause naming the failed units and the rerun input that replays them.
import { LedgerTransitionError, summarizeUnits, type UnitRecord, type UnitStatus } from '../state/runLedger.ts';
import { SyncError } from '../errors/syncError.ts';
import type { PipelineDeps } from './pipelineDeps.ts';
import { holdsUnit, planWarnings, unitHolder } from './runPlan.ts';
import { errorFromCaught, type CaughtError } from './taskError.ts';

export interface FinishRunResult {
  plan: string;
  status: 'succeeded' | 'failed';
  units: number;
  failed: number;
  recordsExtracted: number;
  recordsLoaded: number;
  /** For the Fail state (present when failed). */
  cause?: string;
  /** Per flow: for the metrics. */
  flows: { flow: string; units: number; failed: number }[];
  startedAt: string;
  /** What operators should know although units may have committed, e.g. "purchase_orders: 2 configured fields not on this tenant: REMK, PUSL". */
  warnings: string[];
}

const LISTED_IN_CAUSE = 10;

/** What a unit of this execution that neither committed nor failed is failed with when the run closes. */
export class UnitNotFinishedError extends SyncError {
  // The name the ledger has always recorded for these, which operators may search for.
  override name = 'UnitNotFinished';
}

export interface FinishRunRequest {
  plan: string;
  /** The error of the step that stopped the execution early (the state machine's catch), if one did. */
  stoppedBy?: CaughtError;
}

export async function finishRun(request: FinishRunRequest, deps: Pick<PipelineDeps, 'plans' | 'ledger' | 'log'>): Promise<FinishRunResult> {
  const plan = await deps.plans.get(request.plan);
  deps.log.appendKeys({ runId: plan.runId });
  const own = new Set(plan.units.map((u) => u.unitId));
  let units = (await deps.ledger.listUnits(plan.unitsRunKey)).filter((u) => own.has(u.unitId));
  // (A unit a rerun has claimed is the rerun's to finish: possible only when a rerun closes this run late.)
  const unfinished = units.filter((u) => u.status !== 'committed' && u.status !== 'failed' && holdsUnit(plan, u));
  const stoppedBy = request.stoppedBy ? errorFromCaught(request.stoppedBy) : undefined;
  if (stoppedBy) deps.log.error('the execution stopped early', { error: stoppedBy.name, message: stoppedBy.message });
  for (const unit of unfinished) {
    const error = new UnitNotFinishedError(
      `stopped in status ${unit.status}: execution "${plan.executionName}" ended before the unit committed` +
        (stoppedBy ? ` (${stoppedBy.name}: ${stoppedBy.message.slice(0, 200)})` : ''),
      stoppedBy ? { cause: stoppedBy } : undefined,
    );
    await failUnfinished(unit.unitId, unit.status, error);
  }
  if (unfinished.length > 0) units = (await deps.ledger.listUnits(plan.unitsRunKey)).filter((u) => own.has(u.unitId));

  /**
   * Fails a unit that did not commit. A step of the stopped execution may still be running (Step Functions lets
   * an invocation in flight finish after its Map failed) and move the unit on meanwhile, pending → extracted: the
   * transition is tried again from the status the unit has now, or a rerun, which replays failed units only,
   * would never see it.
   */
  async function failUnfinished(unitId: string, seen: UnitStatus, error: Error): Promise<void> {
    let status: UnitStatus | undefined = seen;
    for (let attempt = 0; attempt < 5 && status !== undefined && status !== 'committed' && status !== 'failed'; attempt++) {
      try {
        await deps.ledger.transitionUnit(plan.unitsRunKey, unitId, [status], 'failed', { error, holder: unitHolder(plan) });
        return;
      } catch (transition) {
        if (!(transition instanceof LedgerTransitionError)) throw transition;
        if (transition.reason === 'claimed-elsewhere') return;
        status = (await deps.ledger.getUnit(plan.unitsRunKey, unitId))?.status;
      }
    }
  }
  const missing = plan.units.length - units.length;
  // A unit a rerun has claimed failed in this execution (that is why it was claimed), whatever the rerun made of it since.
  const failed = units.filter((u) => u.status === 'failed' || !holdsUnit(plan, u));
  const status = failed.length === 0 && missing === 0 ? 'succeeded' : 'failed';
  const cause = status === 'failed' ? causeOf(plan.executionName, plan.units.length, failed, missing, stoppedBy) : undefined;
  const warnings = planWarnings(plan);
  const summary = { ...summarizeUnits(units, cause ?? `${units.length} unit(s) committed`), ...(warnings.length > 0 ? { warnings } : {}) };
  await deps.ledger.finishRun(plan.runKey, status, summary);

  const flows = new Map<string, { flow: string; units: number; failed: number }>();
  for (const unit of plan.units) {
    const entry = flows.get(unit.flow) ?? { flow: unit.flow, units: 0, failed: 0 };
    entry.units += 1;
    if (failed.some((f) => f.unitId === unit.unitId)) entry.failed += 1;
    flows.set(unit.flow, entry);
  }
  deps.log.info('run finished', { runKey: plan.runKey, status, units: units.length, failed: failed.length });
  return {
    plan: request.plan,
    status,
    units: plan.units.length,
    failed: failed.length + missing,
    recordsExtracted: summary.recordsExtracted,
    recordsLoaded: summary.recordsLoaded,
    ...(cause ? { cause } : {}),
    flows: [...flows.values()],
    startedAt: plan.startedAt,
    warnings,
  };
}

function causeOf(executionName: string, total: number, failed: UnitRecord[], missing: number, stoppedBy: Error | undefined): string {
  const listed = failed
    .slice(0, LISTED_IN_CAUSE)
    .map((u) => `${u.unitId} (${u.error ? `${u.error.name}: ${u.error.message.slice(0, 200)}` : u.claimedBy ? `taken over by rerun "${u.claimedBy}"` : 'no error recorded'})`);
  const more = failed.length > LISTED_IN_CAUSE ? `; and ${failed.length - LISTED_IN_CAUSE} more` : '';
  const lost = missing > 0 ? `; ${missing} unit(s) missing from the ledger (expired?)` : '';
  const stopped = stoppedBy ? `The execution stopped early (${stoppedBy.name}: ${stoppedBy.message.slice(0, 200)}). ` : '';
  const others = failed.length + missing < total ? 'The other units committed. ' : '';
  return (
    `${stopped}${failed.length + missing} of ${total} units failed: ${listed.join('; ')}${more}${lost}. ` +
    `${others}Replay the failed ones with the input {"rerunOf": "${executionName}"}`
  );
}
