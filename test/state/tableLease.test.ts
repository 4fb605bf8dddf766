import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { Deadline, DeadlineExceededError } from '#shared/runtime/deadline.ts';
import { LeaseLostError, LeaseUnavailableError, withLease } from '#shared/state/tableLease.ts';
import { stateBackends } from '../support/stateBackends.ts';

// Waits (waitMs, backoff) are nominal and scaled by CLOUDSUITE_SYNC_TIME_SCALE (0.001 in tests);
// lease ttls are wall-clock milliseconds.

const TABLE = 'main.finance.supplier_invoices';

describe.each(stateBackends())('the table lease on $name', (backend) => {
  afterAll(() => backend.close());

  async function newLeases(now?: () => number) {
    const state = await backend.fresh();
    return { state, leases: state.leases(now) };
  }

  it('grants a free lease to one holder, refuses a second, and frees it on release', async () => {
    const { leases } = await newLeases();
    const lease = await leases.acquire(TABLE, 'exec-a/load', 60_000);
    expect(lease).toMatchObject({ tableName: TABLE, holder: 'exec-a/load' });
    expect(await leases.acquire(TABLE, 'exec-b/load', 60_000)).toBeUndefined();
    expect(await leases.acquire('main.finance.gl_accounts', 'exec-b/load', 60_000)).toBeDefined();
    expect(await leases.current(TABLE)).toMatchObject({ holder: 'exec-a/load' });
    expect(await leases.release(lease!)).toBe(true);
    expect(await leases.current(TABLE)).toBeUndefined();
    expect(await leases.acquire(TABLE, 'exec-b/load', 60_000)).toBeDefined();
  });

  it('lets another holder take over an expired lease; the old holder can then neither renew nor release it', async () => {
    const t0 = Date.parse('2024-05-01T02:00:00Z');
    const { state, leases: atT0 } = await newLeases(() => t0);
    const old = await atT0.acquire(TABLE, 'exec-crashed', 30_000);
    expect(old).toBeDefined();
    const later = state.leases(() => t0 + 30_001);
    expect(await later.current(TABLE)).toBeUndefined();
    const taken = await later.acquire(TABLE, 'exec-new', 30_000);
    expect(taken).toMatchObject({ holder: 'exec-new' });
    await expect(later.renew(old!, 30_000)).rejects.toBeInstanceOf(LeaseLostError);
    expect(await later.release(old!)).toBe(false);
    expect(await later.current(TABLE)).toMatchObject({ holder: 'exec-new' });
    const renewed = await later.renew(taken!, 60_000);
    expect(renewed.expiresAtMs).toBe(t0 + 30_001 + 60_000);
  });

  it('serializes two concurrent withLease calls on one table: their critical sections never overlap', async () => {
    const { leases } = await newLeases();
    const sections: { holder: string; start: number; end: number }[] = [];
    const critical = (holder: string) => async () => {
      const start = performance.now();
      await delay(60);
      sections.push({ holder, start, end: performance.now() });
      return holder;
    };
    const options = { waitMs: 600_000, baseDelayMs: 1_000, maxDelayMs: 5_000 };
    const results = await Promise.all([
      withLease(leases, TABLE, 'exec-a', 30_000, critical('exec-a'), options),
      withLease(leases, TABLE, 'exec-b', 30_000, critical('exec-b'), options),
      withLease(leases, TABLE, 'exec-c', 30_000, critical('exec-c'), options),
    ]);
    expect(results.sort()).toEqual(['exec-a', 'exec-b', 'exec-c']);
    sections.sort((a, b) => a.start - b.start);
    for (let i = 1; i < sections.length; i++) expect(sections[i]!.start).toBeGreaterThanOrEqual(sections[i - 1]!.end);
    expect(await leases.current(TABLE)).toBeUndefined();
  });

  it('throws LeaseUnavailableError naming the holder when the lease is not free within the wait', async () => {
    const { leases } = await newLeases();
    await leases.acquire(TABLE, 'exec-long-load', 60_000);
    let ran = false;
    const started = Date.now();
    const error = await withLease(leases, TABLE, 'exec-b', 30_000, async () => {
      ran = true;
    }, { waitMs: 20_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseUnavailableError);
    expect((error as LeaseUnavailableError).current?.holder).toBe('exec-long-load');
    expect((error as Error).message).toMatch(/main\.finance\.supplier_invoices.*held by exec-long-load/);
    expect(ran).toBe(false);
    // 20 s nominal at the test time scale of 0.001 is 20 ms real: the wait is bounded.
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('stops waiting at the caller\'s deadline rather than sleeping past it', async () => {
    const { leases } = await newLeases();
    await leases.acquire(TABLE, 'exec-long-load', 60_000);
    const error = await withLease(leases, TABLE, 'exec-b', 30_000, async () => undefined, {
      waitMs: 600_000_000,
      deadline: Deadline.in(30),
      baseDelayMs: 1_000_000,
      maxDelayMs: 1_000_000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
  });

  it('renews the lease while the work runs longer than its ttl, and releases it even when the work fails', async () => {
    const { leases } = await newLeases();
    let contender: unknown = 'not tried';
    // The work outlasts the 400 ms ttl more than twice over; only renewals keep the lease.
    const failure = await withLease(leases, TABLE, 'exec-a', 400, async (_lease, signal) => {
      await delay(1_000);
      contender = await leases.acquire(TABLE, 'exec-b', 400);
      expect(signal.aborted).toBe(false);
      throw new Error('MERGE failed');
    }, { waitMs: 1_000, renewEveryMs: 50 }).catch((e: unknown) => e);
    expect((failure as Error).message).toBe('MERGE failed');
    expect(contender).toBeUndefined();
    expect(await leases.current(TABLE)).toBeUndefined();
  });

  it('aborts the work\'s signal when the lease is lost to another holder', async () => {
    const t = { now: Date.now() };
    const { state, leases } = await newLeases(() => t.now);
    const thief = state.leases(() => t.now + 10_000);
    const reason = await withLease(leases, TABLE, 'exec-a', 1_000, async (_lease, signal) => {
      await thief.acquire(TABLE, 'exec-b', 60_000);
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return signal.reason;
    }, { waitMs: 1_000, renewEveryMs: 20 });
    expect(reason).toBeInstanceOf(LeaseLostError);
    expect(await leases.current(TABLE)).toMatchObject({ holder: 'exec-b' });
  });

  describe('handed over between invocations of one load', () => {
  it('is kept (not released) when the work continues, renewed by the next invocation, and released at the end', async () => {
    const { leases } = await newLeases();
    let handed: import('#shared/state/tableLease.ts').Lease | undefined;
    await withLease(leases, TABLE, 'exec-a', 60_000, async (lease) => ((handed = lease), 'continue'), {
      waitMs: 1_000, handOver: (r) => (r === 'continue' ? 600_000 : undefined),
    });
    expect(await leases.current(TABLE)).toMatchObject({ holder: 'exec-a' });
    expect(await leases.acquire(TABLE, 'exec-b', 60_000)).toBeUndefined(); // nobody loads the table in between
    let renewedToken: string | undefined;
    await withLease(leases, TABLE, 'exec-a', 60_000, async (lease) => ((renewedToken = lease.token), 'done'), { waitMs: 1_000, resume: handed!, handOver: () => undefined });
    expect(renewedToken).toBe(handed!.token);
    expect(await leases.current(TABLE)).toBeUndefined();
  });

  it('is waited for again when it was lost between invocations', async () => {
    const t = { now: Date.parse('2024-05-01T02:00:00Z') };
    const { leases } = await newLeases(() => t.now);
    let handed: import('#shared/state/tableLease.ts').Lease | undefined;
    await withLease(leases, TABLE, 'exec-a', 60_000, async (lease) => ((handed = lease), 1), { waitMs: 1_000, handOver: () => 1_000 });
    t.now += 5_000; // the handover expired and another load took the table, then finished
    const other = await leases.acquire(TABLE, 'exec-b', 60_000);
    await leases.release(other!);
    let token: string | undefined;
    await withLease(leases, TABLE, 'exec-a', 60_000, async (lease) => ((token = lease.token), 2), { waitMs: 1_000, resume: handed! });
    expect(token).toBeDefined();
    expect(token).not.toBe(handed!.token);
  });
});
});
