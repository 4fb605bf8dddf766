import { afterAll, describe, expect, it } from 'vitest';
import {
  errorSummary,
  LedgerTransitionError,
  RunAlreadyFinishedError,
  runKeyFor,
  RunNotFoundError,
  summarizeUnits,
  type StartRunRequest,
  type UnitRegistration,
} from '#shared/state/runLedger.ts';
import { stateBackends } from '../support/stateBackends.ts';

const T0 = Date.parse('2024-05-01T02:00:00Z');
const DAY = 86_400_000;

function scheduled(overrides: Partial<StartRunRequest> = {}): StartRunRequest {
  const run = { trigger: 'schedule' as const, schedule: 'daily-finance', scheduledTime: '2024-05-01T00:00:00Z', executionName: 'exec-a' };
  return { ...run, runKey: runKeyFor(run), flows: ['invoices', 'gl'], mode: 'incremental', ttlDays: 30, ...overrides };
}

const UNITS: UnitRegistration[] = [
  { unitId: 'supplierInvoices/100', entity: 'supplierInvoices', company: '100', division: '', flow: 'invoices' },
  { unitId: 'supplierInvoices/200', entity: 'supplierInvoices', company: '200', division: '', flow: 'invoices' },
  { unitId: 'glAccounts/100/AAA', entity: 'glAccounts', company: '100', division: 'AAA', flow: 'gl' },
];

async function transitionError(promise: Promise<unknown>): Promise<LedgerTransitionError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(LedgerTransitionError);
  return error as LedgerTransitionError;
}

