// One attempt of an HTTP call to CloudSuite. ky sends it with its own retries and timeouts off (the retry
// policy decides, one attempt at a time); one signal bounds both the request and the body: the attempt's
// timeout, the caller's deadline and the caller's abort. What ended an attempt early is told apart here.
// Redirects are never followed: fetch re-sends a POST body (the token request's credentials) on a 307/308
// and the Authorization header to the same origin, wherever the Location points (found by the hardening
// review); a 3xx ends the call with RedirectRefusedError. A body is read only up to the caller's limit.
import { isNetworkError } from 'ky';
import { DeadlineExceededError } from '../runtime/deadline.ts';
import { RedirectRefusedError, ResponseTooLargeError } from './httpErrors.ts';
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
  /** A redirect comes back as the 3xx answer itself, never followed. */
  redirect: 'manual';
}

/** The most a caller accepts of one answer's body, and what to tell a person when an answer is larger. */
export interface BodyLimit {
  maxBytes: number;
  advice: string;
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

  /**
   * Sends the request (ky, given `once` among its options); its response whatever the status (a redirect
   * ends the call with RedirectRefusedError), or how the attempt ended.
   */
  async send(request: (once: OneAttempt) => Promise<Response>): Promise<Sent> {
    try {
      const response = await request({ signal: this.signal, retry: 0, timeout: false, throwHttpErrors: false, redirect: 'manual' });
      if (response.status >= 300 && response.status < 400) {
        await discardBody(response);
        return { kind: 'give-up', error: new RedirectRefusedError(this.schedule.operation, response.url, response.status, response.headers.get('location')) };
      }
      return { kind: 'response', response };
    } catch (error) {
      if (!isNetworkError(error)) return this.cutShort(error) ?? { kind: 'give-up', error };
      // ky's NetworkError holds the Request, whose inspect output shows the Authorization header: keep its cause only.
      return this.cutShort(error) ?? this.schedule.afterFailure({ reason: 'network', cause: error.cause ?? new Error('network error') });
    }
  }

  /**
   * Reads the whole body within the same bounds; a connection failing meanwhile is a network failure. With a
   * limit, an answer declaring a larger Content-Length is not read at all, and one streaming past the limit
   * is cut off there: memory stays bounded whatever the server sends (ResponseTooLargeError).
   */
  async body(response: Response, limit?: BodyLimit): Promise<Read> {
    const { operation } = this.schedule;
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (limit && Number.isFinite(declared) && declared > limit.maxBytes) {
      await discardBody(response);
      return { kind: 'give-up', error: new ResponseTooLargeError(operation, limit.maxBytes, declared, true, limit.advice) };
    }
    const reader = response.body?.getReader();
    if (!reader) return { kind: 'body', bytes: new Uint8Array() };
    const chunks: Uint8Array[] = [];
    let received = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.byteLength;
        if (limit && received > limit.maxBytes) {
          await reader.cancel().catch(() => undefined);
          return { kind: 'give-up', error: new ResponseTooLargeError(operation, limit.maxBytes, received, false, limit.advice) };
        }
        chunks.push(value);
      }
    } catch (error) {
      return this.cutShort(error, response.status) ?? this.schedule.afterFailure({ reason: 'network', status: response.status, cause: error });
    }
    const bytes = new Uint8Array(received);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.byteLength;
    }
    return { kind: 'body', bytes };
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

/**
 * At most `maxBytes` of a body that is read only for a hint (a refusal's OAuth error code), as text; '' when
 * it cannot be read. Unlike HttpAttempt.body, a failure here is no reason to retry and is not counted as one.
 */
export async function readAtMost(response: Response, maxBytes: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    while (received < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.byteLength;
    }
  } catch {
    return '';
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, maxBytes));
}

/** Drops a response's body that will not be read, so its connection can be reused. */
export async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}
