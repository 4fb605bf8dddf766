// Calls one M3 MI transaction through the ION API gateway (REST v2): a loop of attempts under the shared
// retry policy. Each attempt sends one request (ky, its own retries off) and says what came of it: the
// records, a retry (429, 5xx, network, timeouts, garbled bodies; once at once after a 401 with a renewed
// token) or giving up with a typed error. Every wait is scaled and checked against the deadline.
import pThrottle from 'p-throttle';
import ky from 'ky';
import { discardBody, HttpAttempt } from '../http/httpAttempt.ts';
import { DEFAULT_RETRY_POLICY, failureOfStatus, RetrySchedule, type AttemptResult, type RetryableFailure, type RetryPolicy } from '../http/retryPolicy.ts';
import { Deadline } from '../runtime/deadline.ts';
import { timeScale } from '../runtime/timeScale.ts';
import { logger, type Log } from '../observability/logger.ts';
import { IonAuthError } from '../ionapi/errors.ts';
import type { TokenProvider } from '../ionapi/tokenProvider.ts';
import { MiHttpError, MiProtocolError, MiSlowAnswerError } from './miErrors.ts';
import { parseMiResponse, type MiCall } from './miResponse.ts';
import type { MiRecord, MiRequest, MiResponse } from './miTypes.ts';

export interface MiClientOptions {
  /** The tenant's API base, `iu + "/" + ti` (IonApiConfig.apiBaseUrl). */
  apiBaseUrl: string;
  tokens: TokenProvider;
  log?: Log;
  retry?: Partial<RetryPolicy>;
  /**
   * Per-attempt timeout (real ms). Default 120 000: the gateway answers 504 after its target timeout (60 s
   * by default, up to 300 s by a tenant's policy) and Infor asks clients to wait longer than that, so
   * giving up sooner would abandon calls the gateway still answers.
   */
  attemptTimeoutMs?: number;
  /**
   * Client-side pacing: at most this many attempts per second from this client (seconds as the time
   * scale makes them). Set it to this client's share of the tenant's licensed rate so a long extraction
   * stays under the gateway's spike arrest instead of paying a Retry-After wait each time it trips it.
   * Default: unpaced.
   */
  maxRequestsPerSecond?: number;
  /**
   * The largest MI answer read (bytes, by Content-Length and while streaming). A page of records is a few
   * MB at most; a larger answer is refused before it is parsed, so a hostile or broken server cannot exhaust
   * a Lambda's memory or turn a huge value into the next page's start key. Default 32 MiB.
   */
  maxAnswerBytes?: number;
}

/** See MiClientOptions.maxAnswerBytes. */
export const DEFAULT_MAX_ANSWER_BYTES = 32 * 1024 * 1024;
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 120_000;

export interface MiCallOptions {
  deadline?: Deadline;
  signal?: AbortSignal;
  /**
   * 'retry' (default): a 504 or a timed-out attempt is retried under the policy. 'hand-back': it ends the
   * call at once with MiSlowAnswerError, for a caller that will ask for less (EXPORTMI pages).
   */
  slowAnswers?: 'retry' | 'hand-back';
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
 * The session company and division travel as matrix parameters on the transaction (`…/Select;cono=100;divi=`),
 * the way Infor's own SDK sends them: whether an empty query parameter `divi=` selects the blank division is
 * not documented, and EXPORTMI's division conditions depend on it (`check` shows which form a tenant honours).
 * `divi` is sent whenever `division` is defined, including '' (the blank, company-level division); omit
 * `division` to use the service user's default.
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
  const session: string[] = [];
  const form = request.sessionForm ?? 'matrix';
  const into = form === 'matrix' ? session : query;
  if (request.company !== undefined) into.push(`cono=${enc(request.company)}`);
  if (request.division !== undefined) into.push(`divi=${enc(request.division)}`);
  query.push('dateformat=YMD8', 'righttrim=true', 'excludeempty=false');
  const base = apiBaseUrl.replace(/\/+$/, '');
  const matrix = session.map((p) => `;${p}`).join('');
  return `${base}/M3/m3api-rest/v2/execute/${program}/${transaction}${matrix}?${query.join('&')}`;
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
  private readonly maxAnswerBytes: number;
  private readonly counters: MiClientStats = { calls: 0, retries: 0, rateLimited: 0 };

  constructor(options: MiClientOptions) {
    this.apiBaseUrl = options.apiBaseUrl;
    this.tokens = options.tokens;
    this.log = options.log ?? logger;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.maxAnswerBytes = options.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
    if (!(this.maxAnswerBytes > 0)) throw new TypeError(`maxAnswerBytes must be positive, got ${options.maxAnswerBytes}`);
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    if (options.maxRequestsPerSecond !== undefined) {
      if (!(options.maxRequestsPerSecond > 0)) throw new TypeError(`maxRequestsPerSecond must be positive, got ${options.maxRequestsPerSecond}`);
      // Spread evenly (strict): a burst of a second's worth of calls would trip spike arrest too. The
      // interval is a wait like any other, scaled in tests (below a millisecond there is nothing to pace).
      const interval = (1000 / options.maxRequestsPerSecond) * timeScale();
      // Rounded up: a rounded-down interval would pace a little faster than the rate.
      if (interval >= 1) this.pace = pThrottle({ limit: 1, interval: Math.ceil(interval), strict: true })(() => undefined);
    }
  }

