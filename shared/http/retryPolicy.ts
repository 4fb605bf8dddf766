// The one retry policy for HTTP calls to CloudSuite (MI calls and the OAuth token endpoint): which
// failures are retried, how long to wait, when to give up. ky runs the only retry loop; this module
// decides each step, so every wait is scaled by the time scale and checked against the caller's deadline.
import { isHTTPError, isNetworkError, isTimeoutError, type RetryOptions } from 'ky';
import type { Deadline } from '../runtime/deadline.ts';
import { scaledMs } from '../runtime/timeScale.ts';
import type { Log } from '../observability/logger.ts';
import { TransientError } from './transientError.ts';

export interface RetryPolicy {
  /** Retries after HTTP 429 (quota or spike arrest). */
  rateLimitRetries: number;
  /** Retries after 500/502/503/504, network errors, per-attempt timeouts and malformed bodies. */
  transientRetries: number;
  /** First backoff step (nominal ms, before the time scale); doubles each retry, with full jitter. */
  baseDelayMs: number;
  /** Largest backoff step (nominal ms). */
  maxDelayMs: number;
  /**
   * Longest Retry-After honoured (nominal ms). A server asking for more gets a TransientError at once:
   * holding a worker that long is worse than letting the orchestrator retry later.
   */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  rateLimitRetries: 8,
  transientRetries: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 300_000,
});

export const RETRYABLE_STATUS_CODES: readonly number[] = [429, 500, 502, 503, 504];

export type RetryReason = 'rate-limited' | 'server-error' | 'network' | 'timeout' | 'protocol';

export interface RetryableFailure {
  reason: RetryReason;
  status?: number;
  /** The Retry-After header as received (seconds or an HTTP date), when present. */
  retryAfter?: string | null;
  /** The underlying error; kept as the TransientError's cause after sanitising (see safeCause). */
  cause: unknown;
}

/** Classifies an error thrown by ky; undefined means "not retryable" (a 4xx, a caller abort, a bug). */
export function classifyKyError(error: unknown): RetryableFailure | undefined {
  if (isHTTPError(error)) {
    const status = error.response.status;
    const retryAfter = error.response.headers.get('retry-after');
    if (status === 429) return { reason: 'rate-limited', status, retryAfter, cause: error };
    if (RETRYABLE_STATUS_CODES.includes(status)) return { reason: 'server-error', status, retryAfter, cause: error };
    return undefined;
  }
  if (isTimeoutError(error)) return { reason: 'timeout', cause: error };
  if (isNetworkError(error)) return { reason: 'network', cause: error };
  return undefined;
}

