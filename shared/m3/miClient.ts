// Calls one M3 MI transaction through the ION API gateway (REST v2). ky runs the single retry loop under
// the shared retry policy (429, 5xx, network, timeouts, garbled bodies), the afterResponse hook parses the
// answer and renews the token once on a 401, and every wait is scaled and checked against the deadline.
import pThrottle from 'p-throttle';
import ky, { isHTTPError, isTimeoutError } from 'ky';
import { Deadline, DeadlineExceededError } from '../runtime/deadline.ts';
import { logger, type Log } from '../observability/logger.ts';
import {
  DEFAULT_RETRY_POLICY,
  RETRYABLE_STATUS_CODES,
  RetrySchedule,
  exhaustedKyError,
  kyTotalTimeout,
  type RetryPolicy,
} from '../http/retryPolicy.ts';
import { IonAuthError } from '../ionapi/errors.ts';
import type { TokenProvider } from '../ionapi/tokenProvider.ts';
import { MiHttpError, MiProtocolError } from './miErrors.ts';
import { parseMiResponse, type MiCall } from './miResponse.ts';
import type { MiRecord, MiRequest, MiResponse } from './miTypes.ts';

export type MiRetryPolicy = RetryPolicy;

export interface MiClientOptions {
  /** The tenant's API base, `iu + "/" + ti` (IonApiConfig.apiBaseUrl). */
  apiBaseUrl: string;
  tokens: TokenProvider;
  log?: Log;
  retry?: Partial<MiRetryPolicy>;
  /** Per-attempt timeout (real ms), below the gateway's 60 s target timeout. Default 45 000. */
  attemptTimeoutMs?: number;
  /**
   * Client-side pacing: at most this many attempts per second from this client (real time). Set it
   * to the tenant's licensed rate so a long extraction stays under the gateway's spike arrest instead
   * of paying a Retry-After wait each time it trips it. Default: unpaced.
   */
  maxRequestsPerSecond?: number;
}

export interface MiCallOptions {
  deadline?: Deadline;
  signal?: AbortSignal;
}

export interface MiClientStats {
  /** execute() calls. */
  calls: number;
  /** Retries of any kind (including the one after a 401). */
  retries: number;
  /** HTTP 429 answers received. */
  rateLimited: number;
}

const NAME = /^[A-Za-z0-9_]+$/;

/**
 * The execute URL of a request. Inputs are sent exactly as given (percent-encoded, never trimmed).
 * `divi` is sent whenever `division` is defined, including '' (the blank, company-level division);
 * omit `division` to use the service user's default.
 */
export function buildMiUrl(apiBaseUrl: string, request: MiRequest): string {
  const { program, transaction } = request;
  if (!NAME.test(program) || !NAME.test(transaction)) {
    throw new TypeError(`MI program and transaction must be letters and digits, got "${program}/${transaction}"`);
  }
  const enc = encodeURIComponent;
  const query: string[] = Object.entries(request.inputs ?? {}).map(([name, value]) => `${enc(name)}=${enc(value)}`);
  if (request.maxRecords !== undefined) {
    if (!Number.isInteger(request.maxRecords) || request.maxRecords < 0) {
      throw new TypeError(`${program}/${transaction}: maxRecords must be a non-negative integer (0 = all), got ${request.maxRecords}`);
    }
    query.push(`maxrecs=${request.maxRecords}`);
  }
  if (request.outputFields !== undefined && request.outputFields.length > 0) {
    query.push(`returncols=${request.outputFields.map(enc).join(',')}`);
  }
  if (request.company !== undefined) query.push(`cono=${enc(request.company)}`);
  if (request.division !== undefined) query.push(`divi=${enc(request.division)}`);
  query.push('dateformat=YMD8', 'righttrim=true', 'excludeempty=false');
  const base = apiBaseUrl.replace(/\/+$/, '');
  return `${base}/M3/m3api-rest/v2/execute/${program}/${transaction}?${query.join('&')}`;
}

/** Reads a body's bytes within `timeoutMs`; rejects with a TimeoutError-named error when it does not arrive. */
async function readBody(response: Response, timeoutMs: number): Promise<Uint8Array> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void response.body?.cancel().catch(() => undefined);
      reject(Object.assign(new Error(`the response body did not arrive within ${timeoutMs} ms`), { name: 'TimeoutError' }));
    }, timeoutMs);
  });
  try {
    return new Uint8Array(await Promise.race([response.arrayBuffer(), timedOut]));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * MI answers are UTF-8 JSON. `response.text()` would turn bytes that are not UTF-8 (a proxy re-encoding
 * to Latin-1, a damaged record) into U+FFFD without a trace, and the damaged text would be staged and
 * loaded as if M3 had sent it; so the body is decoded strictly (found by test/hostile). A body that
 * only ends inside a character was cut in transit and is retried like any truncated body.
 */
function decodeMiBody(call: MiCall, body: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    let cutShort = true;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(body, { stream: true });
    } catch {
      cutShort = false;
    }
    if (cutShort) throw new MiProtocolError(call.program, call.transaction, 'the body ends inside a UTF-8 character (cut in transit)', true);
    throw new MiProtocolError(
      call.program,
      call.transaction,
      'the body is not valid UTF-8, so decoding it would silently replace characters in the records (nothing was staged from it); ' +
        'look for a proxy or gateway between here and ION that re-encodes responses',
      false,
    );
  }
}

export class MiClient {
  private readonly apiBaseUrl: string;
  private readonly tokens: TokenProvider;
  private readonly log: Log;
  private readonly policy: RetryPolicy;
  private readonly attemptTimeoutMs: number;
  private readonly counters: MiClientStats = { calls: 0, retries: 0, rateLimited: 0 };