  private readonly pace: (() => unknown) | undefined = undefined;

  stats(): MiClientStats {
    return { ...this.counters };
  }

  /**
   * Runs one MI transaction. Throws MiError (NOK), MiProtocolError (an answer M3 never sends),
   * MiHttpError (403/404/...), IonAuthError (token refused twice), TransientError (retries spent),
   * DeadlineExceededError (the next wait or attempt would pass the deadline), RedirectRefusedError (a 3xx,
   * never followed), ResponseTooLargeError (an answer above maxAnswerBytes).
   */
  async execute(request: MiRequest, options: MiCallOptions = {}): Promise<MiResponse> {
    const call: MiCall = { program: request.program, transaction: request.transaction };
    const operation = `${call.program}/${call.transaction}`;
    const deadline = options.deadline ?? Deadline.none();
    const url = buildMiUrl(this.apiBaseUrl, request);
    deadline.assertTime(operation);
    this.counters.calls++;

    const handBack =
      options.slowAnswers === 'hand-back'
        ? (failure: RetryableFailure) =>
            failure.reason === 'timeout' || failure.status === 504
              ? new MiSlowAnswerError(`${operation}: ${failure.reason === 'timeout' ? `no answer within ${this.attemptTimeoutMs} ms` : 'the gateway timed out (HTTP 504)'}`, {
                  operation, ...(failure.status === undefined ? {} : { lastStatus: failure.status }), attempts: 1, cause: failure.cause,
                })
              : undefined
        : undefined;
    const schedule = new RetrySchedule({ operation, policy: this.policy, deadline, log: this.log, ...(handBack ? { handBack } : {}) });
    const state: CallState = { call, url, schedule, unauthorizedRetried: false, ...(options.signal ? { signal: options.signal } : {}) };
    const startedAtMs = Date.now();
    try {
      const records = await schedule.run(() => this.attempt(state), options.signal);
      this.log.debug('MI call done', { operation, records: records.length, retries: schedule.retries, ms: Date.now() - startedAtMs });
      return { ...call, records };
    } finally {
      this.counters.retries += schedule.retries;
      this.counters.rateLimited += schedule.rateLimited;
    }
  }

  /** One request and what came of it. */
  private async attempt(state: CallState): Promise<AttemptResult<MiRecord[]>> {
    const { call, schedule } = state;
    await this.pace?.();
    const token = state.renewedToken ?? (await this.tokens.getAccessToken(schedule.deadline));
    delete state.renewedToken;
    const http = new HttpAttempt(schedule, { timeoutMs: this.attemptTimeoutMs, ...(state.signal ? { signal: state.signal } : {}) });
    const sent = await http.send((once) => ky.get(state.url, { ...once, headers: { accept: 'application/json', authorization: `Bearer ${token}` } }));
    if (sent.kind !== 'response') return sent;
    const { response } = sent;

    if (response.status === 401) {
      // The gateway's 401 body is undocumented (HTML or JSON): don't parse it; renew and retry once.
      await discardBody(response);
      if (state.unauthorizedRetried) {
        const error = new IonAuthError(
          `${schedule.operation}: the ION API gateway rejected a newly obtained token (HTTP 401 twice); ` +
            'check that the authorized app may call M3 and that the service account is active',
          'api-call',
          401,
        );
        return { kind: 'give-up', error };
      }
      state.unauthorizedRetried = true;
      state.renewedToken = await this.tokens.onUnauthorized(token, schedule.deadline);
      return schedule.retryNow('unauthorized', 401);
    }
    // MI answers with 200, or 400 with an MI error in the body; anything else is the gateway's.
    if (response.status !== 200 && response.status !== 400) {
      await discardBody(response);
      const failure = failureOfStatus(response);
      return failure ? schedule.afterFailure(failure) : { kind: 'give-up', error: new MiHttpError(call.program, call.transaction, response.status) };
    }

    const read = await http.body(response, {
      maxBytes: this.maxAnswerBytes,
      advice:
        'An MI page this large is not M3 data (its fields have lengths of at most a few hundred characters): look for a proxy or ' +
        'gateway altering answers, or a record that breaks its field lengths; lower the entity\'s pageSize only if pages are ' +
        'legitimately this large',
    });
    if (read.kind !== 'body') return read;
    try {
      return { kind: 'answered', value: parseMiResponse(call, response.status, decodeMiBody(call, read.bytes)) };
    } catch (error) {
      if (error instanceof MiProtocolError && error.retryable) return schedule.afterFailure({ reason: 'protocol', status: response.status, cause: error });
      return { kind: 'give-up', error };
    }
  }
}

/** One execute() call across its attempts. */
interface CallState {
  call: MiCall;
  url: string;
  schedule: RetrySchedule;
  signal?: AbortSignal;
  /** The token a 401 made the provider renew, for the next attempt. */
  renewedToken?: string;
  /** A 401 is retried once: a second one means the token is refused, not expired. */
  unauthorizedRetried: boolean;
}