describe.each(stateBackends())('the run ledger on $name', (backend) => {
  afterAll(() => backend.close());

  async function newLedger(now = () => T0) {
    const state = await backend.fresh();
    return { state, ledger: state.ledger(now) };
  }

  /** A fresh ledger with a scheduled run and its UNITS registered. */
  async function startedRun() {
    const { ledger } = await newLedger();
    const { runKey } = scheduled();
    await ledger.startRun(scheduled());
    await ledger.registerUnits(runKey, UNITS);
    return { ledger, runKey };
  }

  it('recognises a redelivered schedule event as the run it already started', async () => {
    const { ledger } = await newLedger();
    const first = await ledger.startRun(scheduled());
    expect(first).toMatchObject({ created: true, run: { runKey: 'schedule#daily-finance#2024-05-01T00:00:00Z', status: 'running' } });
    // The retried delivery starts another execution with another name, for the same scheduled time.
    const again = await ledger.startRun(scheduled({ executionName: 'exec-b' }));
    expect(again).toEqual({ created: false, existing: expect.objectContaining({ executionName: 'exec-a', status: 'running' }) });
    const nextDay = await ledger.startRun(scheduled({ runKey: runKeyFor({ trigger: 'schedule', executionName: 'x', schedule: 'daily-finance', scheduledTime: '2024-05-02T00:00:00Z' }) }));
    expect(nextDay.created).toBe(true);
  });

  it('keys console runs by execution name', async () => {
    const { ledger } = await newLedger();
    const run = { trigger: 'console' as const, executionName: 'backfill-100-2023' };
    const request = { ...run, runKey: runKeyFor(run), flows: ['invoices'], mode: 'backfill', ttlDays: 30 };
    expect((await ledger.startRun(request)).created).toBe(true);
    expect((await ledger.startRun(request)).created).toBe(false);
    expect(() => runKeyFor({ trigger: 'schedule', executionName: 'x' })).toThrow(/scheduledTime/);
  });

  it('registers units once and walks them through the lifecycle with counts and timings', async () => {
    const { ledger } = await newLedger();
    const { runKey } = scheduled();
    await ledger.startRun(scheduled());
    expect(await ledger.registerUnits(runKey, UNITS)).toEqual({ registered: 3, existing: 0 });
    expect(await ledger.registerUnits(runKey, UNITS)).toEqual({ registered: 0, existing: 3 });

    const id = UNITS[0]!.unitId;
    await ledger.transitionUnit(runKey, id, ['pending'], 'extracting');
    await ledger.transitionUnit(runKey, id, ['extracting'], 'extracting', { recordsExtracted: 500 });
    await ledger.transitionUnit(runKey, id, ['extracting'], 'extracted', { recordsExtracted: 1200, stagedAt: 'runs/T/R/supplierInvoices/100' });
    await ledger.transitionUnit(runKey, id, ['extracted'], 'loading');
    await ledger.transitionUnit(runKey, id, ['loading'], 'loaded', { recordsLoaded: 1200 });
    const committed = await ledger.transitionUnit(runKey, id, ['loaded'], 'committed');
    expect(committed).toMatchObject({
      runKey, unitId: id, entity: 'supplierInvoices', company: '100', division: '', flow: 'invoices', status: 'committed',
      recordsExtracted: 1200, recordsLoaded: 1200, stagedAt: 'runs/T/R/supplierInvoices/100',
    });
    expect(Object.keys(committed.timings).sort()).toEqual(['committed', 'extracted', 'extracting', 'loaded', 'loading', 'pending']);

    const units = await ledger.listUnits(runKey);
    expect(units.map((u) => [u.unitId, u.status]).sort()).toEqual([
      ['glAccounts/100/AAA', 'pending'],
      ['supplierInvoices/100', 'committed'],
      ['supplierInvoices/200', 'pending'],
    ]);
    expect(summarizeUnits(units)).toEqual({ units: 3, byStatus: { committed: 1, pending: 2 }, recordsExtracted: 1200, recordsLoaded: 1200 });
  });

  it('refuses transitions outside the lifecycle and from a status the unit is not in, naming unit, from and to', async () => {
    const { ledger, runKey } = await startedRun();
    const id = UNITS[1]!.unitId;

    const skip = await transitionError(ledger.transitionUnit(runKey, id, ['pending'], 'committed'));
    expect(skip).toMatchObject({ unitId: id, from: ['pending'], to: 'committed', reason: 'not-in-lifecycle' });
    expect(skip.message).toContain('supplierInvoices/200');
    expect(skip.message).toMatch(/from pending to committed/);

    const stale = await transitionError(ledger.transitionUnit(runKey, id, ['extracted'], 'loading'));
    expect(stale).toMatchObject({ actual: 'pending', reason: 'status-changed' });
    expect(stale.message).toMatch(/cannot move from extracted to loading: it is pending/);

    // Two invocations race to start the same unit: exactly one wins.
    const raced = await Promise.allSettled([1, 2, 3].map(() => ledger.transitionUnit(runKey, id, ['pending'], 'extracting')));
    expect(raced.filter((r) => r.status === 'fulfilled')).toHaveLength(1);

    const missing = await transitionError(ledger.transitionUnit(runKey, 'nope/1', ['pending'], 'extracting'));
    expect(missing.reason).toBe('not-registered');
  });

  it('records a failure as a message only and lets a rerun take the unit back to pending', async () => {
    const { ledger, runKey } = await startedRun();
    const id = UNITS[2]!.unitId;
    await ledger.transitionUnit(runKey, id, ['pending'], 'extracting');
    const cause = Object.assign(new Error('token endpoint said: Authorization: Bearer CANARY-ey.J0k3n refresh_token=CANARY-r3fr3sh'), {
      name: 'IonAuthError',
      config: { clientSecret: 'CANARY-client-secret' },
    });
    const failed = await ledger.transitionUnit(runKey, id, ['pending', 'extracting', 'extracted', 'loading', 'loaded'], 'failed', { error: cause });
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual({ name: 'IonAuthError', message: expect.stringContaining('token endpoint said') });
    expect(JSON.stringify(await ledger.getUnit(runKey, id))).not.toContain('CANARY');

    const rerun = await ledger.transitionUnit(runKey, id, ['failed'], 'pending');
    expect(rerun.status).toBe('pending');
    expect(rerun.error).toBeUndefined();
    expect(errorSummary('x'.repeat(5_000)).message.length).toBeLessThanOrEqual(1_001);
  });

  it('moves a unit only for the execution that holds it: once a rerun claimed it, the planning execution cannot move it', async () => {
    const { ledger, runKey } = await startedRun();
    const id = UNITS[0]!.unitId;
    // Unclaimed: the planning execution (holder null) holds it; a rerun does not.
    await ledger.transitionUnit(runKey, id, ['pending'], 'extracting', { holder: null });
    const early = await transitionError(ledger.transitionUnit(runKey, id, ['extracting'], 'extracted', { holder: 'rerun-1' }));
    expect(early).toMatchObject({ reason: 'claimed-elsewhere', heldBy: null, actual: 'extracting' });
    await ledger.transitionUnit(runKey, id, ['extracting'], 'failed', { holder: null, error: new Error('stopped') });
    await ledger.transitionUnit(runKey, id, ['failed'], 'pending', { claimedBy: 'rerun-1' });
    await ledger.transitionUnit(runKey, id, ['pending'], 'extracting', { holder: 'rerun-1' });
    await ledger.transitionUnit(runKey, id, ['extracting'], 'extracted', { holder: 'rerun-1' });
    await ledger.transitionUnit(runKey, id, ['extracted'], 'loading', { holder: 'rerun-1' });

    // The stopped execution's Load, still in flight, finishes: the unit is "loading" as it expects, but the rerun's.
    const stale = await transitionError(ledger.transitionUnit(runKey, id, ['loading'], 'loaded', { holder: null }));
    expect(stale).toMatchObject({ reason: 'claimed-elsewhere', heldBy: 'rerun-1', actual: 'loading' });
    expect(stale.message).toMatch(/cannot move from loading to loaded: rerun "rerun-1" holds it \(it is loading\)/);
    expect((await transitionError(ledger.transitionUnit(runKey, id, ['loading'], 'failed', { holder: 'rerun-2' }))).reason).toBe('claimed-elsewhere');
    expect(await ledger.getUnit(runKey, id)).toMatchObject({ status: 'loading', claimedBy: 'rerun-1' });

    expect((await ledger.transitionUnit(runKey, id, ['loading'], 'loaded', { holder: 'rerun-1' })).status).toBe('loaded');
    // Without a holder (the claim itself, tools), any execution's unit moves.
    expect((await ledger.transitionUnit(runKey, id, ['loaded'], 'committed')).status).toBe('committed');
  });

  it('finishes a run once (idempotently for the same status) with its summary', async () => {
    const { ledger, runKey } = await startedRun();
    const summary = summarizeUnits(await ledger.listUnits(runKey), '1 unit failed');
    const done = await ledger.finishRun(runKey, 'failed', summary);
    expect(done).toMatchObject({ status: 'failed', summary, finishedAt: expect.any(String) });
    expect((await ledger.finishRun(runKey, 'failed', summary)).finishedAt).toBe(done.finishedAt);
    await expect(ledger.finishRun(runKey, 'succeeded', summary)).rejects.toBeInstanceOf(RunAlreadyFinishedError);
    await expect(ledger.finishRun('never-started', 'succeeded', summary)).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(ledger.registerUnits('never-started', UNITS)).rejects.toBeInstanceOf(RunNotFoundError);
  });

  it('treats items past their ttl as gone, though DynamoDB has not deleted them yet', async () => {
    const { state, ledger } = await newLedger();
    const { runKey } = scheduled();
    await ledger.startRun(scheduled({ ttlDays: 7 }));
    await ledger.registerUnits(runKey, UNITS);
    expect((await ledger.getRun(runKey))?.expiresAt).toBe(new Date(T0 + 7 * DAY).toISOString());

    const before = state.ledger(() => T0 + 7 * DAY - 1_000);
    expect((await before.getRun(runKey))?.executionName).toBe('exec-a');
    expect(await before.listUnits(runKey)).toHaveLength(3);

    const later = state.ledger(() => T0 + 7 * DAY + 1_000);
    expect(await later.getRun(runKey)).toBeUndefined();
    expect(await later.listUnits(runKey)).toEqual([]);
    expect((await transitionError(later.transitionUnit(runKey, UNITS[0]!.unitId, ['pending'], 'extracting'))).reason).toBe('not-registered');
    // The key is free again: a run with the same key starts afresh, with none of the old units.
    expect((await later.startRun(scheduled({ executionName: 'exec-next' }))).created).toBe(true);
    expect(await later.registerUnits(runKey, UNITS.slice(0, 1))).toEqual({ registered: 1, existing: 0 });
    expect((await later.listUnits(runKey)).map((u) => u.unitId)).toEqual([UNITS[0]!.unitId]);
  });
});