/** Retry-After as nominal milliseconds from `nowMs`: delay-seconds or an HTTP date; undefined if absent or unparseable. */
export function parseRetryAfter(value: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

/**
 * Replaces ky errors with a plain summary before they become a `cause`: ky's errors hold the Request,
 * whose inspect output shows the Authorization header.
 */
export function safeCause(error: unknown): unknown {
  if (isHTTPError(error)) {
    return new Error(`HTTP ${error.response.status} ${error.response.statusText}`.trim());
  }
  if (isTimeoutError(error)) return new Error('the attempt timed out');
  if (isNetworkError(error)) return error.cause ?? new Error('network error');
  return error;
}

function describe(failure: RetryableFailure): string {
  switch (failure.reason) {
    case 'rate-limited':
      return 'rate limited (HTTP 429)';
    case 'server-error':
      return `HTTP ${failure.status}`;
    case 'network':
      return 'network error';
    case 'timeout':
      return 'attempt timed out';
    case 'protocol':
      return 'malformed response';
  }
}

export interface RetryScheduleOptions {
  /** Names the call in logs and errors, e.g. "CRS620MI/LstSuppliers". */
  operation: string;
  policy: RetryPolicy;
  deadline: Deadline;
  log: Log;
  random?: () => number;
}

/**
 * The retry state of one logical call (all its attempts). Per-reason budgets are kept here because ky
 * has a single `limit`; ky's own limit is set above the sum so that these budgets always decide first.
 */
export class RetrySchedule {
  retries = 0;
  rateLimited = 0;
  private transientFailures = 0;
  private plannedWaitMs = 0;

  constructor(private readonly options: RetryScheduleOptions) {}

  /**
   * Decides the real wait (ms, after the time scale) before retrying `failure` and logs the retry.
   * Throws TransientError when the budget for this kind of failure is spent and DeadlineExceededError
   * when the wait would end past the deadline (instead of sleeping).
   */
  planRetry(failure: RetryableFailure): number {
    const { operation, policy, deadline, log } = this.options;
    const rateLimited = failure.reason === 'rate-limited';
    const attempt = rateLimited ? ++this.rateLimited : ++this.transientFailures;
    const limit = rateLimited ? policy.rateLimitRetries : policy.transientRetries;
    const attempts = this.retries + 1;
    if (attempt > limit) {
      throw new TransientError(
        `${operation}: ${describe(failure)} persisted after ${attempts} attempts; ` +
          'CloudSuite is unavailable or throttling, retry later',
        { operation, lastStatus: failure.status, attempts, cause: safeCause(failure.cause) },
      );
    }
    const retryAfterMs = parseRetryAfter(failure.retryAfter);
    if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) {
      throw new TransientError(
        `${operation}: ${describe(failure)} and the server asks to wait ${Math.round(retryAfterMs / 1000)} s, ` +
          `more than the ${Math.round(policy.maxRetryAfterMs / 1000)} s this client waits; retry later`,
        { operation, lastStatus: failure.status, attempts, cause: safeCause(failure.cause) },
      );
    }
    const nominalMs = retryAfterMs ?? this.backoffMs(attempt);
    const waitMs = scaledMs(nominalMs);
    deadline.assertTime(`${operation}: retry after ${describe(failure)}`, waitMs);
    this.retries++;
    log.warn('retrying CloudSuite call', {
      operation,
      reason: failure.reason,
      status: failure.status,
      attempt,
      maxRetries: limit,
      waitMs: Math.round(nominalMs),
      retryAfter: failure.retryAfter ?? undefined,
    });
    return waitMs;
  }

  /**
   * Records a retry outside the budgets that happens at once, such as the single retry after a 401
   * with a renewed token (its bound is enforced by the caller).
   */
  noteImmediateRetry(reason: string, status?: number): void {
    this.retries++;
    this.options.log.warn('retrying CloudSuite call', { operation: this.options.operation, reason, status, attempt: 1, waitMs: 0 });
  }

  /** Full jitter over an exponential step with a cap (nominal ms). */
  private backoffMs(attempt: number): number {
    const { policy, random = Math.random } = this.options;
    const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
    return random() * step;
  }

  /**
   * ky's retry options driven by this schedule: `shouldRetry` classifies and plans (or throws),
   * `delay` returns the planned wait. Retry-After is read by planRetry rather than by ky
   * (`afterStatusCodes: []`) because ky would sleep it unscaled and unchecked against the deadline.
   * `forcedRetries` reserves room in ky's limit for retries forced from hooks (e.g. one after a 401).
   */
  kyRetry(methods: NonNullable<RetryOptions['methods']>, forcedRetries = 0): RetryOptions {
    const { policy } = this.options;
    return {
      limit: policy.rateLimitRetries + policy.transientRetries + forcedRetries + 1,
      methods,
      statusCodes: [...RETRYABLE_STATUS_CODES],
      afterStatusCodes: [],
      retryOnTimeout: true,
      shouldRetry: ({ error }) => {
        const failure = classifyKyError(error);
        if (failure === undefined) return false;
        this.plannedWaitMs = this.planRetry(failure);
        return true;
      },
      delay: () => this.plannedWaitMs,
    };
  }
}

/** Maps an error ky gave up on without our schedule deciding (should not happen) to a TransientError. */
export function exhaustedKyError(error: unknown, operation: string, attempts: number): TransientError | undefined {
  const failure = classifyKyError(error);
  if (failure === undefined) return undefined;
  return new TransientError(`${operation}: ${describe(failure)} after ${attempts} attempts; retry later`, {
    operation,
    lastStatus: failure.status,
    attempts,
    cause: safeCause(error),
  });
}

/**
 * ky's `totalTimeout` for a deadline, so an attempt in flight is also cut at the deadline
 * (callers map the resulting TimeoutError to DeadlineExceededError); undefined for no deadline.
 */
export function kyTotalTimeout(deadline: Deadline): number | undefined {
  const remaining = deadline.remainingMs();
  if (!Number.isFinite(remaining)) return undefined;
  return Math.min(2_147_483_647, Math.max(1, Math.floor(remaining)));
}
