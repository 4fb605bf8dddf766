// Load: one target table with all of its staged units of this execution, under the table's lease (one
// writer per table across Lambdas and local runs), through the loader (shared/load/loadTable.ts). It
// answers with ids, counts and the change stamps the load committed, which Commit turns into watermarks.
import { VanishedKeysError } from '../load/loadErrors.ts';
import type { StagedUnitRef, WarehouseSession } from '../load/loadTypes.ts';
import { Deadline } from '../runtime/deadline.ts';
import { readManifest } from '../staging/stagedUnitReader.ts';
import { withLease } from '../state/tableLease.ts';
import { tableKey } from '../config/targetTable.ts';
import type { PipelineDeps } from './pipelineDeps.ts';
import { entityOf } from './runPlan.ts';

export interface LoadStepRequest {
  plan: string;
  table: string;
}

export interface LoadedUnit {
  unitId: string;
  records: number;
  maxChangeStamp: string | null;
  maxChangeDate: string | null;
}

export interface LoadStepResult {
  plan: string;
  table: string;
  units: LoadedUnit[];
  /** Units the vanished-keys guard refused: failed in the ledger, not committed. */
  refused: string[];
  records: number;
  historyInserted: number;
  currentInserted: number;
  currentUpdated: number;
  currentSoftDeleted: number;
}

export type LoadDeps = Pick<PipelineDeps, 'plans' | 'ledger' | 'leases' | 'store' | 'openWarehouse' | 'loadTable' | 'log'> & {
  deadline?: Deadline;
  /** How long to wait for another load of the table (nominal ms). Default 10 minutes. */
  leaseWaitMs?: number;
  /** Lease lifetime, renewed while the load runs (wall-clock ms). Default 2 minutes. */
  leaseTtlMs?: number;
};

export async function loadPlannedTable(request: LoadStepRequest, deps: LoadDeps): Promise<LoadStepResult> {
  const plan = await deps.plans.get(request.plan);
  deps.log.appendKeys({ runId: plan.runId });
  const statuses = new Map((await deps.ledger.listUnits(plan.unitsRunKey)).map((u) => [u.unitId, u.status]));
  const tableUnits = plan.units.filter((u) => tableKey(u.table) === request.table);
  const toLoad = tableUnits.filter((u) => statuses.get(u.unitId) === 'extracted' || statuses.get(u.unitId) === 'loading');
  // Loaded by an earlier attempt whose answer was lost: the manifest has the stamps that load committed.
  const alreadyLoaded = tableUnits.filter((u) => statuses.get(u.unitId) === 'loaded');
  const result: LoadStepResult = {
    plan: request.plan, table: request.table, units: [], refused: [], records: 0,
    historyInserted: 0, currentInserted: 0, currentUpdated: 0, currentSoftDeleted: 0,
  };
  for (const unit of alreadyLoaded) {
    const manifest = await readManifest(deps.store, unit.unitPrefix);
    result.units.push({ unitId: unit.unitId, records: manifest.totalRecords, maxChangeStamp: manifest.maxChangeStamp, maxChangeDate: manifest.maxChangeDate });
  }
  if (toLoad.length === 0) return withTotals(result);

  const first = toLoad[0]!;
  const entity = entityOf(plan, first);
  for (const unit of toLoad) {
    await deps.ledger.transitionUnit(plan.unitsRunKey, unit.unitId, ['extracted', 'loading'], 'loading');
  }
  const units: StagedUnitRef[] = toLoad.map((u) => ({ unitId: u.unitId, unitPrefix: u.unitPrefix }));
  const deadline = deps.deadline ?? Deadline.none();
  const loaded = await withLease(
    deps.leases,
    request.table,
    plan.executionName,
    deps.leaseTtlMs ?? 120_000,
    async (_lease, leaseLost) => {
      const warehouse = whileLeaseHeld(await deps.openWarehouse(plan.warehouseSecretName), leaseLost);
      try {
        return await deps.loadTable({
          tenant: first.tenant,
          entity,
          table: first.table,
          units,
          runId: plan.runId,
          store: deps.store,
          warehouse,
          deadline,
          // Flows sharing a table may differ: the strictest guard wins.
          maxVanishedShare: Math.min(...toLoad.map((u) => u.maxVanishedShare)),
          log: deps.log,
        });
      } finally {
        await warehouse.close();
      }
    },
    { waitMs: deps.leaseWaitMs ?? 600_000, deadline, log: deps.log },
  );

  for (const unit of loaded.units) {
    await deps.ledger.transitionUnit(plan.unitsRunKey, unit.unitId, ['loading'], 'loaded', { recordsLoaded: unit.records });
    result.units.push({ unitId: unit.unitId, records: unit.records, maxChangeStamp: unit.maxChangeStamp, maxChangeDate: unit.maxChangeDate });
  }
  // Refused by the vanished-keys guard: failed here (FinishRun names them, rerunOf replays them); the
  // table's other units go on to Commit.
  for (const unit of loaded.refused) {
    await deps.ledger.transitionUnit(plan.unitsRunKey, unit.unitId, ['loading'], 'failed', { error: new VanishedKeysError(unit.reason) });
  }
  result.refused = loaded.refused.map((u) => u.unitId);
  result.historyInserted = loaded.historyInserted;
  result.currentInserted = loaded.currentInserted;
  result.currentUpdated = loaded.currentUpdated;
  result.currentSoftDeleted = loaded.currentSoftDeleted;
  deps.log.info('table loaded', { table: request.table, units: loaded.units.length, refused: loaded.refused.length, statements: loaded.statements });
  return withTotals(result);
}

/**
 * The session as the loader sees it under the lease: once a renewal finds the lease lost (it expired and
 * another load took it over), no further statement is sent and the load fails with LeaseLostError. Its
 * units stay "loading"; a rerun loads them again, which the guarded MERGE makes a no-op where done.
 */
function whileLeaseHeld(warehouse: WarehouseSession, leaseLost: AbortSignal): WarehouseSession {
  return {
    get stats() {
      return warehouse.stats;
    },
    execute(sql, params, options) {
      leaseLost.throwIfAborted();
      return warehouse.execute(sql, params, options);
    },
    close: () => warehouse.close(),
  };
}

function withTotals(result: LoadStepResult): LoadStepResult {
  return { ...result, records: result.units.reduce((n, u) => n + u.records, 0) };
}
