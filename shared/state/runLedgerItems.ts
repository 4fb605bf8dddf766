// The run ledger's items, one layout for every store (DynamoDB, the state folder): keys, the item a run and
// a unit start as, the optional fields a transition sets, and the records read back from items. The stores
// differ only in how they make each check-and-write atomic.
import type { RunRecord, StartRunRequest, TransitionFields, UnitRecord, UnitRegistration } from './runLedger.ts';
import { keyOf, ttlAfterDays } from './stateTable.ts';

export type LedgerItem = Record<string, unknown>;

export const RUN_SK = 'run';

export function runPk(runKey: string): string {
  return keyOf('run', runKey);
}

export function unitSk(unitId: string): string {
  return keyOf('unit', unitId);
}

/** The item of a run that starts now; its ttl is the whole run's (units get the same). */
export function newRunItem(request: StartRunRequest, nowMs: number): LedgerItem {
  return {
    pk: runPk(request.runKey),
    sk: RUN_SK,
    kind: 'run',
    runKey: request.runKey,
    executionName: request.executionName,
    trigger: request.trigger,
    ...(request.schedule === undefined ? {} : { schedule: request.schedule }),
    ...(request.scheduledTime === undefined ? {} : { scheduledTime: request.scheduledTime }),
    flows: [...request.flows],
    mode: request.mode,
    status: 'running',
    startedAt: new Date(nowMs).toISOString(),
    ttl: ttlAfterDays(nowMs, request.ttlDays),
  };
}

/** The item of a unit registered now, pending, living as long as its run (`ttl`). */
export function newUnitItem(runKey: string, unit: UnitRegistration, nowMs: number, ttl: number): LedgerItem {
  const at = new Date(nowMs).toISOString();
  return {
    pk: runPk(runKey),
    sk: unitSk(unit.unitId),
    kind: 'unit',
    runKey,
    unitId: unit.unitId,
    entity: unit.entity,
    company: unit.company,
    division: unit.division,
    ...(unit.flow === undefined ? {} : { flow: unit.flow }),
    status: 'pending',
    timings: { pending: at },
    updatedAt: at,
    ttl,
  };
}

/** The optional fields a transition writes, those given only. */
export function transitionValues(fields: TransitionFields): Partial<Record<'recordsExtracted' | 'recordsLoaded' | 'quality' | 'stagedAt' | 'claimedBy', unknown>> {
  const values: Partial<Record<'recordsExtracted' | 'recordsLoaded' | 'quality' | 'stagedAt' | 'claimedBy', unknown>> = {};
  for (const name of ['recordsExtracted', 'recordsLoaded', 'quality', 'stagedAt', 'claimedBy'] as const) {
    if (fields[name] !== undefined) values[name] = fields[name];
  }
  return values;
}

export function toRun(item: LedgerItem): RunRecord {
  const { pk: _pk, sk: _sk, kind: _kind, ttl, ...rest } = item;
  return { ...(rest as Omit<RunRecord, 'expiresAt'>), expiresAt: new Date((typeof ttl === 'number' ? ttl : 0) * 1000).toISOString() };
}

export function toUnit(item: LedgerItem): UnitRecord {
  const { pk: _pk, sk: _sk, kind: _kind, ttl: _ttl, writeId: _writeId, ...rest } = item;
  return structuredClone(rest) as unknown as UnitRecord;
}
