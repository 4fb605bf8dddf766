import { afterAll, describe, expect, it } from 'vitest';
import { windowStart, type WatermarkKey, type WatermarkStore } from '#shared/state/watermarkStore.ts';
import { stateBackends } from '../support/stateBackends.ts';

const invoices: WatermarkKey = { tenant: 'ACME_PRD', entity: 'supplierInvoices', company: '100', division: '' };

/** A change stamp as extraction builds it: LMDT (8) + CHNO (5) + LMTS (18), zero-padded. */
function stamp(date: string, chno: number, lmts: bigint): string {
  return date + String(chno).padStart(5, '0') + lmts.toString().padStart(18, '0');
}

function mark(date: string, chno: number, lmts: bigint, runId = 'run-1') {
  return { changeDate: date, changeStamp: stamp(date, chno, lmts), runId };
}

describe.each(stateBackends())('the watermark store on $name', (backend) => {
  afterAll(() => backend.close());

  async function newStore(): Promise<WatermarkStore> {
    return (await backend.fresh()).watermarks();
  }

  it('has no watermark before the first advance, then stores the mark with the run that read it', async () => {
    const store = await newStore();
    expect(await store.get(invoices)).toBeUndefined();
    const result = await store.advance(invoices, mark('20240501', 3, 20240501101500123n));
    expect(result.advanced).toBe(true);
    expect(await store.get(invoices)).toEqual({ ...mark('20240501', 3, 20240501101500123n), updatedAt: expect.any(String) });
  });

  it('moves only forward: an older or equal mark is a no-op that reports the stored one', async () => {
    const store = await newStore();
    await store.advance(invoices, mark('20240502', 1, 1n, 'run-new'));
    const older = await store.advance(invoices, mark('20240501', 99, 999999999999999999n, 'run-old'));
    expect(older).toEqual({ advanced: false, current: expect.objectContaining({ changeStamp: stamp('20240502', 1, 1n), runId: 'run-new' }) });
    const same = await store.advance(invoices, mark('20240502', 1, 1n, 'run-again'));
    expect(same.advanced).toBe(false);
    expect((await store.get(invoices))?.runId).toBe('run-new');
    // LMTS beyond 2^53 still orders correctly: stamps are compared as fixed-width strings.
    const later = await store.advance(invoices, mark('20240502', 1, 9007199254740993n, 'run-later'));
    expect(later.advanced).toBe(true);
  });

  it('ends at the largest of 20 concurrent advances with random stamps', async () => {
    const store = await newStore();
    const marks = Array.from({ length: 20 }, (_, i) => {
      const day = `202405${String(1 + Math.floor(Math.random() * 28)).padStart(2, '0')}`;
      return mark(day, Math.floor(Math.random() * 100), BigInt(Math.floor(Math.random() * 1e15)) * 1000n, `run-${i}`);
    });
    const results = await Promise.all(marks.map((m) => store.advance(invoices, m)));
    const max = marks.map((m) => m.changeStamp).sort().at(-1);
    expect((await store.get(invoices))?.changeStamp).toBe(max);
    for (const [i, result] of results.entries()) {
      // Whoever lost learned of a stamp at least as new as its own.
      if (!result.advanced) expect(result.current.changeStamp >= marks[i]!.changeStamp).toBe(true);
    }
    expect(results.some((r) => r.advanced)).toBe(true);
  });

  it('keeps separate marks per tenant, entity, company and division, and lists a tenant\'s marks', async () => {
    const store = await newStore();
    const keys: WatermarkKey[] = [
      invoices,
      { ...invoices, division: 'AAA' },
      { ...invoices, company: '200' },
      { ...invoices, entity: 'purchaseOrders' },
      { ...invoices, tenant: 'OTHER_TST' },
      // A '#' in a value cannot make two keys collide.
      { ...invoices, company: '1#0', division: '0' },
      { ...invoices, company: '1', division: '0#0' },
    ];
    for (const [i, key] of keys.entries()) await store.advance(key, mark('20240501', i, 0n, `run-${i}`));
    for (const [i, key] of keys.entries()) expect((await store.get(key))?.runId).toBe(`run-${i}`);
    const listed = await store.list('ACME_PRD');
    expect(listed).toHaveLength(6);
    expect(listed.find((w) => w.division === 'AAA')).toMatchObject({ entity: 'supplierInvoices', company: '100', runId: 'run-1' });
  });

  it('rejects a change date that is not a yyyyMMdd calendar date', async () => {
    const store = await newStore();
    await expect(store.advance(invoices, { changeDate: '2024-05-01', changeStamp: 'x', runId: 'r' })).rejects.toThrow(/yyyyMMdd/);
    await expect(store.advance(invoices, { changeDate: '20240230', changeStamp: 'x', runId: 'r' })).rejects.toThrow(/calendar date/);
  });
});

describe('windowStart', () => {
  it('subtracts the overlap in calendar days across month, year and leap-day boundaries', () => {
    expect(windowStart({ changeDate: '20240501' }, 0)).toBe('20240501');
    expect(windowStart({ changeDate: '20240301' }, 1)).toBe('20240229');
    expect(windowStart({ changeDate: '20230301' }, 1)).toBe('20230228');
    expect(windowStart({ changeDate: '20240103' }, 3)).toBe('20231231');
    expect(windowStart({ changeDate: '20240501' }, 31)).toBe('20240331');
  });

  it('gives the same day whatever the process time zone, across DST changes', () => {
    const previous = process.env.TZ;
    try {
      for (const tz of ['UTC', 'America/Los_Angeles', 'Europe/Stockholm', 'Pacific/Kiritimati', 'Pacific/Pago_Pago']) {
        process.env.TZ = tz;
        expect(windowStart({ changeDate: '20240311' }, 1)).toBe('20240310');
        expect(windowStart({ changeDate: '20240401' }, 7)).toBe('20240325');
        expect(windowStart({ changeDate: '20241028' }, 2)).toBe('20241026');
      }
    } finally {
      if (previous === undefined) delete process.env.TZ;
      else process.env.TZ = previous;
    }
  });

  it('refuses a negative or fractional overlap and an impossible date', () => {
    expect(() => windowStart({ changeDate: '20240501' }, -1)).toThrow(/overlapDays/);
    expect(() => windowStart({ changeDate: '20240501' }, 1.5)).toThrow(/overlapDays/);
    expect(() => windowStart({ changeDate: '20241301' }, 1)).toThrow(/calendar date/);
  });
});
