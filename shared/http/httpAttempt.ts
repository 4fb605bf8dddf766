// One attempt of an HTTP call to CloudSuite. ky sends it with its own retries and timeouts off (the retry
// policy decides, one attempt at a time); one signal bounds both the request and the body: the attempt's
// timeout, the caller's deadline and the caller's abort. What ended an attempt early is told apart here.
import { isNetworkError } from 'ky';
import { DeadlineExceededError } from '../runtime/deadline.ts';
import type { AttemptEnd, RetrySchedule } from './retryPolicy.ts';

export interface AttemptBounds {
  /** Real ms for the whole attempt, response and body. */
  timeoutMs: number;
  /** The caller's abort: ends the call at once, with the abort's error. */
  signal?: AbortSignal;
}

/** ky's options for sending exactly one attempt bounded by the attempt's signal, whatever the status. */
export interface OneAttempt {
  signal: AbortSignal;
  retry: 0;
  timeout: false;
  throwHttpErrors: false;
}

export type Sent = { kind: 'response'; response: Response } | AttemptEnd;
export type Read = { kind: 'body'; bytes: Uint8Array } | AttemptEnd;

export class HttpAttempt {
  /** Pass it to the request: it aborts the request, and the body as it streams in. */
  readonly signal: AbortSignal;
  private readonly timeout: AbortSignal;
  private readonly atDeadline: AbortSignal | undefined;

  constructor(
    private readonly schedule: RetrySchedule,
    private readonly bounds: AttemptBounds,
  ) {
    this.timeout = AbortSignal.timeout(bounds.timeoutMs);
    this.atDeadline = schedule.deadline.signal();
    this.signal = AbortSignal.any([this.timeout, ...(this.atDeadline ? [this.atDeadline] : []), ...(bounds.signal ? [bounds.signal] : [])]);
  }

  /** Sends the request (ky, given `once` among its options); its response whatever the status, or how the attempt ended. */
  async send(request: (once: OneAttempt) => Promise<Response>): Promise<Sent> {
    try {
      return { kind: 'response', response: await request({ signal: this.signal, retry: 0, timeout: false, throwHttpErrors: false }) };
    } catch (error) {
      if (!isNetworkError(error)) return this.cutShort(error) ?? { kind: 'give-up', error };
      // ky's NetworkError holds the Request, whose inspect output shows the Authorization header: keep its cause only.
      return this.cutShort(error) ?? this.schedule.afterFailure({ reason: 'network', cause: error.cause ?? new Error('network error') });
    }
  }

  /** Reads the whole body within the same bounds; a connection failing meanwhile is a network failure. */
  async body(response: Response): Promise<Read> {
    try {
      return { kind: 'body', bytes: new Uint8Array(await response.arrayBuffer()) };
    } catch (error) {
      return this.cutShort(error, response.status) ?? this.schedule.afterFailure({ reason: 'network', status: response.status, cause: error });
    }
  }

  /** The end of an attempt one of the bounds cut short: the caller's abort, the deadline, or the attempt's timeout. */
  private cutShort(error: unknown, status?: number): AttemptEnd | undefined {
    if (this.bounds.signal?.aborted) return { kind: 'give-up', error };
    if (this.atDeadline?.aborted) {
      const { operation, deadline } = this.schedule;
      return { kind: 'give-up', error: new DeadlineExceededError(operation, 0, deadline.remainingMs(), { cause: error }) };
    }
    if (this.timeout.aborted) {
      const cause = new Error(`the attempt timed out after ${this.bounds.timeoutMs} ms`);
      return this.schedule.afterFailure({ reason: 'timeout', ...(status === undefined ? {} : { status }), cause });
    }
    return undefined;
  }
}

/** Drops a response's body that will not be read, so its connection can be reused. */
export async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}
