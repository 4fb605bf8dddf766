// Commit: after a table loaded, advance the watermarks of its units to the change stamps the load
// committed (forward only; backfills never move them), and mark the units committed. Idempotent: a
// repeated Commit finds its units committed and the watermarks already there. The sub-units of a split full
// read share their scope's watermark: it moves only when every one of them loaded in this load, to the
// largest stamp among them (one sub-unit alone proves nothing about the others' ranges).
import { assertChangeDate, latestChangeDate } from '../staging/changeDate.ts';
import { LedgerTransitionError } from '../state/runLedger.ts';
import type { PipelineDeps } from './pipelineDeps.ts';
import type { LoadStepResult } from './loadPlannedTable.ts';
import { entityOf, holdsUnit, unitHolder, unitOf } from './runPlan.ts';
import { UnitRef } from './unitRef.ts';
import { dateInZone } from './zonedDate.ts';

export interface CommitStepResult {
  plan: string;
  table: string;
  committed: string[];
  /** Watermarks that moved (unit ids). */
  advanced: string[];
  /** Records loaded per flow, for the metrics. */
  flows: { flow: string; records: number; units: number }[];
  /** The run's start (ISO), for the lag metric. */
  startedAt: string;
}

export async function commitTable(
  request: Pick<LoadStepResult, 'plan' | 'table' | 'units'>,
  deps: Pick<PipelineDeps, 'plans' | 'ledger' | 'watermarks' | 'log'>,
): Promise<CommitStepResult> {
  const plan = await deps.plans.get(request.plan);
  deps.log.appendKeys({ runId: plan.runId });
  const committed: string[] = [];
  const advanced: string[] = [];
  const perFlow = new Map<string, { flow: string; records: number; units: number }>();
  const scopes = scopesOf(plan, request.units);
  for (const loaded of request.units) {
    const unit = unitOf(plan, loaded.unitId);
    const current = await deps.ledger.getUnit(plan.unitsRunKey, unit.unitId);
    if (current?.status === 'committed') continue;
    // A rerun took the unit over (this execution stopped; this Commit was still in flight): it commits it.
    if (current && !holdsUnit(plan, current)) {
      deps.log.warn('unit not committed: a rerun holds it now', { unitId: unit.unitId, claimedBy: current.claimedBy });
      continue;
    }
    const scope = unit.part ? scopes.get(UnitRef.parse(unit.unitId).scopeId) : undefined;
    if (unit.part && scope && scope.parts.size < unit.part.of) {
      deps.log.warn('watermark not moved: not every sub-unit of the scope loaded', { unitId: unit.unitId, loaded: scope.parts.size, of: unit.part.of });
    } else if (unit.advancesWatermark && unit.keysOnly !== true) {
      // (A key sweep reads no change date: Plan never lets it advance a watermark, and Commit would not either.)
      const mark = markOf(plan, unit, scope?.combined ?? loaded);
      if (mark) {
        const key = { tenant: unit.tenant, entity: unit.entity, company: unit.company, division: unit.division };
        const outcome = await deps.watermarks.advance(key, { ...mark, runId: plan.runId });
        if (outcome.advanced) advanced.push(unit.unitId);
      }
    }
    try {
      await deps.ledger.transitionUnit(plan.unitsRunKey, unit.unitId, ['loaded'], 'committed', { holder: unitHolder(plan) });
    } catch (error) {
      if (!(error instanceof LedgerTransitionError && error.reason === 'status-changed' && error.actual === 'committed')) throw error;
    }
    committed.push(unit.unitId);
    const flow = perFlow.get(unit.flow) ?? { flow: unit.flow, records: 0, units: 0 };
    flow.records += loaded.records;
    flow.units += 1;
    perFlow.set(unit.flow, flow);
  }
  deps.log.info('table committed', { table: request.table, committed: committed.length, watermarksAdvanced: advanced.length });
  return { plan: request.plan, table: request.table, committed, advanced, flows: [...perFlow.values()], startedAt: plan.startedAt };
}

/** Per scope of split sub-units: which parts loaded, and their largest change date and stamp together. */
function scopesOf(plan: Parameters<typeof unitOf>[0], units: LoadStepResult['units']): Map<string, { parts: Set<number>; combined: LoadStepResult['units'][number] }> {
  const scopes = new Map<string, { parts: Set<number>; combined: LoadStepResult['units'][number] }>();
  const larger = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a > b ? a : b);
  for (const loaded of units) {
    const unit = unitOf(plan, loaded.unitId);
    if (!unit.part) continue;
    const id = UnitRef.parse(unit.unitId).scopeId;
    const scope = scopes.get(id) ?? { parts: new Set<number>(), combined: { unitId: id, records: 0, maxChangeStamp: null, maxChangeDate: null } };
    scope.parts.add(unit.part.index);
    scope.combined = {
      ...scope.combined,
      records: scope.combined.records + loaded.records,
      maxChangeStamp: larger(scope.combined.maxChangeStamp, loaded.maxChangeStamp),
      maxChangeDate: larger(scope.combined.maxChangeDate, loaded.maxChangeDate),
    };
    scopes.set(id, scope);
  }
  return scopes;
}

/**
 * Incremental units: the largest change date and stamp the load committed (nothing read, nothing to move).
 * Snapshot units: the run's date in the tenant's zone and its start time, so "last complete snapshot" is visible.
 */
function markOf(
  plan: Parameters<typeof unitOf>[0],
  unit: ReturnType<typeof unitOf>,
  loaded: LoadStepResult['units'][number],
): { changeDate: string; changeStamp: string } | undefined {
  const entity = entityOf(plan, unit);
  const timeZone = plan.tenants[unit.tenant]?.timeZone ?? 'UTC';
  if (entity.strategy === 'incremental') {
    if (!loaded.maxChangeDate || !loaded.maxChangeStamp) return undefined;
    // Staging refuses such dates; a unit staged before it did must still never set a watermark in the future.
    assertChangeDate(loaded.maxChangeDate, entity.changeFields.date ?? 'change date', latestChangeDate(plan.startedAt, timeZone), `${unit.unitId}: the largest staged change`);
    return { changeDate: loaded.maxChangeDate, changeStamp: loaded.maxChangeStamp };
  }
  return { changeDate: dateInZone(Date.parse(plan.startedAt), timeZone), changeStamp: plan.startedAt };
}
