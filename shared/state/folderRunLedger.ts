// RunLedger over the folder state table (folderStateTable.ts), with the items and guarantees of
// DynamoRunLedger: a run is created only when no live run has its key, a unit moves only from one of the
// expected statuses along the lifecycle, finishing is idempotent for the same status, and every read ignores
// items whose ttl has passed. Each check and its write are one change of the run's partition.
import type { FolderStateTable, Partition, StateItem } from './folderStateTable.ts';
import {
  errorSummary,
  isAllowedTransition,
  LedgerTransitionError,
  RunAlreadyFinishedError,
  RunNotFoundError,
  type RunLedger,
  type RunRecord,
  type RunStatus,
  type RunSummary,
  type StartRunRequest,
  type StartRunResult,
  type TransitionFields,
  type UnitRecord,
  type UnitRegistration,
  type UnitStatus,
} from './runLedger.ts';
import { newRunItem, newUnitItem, RUN_SK, runPk, toRun, toUnit, transitionValues, unitSk } from './runLedgerItems.ts';
import { isLive } from './stateTable.ts';

export interface FolderRunLedgerOptions {
  table: FolderStateTable;
  now?: () => number;
}

export class FolderRunLedger implements RunLedger {
  private readonly table: FolderStateTable;
  private readonly now: () => number;

  constructor(options: FolderRunLedgerOptions) {
    this.table = options.table;
    this.now = options.now ?? Date.now;
  }

  async startRun(request: StartRunRequest): Promise<StartRunResult> {
    const nowMs = this.now();
    const pk = runPk(request.runKey);
    return this.table.change(pk, (partition): StartRunResult => {
      const existing = this.live(partition, RUN_SK, nowMs);
      if (existing) return { created: false, existing: toRun(existing) };
      // A run key whose item has expired is free again.
      const item: StateItem = newRunItem(request, nowMs);
      partition.set(RUN_SK, item);
      return { created: true, run: toRun(item) };
    });
  }

  async getRun(runKey: string): Promise<RunRecord | undefined> {
    const item = await this.table.get(runPk(runKey), RUN_SK);
    return item !== undefined && isLive(item, this.now()) ? toRun(item) : undefined;
  }

  async registerUnits(runKey: string, units: readonly UnitRegistration[]): Promise<{ registered: number; existing: number }> {
    const nowMs = this.now();
    const pk = runPk(runKey);
    return this.table.change(pk, (partition) => {
      const run = this.live(partition, RUN_SK, nowMs);
      if (!run) throw new RunNotFoundError(runKey, 'register its units');
      let registered = 0;
      let existing = 0;
      for (const unit of units) {
        const sk = unitSk(unit.unitId);
        if (this.live(partition, sk, nowMs)) {
          existing++;
          continue;
        }
        // Units live as long as their run.
        partition.set(sk, newUnitItem(runKey, unit, nowMs, run.ttl as number));
        registered++;
      }
      return { registered, existing };
    });
  }

  async transitionUnit(
    runKey: string,
    unitId: string,
    from: readonly UnitStatus[],
    to: UnitStatus,
    fields: TransitionFields = {},
  ): Promise<UnitRecord> {
    if (from.length === 0 || from.some((status) => !isAllowedTransition(status, to))) {
      throw new LedgerTransitionError(runKey, unitId, from, to, undefined, 'not-in-lifecycle');
    }
    const nowMs = this.now();
    const at = new Date(nowMs).toISOString();
    const sk = unitSk(unitId);
    return this.table.change(runPk(runKey), (partition) => {
      const current = this.live(partition, sk, nowMs);
      if (!current) throw new LedgerTransitionError(runKey, unitId, from, to, undefined, 'not-registered');
      const status = current.status as UnitStatus;
      const heldBy = (current.claimedBy as string | undefined) ?? null;
      if (fields.holder !== undefined && fields.holder !== heldBy) {
        throw new LedgerTransitionError(runKey, unitId, from, to, status, 'claimed-elsewhere', heldBy);
      }
      if (!from.includes(status)) throw new LedgerTransitionError(runKey, unitId, from, to, status, 'status-changed');
      const next: StateItem = {
        ...current,
        status: to,
        updatedAt: at,
        timings: { ...(current.timings as Record<string, string>), [to]: at },
        ...transitionValues(fields),
      };
      if (to === 'failed') next.error = errorSummary(fields.error ?? new Error('failed (no error given)'));
      // A rerun starts clean: the previous failure stays in the logs and the failed run's summary.
      if (to === 'pending') delete next.error;
      partition.set(sk, next);
      return toUnit(next);
    });
  }

  async getUnit(runKey: string, unitId: string): Promise<UnitRecord | undefined> {
    const item = await this.table.get(runPk(runKey), unitSk(unitId));
    return item !== undefined && isLive(item, this.now()) ? toUnit(item) : undefined;
  }

  async listUnits(runKey: string): Promise<UnitRecord[]> {
    const nowMs = this.now();
    return (await this.table.query(runPk(runKey), 'unit#')).filter((item) => isLive(item, nowMs)).map(toUnit);
  }

  async finishRun(runKey: string, status: Exclude<RunStatus, 'running'>, summary: RunSummary): Promise<RunRecord> {
    const nowMs = this.now();
    return this.table.change(runPk(runKey), (partition) => {
      const run = this.live(partition, RUN_SK, nowMs);
      if (!run) throw new RunNotFoundError(runKey, `mark it ${status}`);
      if (run.status !== 'running' && run.status !== status) throw new RunAlreadyFinishedError(runKey, run.status as RunStatus, status);
      const next: StateItem = { ...run, status, finishedAt: run.finishedAt ?? new Date(nowMs).toISOString(), summary: structuredClone(summary) };
      partition.set(RUN_SK, next);
      return toRun(next);
    });
  }

  private live(partition: Partition, sk: string, nowMs: number): StateItem | undefined {
    const item = partition.get(sk);
    return item !== undefined && isLive(item, nowMs) ? item : undefined;
  }
}
