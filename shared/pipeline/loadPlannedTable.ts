// Load: one target table with all of its staged units of this execution, under the table's lease (one
// writer per table across Lambdas and local runs), through the loader (shared/load/loadTable.ts). It
// answers with ids, counts and the change stamps the load committed, which Commit turns into watermarks.
// A load that cannot finish before the invocation's deadline stores a checkpoint (what it staged, and the
// lease it keeps holding) and answers 'continue': the state machine invokes Load again, as it does Extract.
import { Readable } from 'node:stream';
import { parseLoadCheckpoint } from '../load/loadCheckpoint.ts';
import type { CompanyQuality, LoadCheckpoint, LoadOutcome, StagedUnitRef, WarehouseSession } from '../load/loadTypes.ts';
import { ControlTotalError, VanishedKeysError } from '../load/loadErrors.ts';
import { SyncError } from '../errors/syncError.ts';
import { Deadline } from '../runtime/deadline.ts';
import { joinKey } from '../staging/blobStore.ts';
import { readManifest } from '../staging/stagedUnitReader.ts';
import { withLease, type Lease } from '../state/tableLease.ts';
import { tableKey } from '../config/targetTable.ts';
import type { PipelineDeps } from './pipelineDeps.ts';
import { entityOf, holdsUnit, unitHolder } from './runPlan.ts';

/** One table may continue this many times: a load that needs more is stuck, or needs a narrower backfill. */
export const MAX_LOAD_INVOCATIONS = 50;
/** How long a continuing load keeps the table's lease between two invocations (wall-clock ms). */
export const LEASE_HANDOVER_MS = 10 * 60_000;

export interface LoadStepRequest {
  plan: string;
  table: string;
  /** Staging key of the checkpoint to continue from (present on a continuation). */
  checkpoint?: string;
  /** Invocations of this load so far. */
  invocation?: number;
}

/** Staged (nothing merged yet): the state machine invokes Load again with this checkpoint. */
export interface LoadContinueResult {
  plan: string;
  table: string;
  status: 'continue';
  checkpoint: string;
  invocation: number;
  /** Records staged so far. */
  records: number;
}

/** What a continuing load stores between invocations. */
interface StoredLoadCheckpoint {
  load: LoadCheckpoint;
  lease: Lease;
}

export class LoadContinuationLimitError extends SyncError {
  override name = 'LoadContinuationLimitError';
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
  status: 'complete';
  units: LoadedUnit[];
  /** Units the vanished-keys guard or the control totals refused: failed in the ledger, not committed. */
  refused: string[];
  /** Of those, the units whose control totals differed (the ControlTotalMismatches metric). */
  controlTotalMismatches: number;
  records: number;
  historyInserted: number;
  currentInserted: number;
  currentUpdated: number;
  currentSoftDeleted: number;
  /** Data quality per company of the flow (only companies with something to report): see CompanyQuality. */
  quality: (CompanyQuality & { flow: string })[];
}

export type LoadDeps = Pick<PipelineDeps, 'plans' | 'ledger' | 'leases' | 'store' | 'openWarehouse' | 'loadTable' | 'log'> & {
  deadline?: Deadline;
  /** How long to wait for another load of the table (nominal ms). Default 10 minutes. */
  leaseWaitMs?: number;
  /** Lease lifetime, renewed while the load runs (wall-clock ms). Default 2 minutes. */
  leaseTtlMs?: number;
};

