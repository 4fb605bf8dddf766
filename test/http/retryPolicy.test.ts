// The retry policy's decisions and arithmetic: backoff with full jitter and a cap, Retry-After parsing,
// budgets, the deadline, and the loop of attempts they drive.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, RetrySchedule, parseRetryAfter, type AttemptEnd, type AttemptResult } from '#shared/http/retryPolicy.ts';
import { TransientError } from '#shared/http/transientError.ts';
import { Deadline, DeadlineExceededError } from '#shared/runtime/deadline.ts';
import { scaledMs } from '#shared/runtime/timeScale.ts';
import { capturingLog } from '../ionapi/support.ts';

function schedule(random = () => 1, deadline = Deadline.none()) {
  const log = capturingLog();
  return { log, schedule: new RetrySchedule({ operation: 'CRS620MI/LstSuppliers', policy: { ...DEFAULT_RETRY_POLICY, rateLimitRetries: 10, transientRetries: 10 }, deadline, log, random }) };
}

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, and ignores anything else', () => {
    const now = Date.parse('2026-11-20T10:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Fri, 20 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Fri, 20 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
  });
});

describe('RetrySchedule', () => {
  it('backs off exponentially from 1 s up to a 30 s cap (nominal), scaled', () => {
    const { schedule: s, log } = schedule(() => 1);
    const decisions = Array.from({ length: 7 }, () => s.afterFailure({ reason: 'server-error', status: 503, cause: new Error('x') }));
    expect(log.warnings().map((l) => (l.extra[0] as { waitMs: number }).waitMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(decisions).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000].map((ms) => ({ kind: 'retry', reason: 'server-error', waitMs: scaledMs(ms) })));
  });

  it('applies full jitter: a random share of the step', () => {
    const { schedule: s, log } = schedule(() => 0.25);
    s.afterFailure({ reason: 'network', cause: new Error('x') });
    s.afterFailure({ reason: 'network', cause: new Error('x') });
    expect(log.warnings().map((l) => (l.extra[0] as { waitMs: number }).waitMs)).toEqual([250, 500]);
  });

  it('honours Retry-After instead of backoff, and keeps separate budgets for 429 and other failures', () => {
    const { schedule: s, log } = schedule(() => 1);
    s.afterFailure({ reason: 'rate-limited', status: 429, retryAfter: '5', cause: new Error('x') });
    s.afterFailure({ reason: 'server-error', status: 503, cause: new Error('x') });
    s.afterFailure({ reason: 'rate-limited', status: 429, cause: new Error('x') });
    expect(log.warnings().map((l) => l.extra[0])).toEqual([
      expect.objectContaining({ reason: 'rate-limited', attempt: 1, waitMs: 5_000, retryAfter: '5' }),
      expect.objectContaining({ reason: 'server-error', attempt: 1, waitMs: 1_000 }),
      expect.objectContaining({ reason: 'rate-limited', attempt: 2, waitMs: 2_000 }),
    ]);
    expect({ retries: s.retries, rateLimited: s.rateLimited }).toEqual({ retries: 3, rateLimited: 2 });
  });

  it('gives up at once when Retry-After asks for more than the policy waits', () => {
    const { schedule: s } = schedule();
    expect(s.afterFailure({ reason: 'rate-limited', status: 429, retryAfter: '86400', cause: new Error('x') })).toEqual({
      kind: 'give-up',
      error: expect.any(TransientError),
    });
  });

  it('refuses a wait that would end past the deadline', () => {
    const { schedule: s } = schedule(() => 1, Deadline.in(scaledMs(1_000) - 0.5));
    expect(s.afterFailure({ reason: 'server-error', status: 500, cause: new Error('x') })).toEqual({ kind: 'give-up', error: expect.any(DeadlineExceededError) });
  });

  it('gives up with a TransientError carrying the last status once the budget for a kind of failure is spent', () => {
    const log = capturingLog();
    const s = new RetrySchedule({ operation: 'CRS620MI/LstSuppliers', policy: { ...DEFAULT_RETRY_POLICY, transientRetries: 2 }, deadline: Deadline.none(), log, random: () => 1 });
    const cause = new Error('HTTP 503 Service Unavailable');
    const decisions = Array.from({ length: 3 }, () => s.afterFailure({ reason: 'server-error', status: 503, cause }));
    expect(decisions.map((d) => d.kind)).toEqual(['retry', 'retry', 'give-up']);
    const error = (decisions[2] as Extract<AttemptEnd, { kind: 'give-up' }>).error as TransientError;
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ lastStatus: 503, details: { attempts: 3 }, cause });
    expect(error.message).toBe('CRS620MI/LstSuppliers: HTTP 503 persisted after 3 attempts; CloudSuite is unavailable or throttling, retry later');
  });
});

describe('RetrySchedule.run', () => {
  it('runs attempts until one answers, waiting what each retry says', async () => {
    const { schedule: s } = schedule();
    const results: AttemptResult<string>[] = [
      s.afterFailure({ reason: 'timeout', cause: new Error('x') }),
      s.retryNow('unauthorized', 401),
      { kind: 'answered', value: 'records' },
    ];
    let attempts = 0;
    expect(await s.run(async () => results[attempts++]!)).toBe('records');
    expect(attempts).toBe(3);
    expect(s.retries).toBe(2);
  });

  it('ends with the error of an attempt that gives up, and at once when the caller aborts a wait', async () => {
    const { schedule: s } = schedule();
    const refused = new Error('refused');
    await expect(s.run(async () => ({ kind: 'give-up', error: refused }))).rejects.toBe(refused);

    const controller = new AbortController();
    const waiting = s.run(async () => ({ kind: 'retry', reason: 'server-error', waitMs: 60_000 }), controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });
});
