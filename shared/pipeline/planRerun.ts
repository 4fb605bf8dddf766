// Plan for a rerun ({"rerunOf": "<execution>"}): replays exactly the failed units of an earlier execution,
// with the same windows and watermark rule, into new staging folders; entities the original could not read on
// their tenant are resolved again (planTenantSchemas.ts). An original execution that ended
// without closing its run is closed first; units are claimed so that two reruns never replay the same one.
import { ConfigError } from '../config/configError.ts';
import { Deadline } from '../runtime/deadline.ts';
import { newRunId } from '../runtime/runId.ts';
import { LedgerTransitionError } from '../state/runLedger.ts';
import { isLive } from './executionStatus.ts';
import { finishRun } from './finishRun.ts';
import { openRun, PLAN_REUSED, planResult, runStartedAt, type PlanDeps, type PlanRunRequest, type PlanRunResult } from './planStep.ts';
import { rerunSchemas } from './planTenantSchemas.ts';
import { planKeyOf, type RunPlan } from './runPlan.ts';
import { UnitRef } from './unitRef.ts';

export async function planRerun(request: PlanRunRequest, rerunOf: string, deps: PlanDeps): Promise<PlanRunResult> {
  const original = await deps.plans.get(planKeyOf(rerunOf));
  const originalRun = await deps.ledger.getRun(original.runKey);
  if (originalRun?.status === 'running') {
    const status = await deps.executions.statusOf({ name: rerunOf, ...(request.stateMachineArn ? { stateMachineArn: request.stateMachineArn } : {}) });
    if (isLive(status)) {
      throw new ConfigError(`execution "${rerunOf}" is still running (${status}); wait for it to end, then start {"rerunOf": "${rerunOf}"} again`);
    }
    // It ended without closing its run (Plan or FinishRun failed for good, or it was aborted or timed
    // out): close it as FinishRun would have, failing every unit that did not commit, then replay those.
    deps.log.warn('the execution ended without closing its run; closing it before the rerun', { rerunOf, status });
    await finishRun(
      { plan: planKeyOf(rerunOf), stoppedBy: { Error: `Execution${status === 'GONE' ? 'Ended' : status}`, Cause: `execution "${rerunOf}" ended (${status}) without closing its run` } },
      deps,
    );
  }
  const runKey = request.executionName;
  const opening = await openRun(request, { runKey, trigger: 'console', flows: original.flows, mode: 'rerun' }, deps);
  if (opening.kind === 'duplicate') return opening.result;
  if (opening.kind === 'planned') {
    await claimFailedUnits(opening.plan, deps);
    return planResult(opening.plan, PLAN_REUSED);
  }

  const statuses = new Map((await deps.ledger.listUnits(original.unitsRunKey)).map((u) => [u.unitId, u.status]));
  const failed = original.units.filter((u) => statuses.get(u.unitId) === 'failed');
  const runId = newRunId('rerun');
  const plan: RunPlan = {
    ...original,
    executionName: request.executionName,
    runKey,
    unitsRunKey: original.unitsRunKey,
    runId,
    trigger: 'console',
    mode: 'rerun',
    rerunOf,
    startedAt: runStartedAt(request, deps),
    // Same windows and watermark rule as the original; new staging folders so nothing mixes with its files.
    units: failed.map((u) => ({ ...u, unitPrefix: UnitRef.parse(u.unitId).stagingPrefix(u.tenant, runId) })),
    // The same entities, except the ones the original could not read on its tenant: those are read again.
    schemas: await rerunSchemas(original, failed, deps, deps.deadline ?? Deadline.none()),
  };
  delete plan.schedule;
  // The plan is written before units are claimed, so a retried Plan claims the same ones.
  await deps.plans.put(plan);
  const claimed = await claimFailedUnits(plan, deps);
  if (claimed.length !== plan.units.length) {
    // Units another rerun took are not this execution's: drop them so FinishRun judges only its own.
    plan.units = plan.units.filter((u) => claimed.includes(u.unitId));
    await deps.plans.put(plan);
  }
  const message =
    failed.length === 0
      ? `execution "${rerunOf}" has no failed units: nothing to rerun`
      : `rerun of ${claimed.length} failed unit(s) of execution "${rerunOf}"`;
  deps.log.info(message, { runKey, rerunOf, units: claimed.length });
  return planResult(plan, message);
}

/**
 * failed → pending in the original run, marked as this execution's claim. A unit already pending is this
 * execution's when it claimed it itself (a retried Plan); one another rerun took first is left to it.
 */
async function claimFailedUnits(plan: RunPlan, deps: PlanDeps): Promise<string[]> {
  const claimed: string[] = [];
  for (const unit of plan.units) {
    try {
      await deps.ledger.transitionUnit(plan.unitsRunKey, unit.unitId, ['failed'], 'pending', { claimedBy: plan.executionName });
      claimed.push(unit.unitId);
    } catch (error) {
      if (!(error instanceof LedgerTransitionError)) throw error;
      const current = error.actual === 'pending' ? await deps.ledger.getUnit(plan.unitsRunKey, unit.unitId) : undefined;
      if (current?.status === 'pending' && current.claimedBy === plan.executionName) claimed.push(unit.unitId);
      else deps.log.warn('unit is no longer failed; another rerun took it', { unitId: unit.unitId, status: error.actual, claimedBy: current?.claimedBy });
    }
  }
  return claimed;
}