export async function loadPlannedTable(request: LoadStepRequest, deps: LoadDeps): Promise<LoadStepResult | LoadContinueResult> {
  const plan = await deps.plans.get(request.plan);
  const invocation = (request.invocation ?? 0) + 1;
  if (invocation > MAX_LOAD_INVOCATIONS) {
    throw new LoadContinuationLimitError(
      `${request.table}: the load is still not done after ${MAX_LOAD_INVOCATIONS} invocations; rerun its units with a narrower backfill window ` +
        '("since"/"until"), or switch the warehouse to loadMode "copy"',
    );
  }
  deps.log.appendKeys({ runId: plan.runId });
  // Only units this execution holds: a stopped execution's Load still in flight leaves its rerun's units alone.
  const holder = unitHolder(plan);
  const statuses = new Map((await deps.ledger.listUnits(plan.unitsRunKey)).filter((u) => holdsUnit(plan, u)).map((u) => [u.unitId, u.status]));
  const tableUnits = plan.units.filter((u) => tableKey(u.table) === request.table);
  const toLoad = tableUnits.filter((u) => statuses.get(u.unitId) === 'extracted' || statuses.get(u.unitId) === 'loading');
  // Loaded by an earlier attempt whose answer was lost: the manifest has the stamps that load committed.
  const alreadyLoaded = tableUnits.filter((u) => statuses.get(u.unitId) === 'loaded');
  const result: LoadStepResult = {
    plan: request.plan, table: request.table, status: 'complete', units: [], refused: [], controlTotalMismatches: 0, records: 0,
    historyInserted: 0, currentInserted: 0, currentUpdated: 0, currentSoftDeleted: 0, quality: [],
  };
  for (const unit of alreadyLoaded) {
    const manifest = await readManifest(deps.store, unit.unitPrefix);
    result.units.push({ unitId: unit.unitId, records: manifest.totalRecords, maxChangeStamp: manifest.maxChangeStamp, maxChangeDate: manifest.maxChangeDate });
  }
  if (toLoad.length === 0) return withTotals(result);

  const first = toLoad[0]!;
  const entity = entityOf(plan, first);
  for (const unit of toLoad) {
    await deps.ledger.transitionUnit(plan.unitsRunKey, unit.unitId, ['extracted', 'loading'], 'loading', { holder });
  }
  const units: StagedUnitRef[] = toLoad.map((u) => ({ unitId: u.unitId, unitPrefix: u.unitPrefix }));
  const deadline = deps.deadline ?? Deadline.none();
  const stored = request.checkpoint ? await readStoredCheckpoint(deps, request.checkpoint, plan.executionName, request.table) : undefined;
  let held: Lease | undefined;
  const outcome: LoadOutcome = await withLease(
    deps.leases,
    request.table,
    plan.executionName,
    deps.leaseTtlMs ?? 120_000,
    async (lease, leaseLost) => {
      held = lease;
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
          mode: plan.loadMode,
          // RefreshMarts writes the control totals and drops the working table once the run's tables are loaded.
          controlTotals: 'defer',
          // One working table per execution and table, the same in every invocation of this load.
          loadId: `${plan.executionName}|${request.table}`,
          ...(stored ? { resume: stored.load } : {}),
          // Flows sharing a table may differ: the strictest guard wins.
          maxVanishedShare: Math.min(...toLoad.map((u) => u.maxVanishedShare)),
          log: deps.log,
        });
      } finally {
        await warehouse.close();
      }
    },
    {
      waitMs: deps.leaseWaitMs ?? 600_000, deadline, log: deps.log,
      ...(stored ? { resume: stored.lease } : {}),
      handOver: (o) => (o.status === 'continue' ? LEASE_HANDOVER_MS : undefined),
    },
  );

  if (outcome.status === 'continue') {
    const key = joinKey('runs', first.tenant, plan.runId, '_checkpoints', 'load', encodeURIComponent(request.table), `${invocation}.json`);
    const checkpoint: StoredLoadCheckpoint = { load: outcome.checkpoint, lease: held! };
    await deps.store.put(key, Readable.from([JSON.stringify(checkpoint)]));
    deps.log.info('table load continues', { table: request.table, invocation, staged: outcome.stagedRecords, statements: outcome.statements });
    return { plan: request.plan, table: request.table, status: 'continue', checkpoint: key, invocation, records: outcome.stagedRecords };
  }
  const loaded = outcome;

  for (const unit of loaded.units) {
    // A company-scoped unit is its company: the company's data-quality figures go into its ledger record.
    const planned = tableUnits.find((u) => u.unitId === unit.unitId);
    const q = planned && planned.division === '' ? loaded.quality.find((c) => c.company === planned.company) : undefined;
    const quality = q ? { changedWithoutNewStamp: q.changedWithoutNewStamp, keysDeletedAtSource: q.softDeleted } : undefined;
    await deps.ledger.transitionUnit(plan.unitsRunKey, unit.unitId, ['loading'], 'loaded', { holder, recordsLoaded: unit.records, ...(quality ? { quality } : {}) });
    result.units.push({ unitId: unit.unitId, records: unit.records, maxChangeStamp: unit.maxChangeStamp, maxChangeDate: unit.maxChangeDate });
  }
  // Refused by the vanished-keys guard or the control totals: failed here (FinishRun names them, rerunOf replays them); the
  // table's other units go on to Commit.
  for (const unit of loaded.refused) {
    const error = unit.kind === 'control-totals' ? new ControlTotalError(unit.reason) : new VanishedKeysError(unit.reason);
    await deps.ledger.transitionUnit(plan.unitsRunKey, unit.unitId, ['loading'], 'failed', { error, holder });
  }
  result.refused = loaded.refused.map((u) => u.unitId);
  result.controlTotalMismatches = loaded.refused.filter((u) => u.kind === 'control-totals').length;
  result.historyInserted = loaded.historyInserted;
  result.currentInserted = loaded.currentInserted;
  result.currentUpdated = loaded.currentUpdated;
  result.currentSoftDeleted = loaded.currentSoftDeleted;
  result.quality = loaded.quality.map((q) => ({ flow: first.flow, ...q }));
  for (const q of result.quality) {
    // What a finance user must know: numbers that were wrong in the warehouse until this load (see README, data quality).
    deps.log.warn('data quality: changes without a new change stamp and keys deleted at the source', { table: request.table, ...q });
  }
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
    ...(warehouse.workspace ? { workspace: warehouse.workspace } : {}),
    execute(sql, params, options) {
      leaseLost.throwIfAborted();
      return warehouse.execute(sql, params, options);
    },
    close: () => warehouse.close(),
  };
}

async function readStoredCheckpoint(deps: LoadDeps, key: string, executionName: string, table: string): Promise<StoredLoadCheckpoint> {
  const chunks: Buffer[] = [];
  for await (const chunk of await deps.store.get(key)) chunks.push(chunk as Buffer);
  const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { load?: unknown; lease?: Lease };
  const where = deps.store.describe(key);
  const load = parseLoadCheckpoint(value.load, `${executionName}|${table}`, where);
  if (!value.lease || value.lease.tableName !== table || value.lease.holder !== executionName) throw new Error(`${where} holds no lease of ${executionName} on ${table}`);
  return { load, lease: value.lease };
}

function withTotals(result: LoadStepResult): LoadStepResult {
  return { ...result, records: result.units.reduce((n, u) => n + u.records, 0) };
}
