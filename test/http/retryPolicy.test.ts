// The retry policy's arithmetic: backoff with full jitter and a cap, Retry-After parsing, budgets.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, RetrySchedule, parseRetryAfter } from '#shared/http/retryPolicy.ts';
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
    const waits = Array.from({ length: 7 }, () => s.planRetry({ reason: 'server-error', status: 503, cause: new Error('x') }));
    expect(log.warnings().map((l) => (l.extra[0] as { waitMs: number }).waitMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000].map(scaledMs));
  });

  it('applies full jitter: a random share of the step', () => {
    const { schedule: s, log } = schedule(() => 0.25);
    s.planRetry({ reason: 'network', cause: new Error('x') });
    s.planRetry({ reason: 'network', cause: new Error('x') });
    expect(log.warnings().map((l) => (l.extra[0] as { waitMs: number }).waitMs)).toEqual([250, 500]);
  });

  it('honours Retry-After instead of backoff, and keeps separate budgets for 429 and other failures', () => {
    const { schedule: s, log } = schedule(() => 1);
    s.planRetry({ reason: 'rate-limited', status: 429, retryAfter: '5', cause: new Error('x') });
    s.planRetry({ reason: 'server-error', status: 503, cause: new Error('x') });
    s.planRetry({ reason: 'rate-limited', status: 429, cause: new Error('x') });
    expect(log.warnings().map((l) => l.extra[0])).toEqual([
      expect.objectContaining({ reason: 'rate-limited', attempt: 1, waitMs: 5_000, retryAfter: '5' }),
      expect.objectContaining({ reason: 'server-error', attempt: 1, waitMs: 1_000 }),
      expect.objectContaining({ reason: 'rate-limited', attempt: 2, waitMs: 2_000 }),
    ]);
    expect({ retries: s.retries, rateLimited: s.rateLimited }).toEqual({ retries: 3, rateLimited: 2 });
  });

  it('gives up at once when Retry-After asks for more than the policy waits', () => {
    const { schedule: s } = schedule();
    expect(() => s.planRetry({ reason: 'rate-limited', status: 429, retryAfter: '86400', cause: new Error('x') })).toThrow(TransientError);
  });

  it('refuses a wait that would end past the deadline', () => {
    const { schedule: s } = schedule(() => 1, Deadline.in(scaledMs(1_000) - 0.5));
    expect(() => s.planRetry({ reason: 'server-error', status: 500, cause: new Error('x') })).toThrow(DeadlineExceededError);
  });
});
