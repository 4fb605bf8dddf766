// The one retry policy for HTTP calls to CloudSuite (MI calls and the OAuth token endpoint): which
// failures are retried, how long to wait, when to give up. A client runs one attempt at a time and says
// what came of it (AttemptResult); RetrySchedule turns a failure into a retry, after a wait scaled by the
// time scale and checked against the caller's deadline, or into giving up, and runs the loop of attempts.
import { setTimeout as delay } from 'node:timers/promises';
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

const RETRYABLE_STATUS_CODES: readonly number[] = [429, 500, 502, 503, 504];

export type RetryReason = 'rate-limited' | 'server-error' | 'network' | 'timeout' | 'protocol';

export interface RetryableFailure {
  reason: RetryReason;
  status?: number;
  /** The Retry-After header as received (seconds or an HTTP date), when present. */
  retryAfter?: string | null;
  /** What went wrong, kept as the TransientError's cause: never anything holding a credential (a request, its headers). */
  cause: unknown;
}

/** What one attempt of a call came to: an answer, a retry after a wait (real ms), or giving up with an error. */
export type AttemptResult<T> =
  | { kind: 'answered'; value: T }
  | { kind: 'retry'; reason: RetryReason | 'unauthorized'; waitMs: number }
  | { kind: 'give-up'; error: unknown };

/** An attempt that did not answer. */
export type AttemptEnd = Exclude<AttemptResult<never>, { kind: 'answered' }>;

/** A status this policy retries (429, 5xx) as a failure; undefined for any other status. */
export function failureOfStatus(response: Response): RetryableFailure | undefined {
  const { status } = response;
  if (!RETRYABLE_STATUS_CODES.includes(status)) return undefined;
  return {
    reason: status === 429 ? 'rate-limited' : 'server-error',
    status,
    retryAfter: response.headers.get('retry-after'),
    cause: new Error(`HTTP ${status} ${response.statusText}`.trim()),
  };
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
  /**
   * Failures the caller wants back at once instead of retried, as the error this returns (undefined: the
   * policy decides). EXPORTMI pages use it: a page too slow for the gateway is asked for again smaller.
   */
  handBack?: (failure: RetryableFailure) => Error | undefined;
}

/** The retry state of one logical call (all its attempts), with a budget per kind of failure. */
export class RetrySchedule {
  retries = 0;
  rateLimited = 0;
  private transientFailures = 0;

  constructor(private readonly options: RetryScheduleOptions) {}

  get operation(): string {
    return this.options.operation;
  }

  get deadline(): Deadline {
    return this.options.deadline;
  }

  /**
   * Runs attempts until one answers or the schedule gives up: each retry waits what the attempt's result
   * says (the caller's signal cuts the wait short). Errors an attempt throws end the call as they are.
   */
  async run<T>(attempt: () => Promise<AttemptResult<T>>, signal?: AbortSignal): Promise<T> {
    for (;;) {
      const result = await attempt();
      switch (result.kind) {
        case 'answered':
          return result.value;
        case 'give-up':
          throw result.error;
        case 'retry':
          if (result.waitMs > 0) await delay(result.waitMs, undefined, signal ? { signal } : {});
      }
    }
  }

  /**
   * What to do after `failure`, logged when it is a retry: retry after a real wait (ms, after the time
   * scale), or give up with a TransientError when the budget for this kind of failure is spent or the
   * server asks for a longer wait than the policy allows, or with DeadlineExceededError when the wait
   * would end past the deadline (instead of sleeping).
   */
  afterFailure(failure: RetryableFailure): AttemptEnd {
    const { operation, policy, deadline, log } = this.options;
    const handedBack = this.options.handBack?.(failure);
    if (handedBack) return { kind: 'give-up', error: handedBack };
    const rateLimited = failure.reason === 'rate-limited';
    const attempt = rateLimited ? ++this.rateLimited : ++this.transientFailures;
    const limit = rateLimited ? policy.rateLimitRetries : policy.transientRetries;
    const attempts = this.retries + 1;
    if (attempt > limit) {
      return this.giveUp(
        `${operation}: ${describe(failure)} persisted after ${attempts} attempts; CloudSuite is unavailable or throttling, retry later`,
        failure,
      );
    }
    const retryAfterMs = parseRetryAfter(failure.retryAfter);
    if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) {
      return this.giveUp(
        `${operation}: ${describe(failure)} and the server asks to wait ${Math.round(retryAfterMs / 1000)} s, ` +
          `more than the ${Math.round(policy.maxRetryAfterMs / 1000)} s this client waits; retry later`,
        failure,
      );
    }
    const nominalMs = retryAfterMs ?? this.backoffMs(attempt);
    const waitMs = scaledMs(nominalMs);
    const pastDeadline = deadline.exceededBy(`${operation}: retry after ${describe(failure)}`, waitMs);
    if (pastDeadline) return { kind: 'give-up', error: pastDeadline };
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
    return { kind: 'retry', reason: failure.reason, waitMs };
  }

  /**
   * A retry outside the budgets that happens at once, such as the single retry after a 401 with a
   * renewed token (its bound is the caller's).
   */
  retryNow(reason: 'unauthorized', status?: number): AttemptEnd {
    this.retries++;
    this.options.log.warn('retrying CloudSuite call', { operation: this.options.operation, reason, status, attempt: 1, waitMs: 0 });
    return { kind: 'retry', reason, waitMs: 0 };
  }

  private giveUp(message: string, failure: RetryableFailure): AttemptEnd {
    const details = { operation: this.options.operation, lastStatus: failure.status, attempts: this.retries + 1, cause: failure.cause };
    return { kind: 'give-up', error: new TransientError(message, details) };
  }

  /** Full jitter over an exponential step with a cap (nominal ms). */
  private backoffMs(attempt: number): number {
    const { policy, random = Math.random } = this.options;
    const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
    return random() * step;
  }
}