  constructor(options: MiClientOptions) {
    this.apiBaseUrl = options.apiBaseUrl;
    this.tokens = options.tokens;
    this.log = options.log ?? logger;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 45_000;
    if (options.maxRequestsPerSecond !== undefined) {
      if (!(options.maxRequestsPerSecond > 0)) throw new TypeError(`maxRequestsPerSecond must be positive, got ${options.maxRequestsPerSecond}`);
      // Spread evenly (strict): a burst of a second's worth of calls would trip spike arrest too.
      this.pace = pThrottle({ limit: 1, interval: Math.ceil(1000 / options.maxRequestsPerSecond), strict: true })(() => undefined);
    }
  }

  private readonly pace: (() => unknown) | undefined;

  stats(): MiClientStats {
    return { ...this.counters };
  }

  /**
   * Runs one MI transaction. Throws MiError (NOK), MiProtocolError (an answer M3 never sends),
   * MiHttpError (403/404/...), IonAuthError (token refused twice), TransientError (retries spent),
   * DeadlineExceededError (the next wait or attempt would pass the deadline).
   */
  async execute(request: MiRequest, options: MiCallOptions = {}): Promise<MiResponse> {
    const call: MiCall = { program: request.program, transaction: request.transaction };
    const operation = `${call.program}/${call.transaction}`;
    const deadline = options.deadline ?? Deadline.none();
    const url = buildMiUrl(this.apiBaseUrl, request);
    deadline.assertTime(operation);
    this.counters.calls++;

    const schedule = new RetrySchedule({ operation, policy: this.policy, deadline, log: this.log });
    const startedAtMs = Date.now();
    let records: MiRecord[] | undefined;
    let sentToken = '';
    let renewedToken: string | undefined;
    let attemptStartedAtMs = startedAtMs;
    let unauthorizedRetried = false;

    const authorize = async ({ request: httpRequest }: { request: Request }): Promise<void> => {
      await this.pace?.();
      attemptStartedAtMs = Date.now();
      sentToken = renewedToken ?? (await this.tokens.getAccessToken(deadline));
      renewedToken = undefined;
      httpRequest.headers.set('authorization', `Bearer ${sentToken}`);
    };

    try {
      const response = await ky.get(url, {
        headers: { accept: 'application/json' },
        timeout: this.attemptTimeoutMs,
        totalTimeout: kyTotalTimeout(deadline),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        retry: schedule.kyRetry(['get'], 1),
        hooks: {
          beforeRequest: [authorize],
          beforeRetry: [authorize],
          afterResponse: [
            async ({ response: answer }) => {
              if (answer.status === 401) {
                // The gateway's 401 body is undocumented (HTML or JSON): don't parse it; renew and retry once.
                if (unauthorizedRetried) {
                  throw new IonAuthError(
                    `${operation}: the ION API gateway rejected a newly obtained token (HTTP 401 twice); ` +
                      'check that the authorized app may call M3 and that the service account is active',
                    'api-call',
                    401,
                  );
                }
                unauthorizedRetried = true;
                renewedToken = await this.tokens.onUnauthorized(sentToken, deadline);
                schedule.noteImmediateRetry('unauthorized', 401);
                return ky.retry({ delay: 0, code: 'UNAUTHORIZED' });
              }
              // Other statuses become ky HTTPErrors: retried by the schedule or mapped in beforeError.
              if (answer.status !== 200 && answer.status !== 400) return undefined;
              let body: Uint8Array;
              try {
                body = await readBody(answer, Math.max(1, this.attemptTimeoutMs - (Date.now() - attemptStartedAtMs)));
              } catch (error) {
                const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'network';
                return ky.retry({ delay: schedule.planRetry({ reason, status: answer.status, cause: error }), code: 'BODY_READ' });
              }
              try {
                records = parseMiResponse(call, answer.status, decodeMiBody(call, body));
              } catch (error) {
                if (!(error instanceof MiProtocolError && error.retryable)) throw error;
                const delay = schedule.planRetry({ reason: 'protocol', status: answer.status, cause: error });
                return ky.retry({ delay, code: 'MI_PROTOCOL', cause: error });
              }
              return undefined;
            },
          ],
          beforeError: [({ error }) => this.toTypedError(call, operation, error, deadline, schedule.retries + 1)],
        },
      });
      // The hook parsed a clone of the body; the original is not needed.
      await response.body?.cancel().catch(() => undefined);
    } finally {
      this.counters.retries += schedule.retries;
      this.counters.rateLimited += schedule.rateLimited;
    }
    if (records === undefined) {
      throw new MiProtocolError(call.program, call.transaction, 'no body was parsed for a successful answer', false);
    }
    this.log.debug('MI call done', {
      operation,
      records: records.length,
      retries: schedule.retries,
      ms: Date.now() - startedAtMs,
    });
    return { ...call, records };
  }

  /** ky errors left after the schedule decided: final HTTP statuses, deadline cuts; typed errors pass through. */
  private toTypedError(call: MiCall, operation: string, error: Error, deadline: Deadline, attempts: number): Error {
    if (isHTTPError(error) && !RETRYABLE_STATUS_CODES.includes(error.response.status)) {
      return new MiHttpError(call.program, call.transaction, error.response.status);
    }
    if (isTimeoutError(error) && deadline.isPast()) {
      return new DeadlineExceededError(operation, 0, deadline.remainingMs());
    }
    return exhaustedKyError(error, operation, attempts) ?? error;
  }
}
