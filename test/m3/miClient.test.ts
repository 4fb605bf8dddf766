// The MI client against the CloudSuite emulator over real HTTP: parsing, NOK, faults and retries,
// rate limits, deadlines. One tiny ad-hoc server covers a wire case the emulator cannot produce.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, DEFAULT_KNOBS, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { IonAuthError } from '#shared/ionapi/errors.ts';
import { InMemoryTokenCache } from '#shared/ionapi/tokenCache.ts';
import { TokenProvider } from '#shared/ionapi/tokenProvider.ts';
import { buildMiUrl, DEFAULT_ATTEMPT_TIMEOUT_MS, MiClient } from '#shared/m3/miClient.ts';
import { MiError, MiHttpError, MiProtocolError, MiSlowAnswerError, TransientError } from '#shared/m3/miErrors.ts';
import { Deadline, DeadlineExceededError } from '#shared/runtime/deadline.ts';
import { capturingLog, connect, emulatorConfig, type CapturingLog } from '../ionapi/support.ts';

const suppliers = { program: 'CRS620MI', transaction: 'LstSuppliers', inputs: { CONO: '100' }, maxRecords: 5 };

let emu: CloudSuiteEmulator;

beforeAll(async () => {
  emu = await startCloudSuiteEmulator({ seed: 11 });
});

afterAll(async () => {
  await emu.close();
});

afterEach(() => {
  emu.clearFaults();
  emu.resetCounters();
  emu.knobs = { ...DEFAULT_KNOBS };
  delete emu.onBeforeMiCall;
  process.env.CLOUDSUITE_SYNC_TIME_SCALE = '0.001';
});

function retriesLogged(log: CapturingLog): Record<string, unknown>[] {
  return log.warnings().map((line) => line.extra[0] as Record<string, unknown>);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('buildMiUrl', () => {
  it('sends inputs exactly as given and the control parameters', () => {
    const url = buildMiUrl('https://gw.example.com/ACME_PRD/', {
      program: 'EXPORTMI',
      transaction: 'Select',
      inputs: { QERY: "IAPUNO, IALMDT from MPHEAD where IALMDT >= 20260101 and IASUNO = 'A&B  '", SEPC: ';' },
      outputFields: ['REPL'],
      maxRecords: 0,
      company: '100',
      division: '',
    });
    const parsed = new URL(url);
    // The session company and division as matrix parameters, the way Infor's own SDK sends them.
    expect(parsed.pathname).toBe('/ACME_PRD/M3/m3api-rest/v2/execute/EXPORTMI/Select;cono=100;divi=');
    expect(parsed.searchParams.get('QERY')).toBe("IAPUNO, IALMDT from MPHEAD where IALMDT >= 20260101 and IASUNO = 'A&B  '");
    expect(url).toContain("%20%20'&SEPC=%3B"); // trailing blanks kept, spaces as %20
    expect([...parsed.searchParams.keys()]).toEqual(['QERY', 'SEPC', 'maxrecs', 'returncols', 'dateformat', 'righttrim', 'excludeempty']);
    expect(Object.fromEntries(parsed.searchParams)).toMatchObject({ maxrecs: '0', returncols: 'REPL', dateformat: 'YMD8', righttrim: 'true', excludeempty: 'false' });
  });

  it('can send the session as query parameters instead (the preflight compares both forms)', () => {
    const url = buildMiUrl('https://gw.example.com/ACME_PRD', { program: 'MNS150MI', transaction: 'GetUserData', company: '100', division: '', sessionForm: 'query' });
    expect(url).toBe('https://gw.example.com/ACME_PRD/M3/m3api-rest/v2/execute/MNS150MI/GetUserData?cono=100&divi=&dateformat=YMD8&righttrim=true&excludeempty=false');
  });

  it('leaves out maxrecs, returncols, cono and divi when not set', () => {
    const url = buildMiUrl('https://gw.example.com/ACME_PRD', { program: 'MNS150MI', transaction: 'GetUserData' });
    expect(url).toBe('https://gw.example.com/ACME_PRD/M3/m3api-rest/v2/execute/MNS150MI/GetUserData?dateformat=YMD8&righttrim=true&excludeempty=false');
  });

  it('refuses names that would change the path and a bad maxrecs', () => {
    expect(() => buildMiUrl('https://gw', { program: '../x', transaction: 'Get' })).toThrow(TypeError);
    expect(() => buildMiUrl('https://gw', { program: 'CRS620MI', transaction: 'LstSuppliers', maxRecords: -1 })).toThrow(/maxRecords/);
  });
});

describe('MiClient', () => {
  it('returns the records of a list call, as M3 sends them', async () => {
    const { mi } = connect(emu);
    const truth = emu.truth('CIDMAS', '100');
    const response = await mi.execute({ ...suppliers, inputs: { CONO: '100' }, maxRecords: 0, outputFields: ['SUNO', 'SUNM'] });
    expect(response.program).toBe('CRS620MI');
    expect(response.records).toEqual(truth.map((row) => ({ SUNO: row.SUNO, SUNM: row.SUNM })));
    expect(mi.stats()).toEqual({ calls: 1, retries: 0, rateLimited: 0 });
  });

  it('pages with FRSU/TOSU and maxrecs', async () => {
    const { mi } = connect(emu);
    const truth = emu.truth('CIDMAS', '100').map((row) => row.SUNO);
    const { records } = await mi.execute({ ...suppliers, inputs: { CONO: '100', FRSU: truth[2]!, TOSU: truth[10]! }, maxRecords: 4, outputFields: ['SUNO'] });
    expect(records.map((r) => r.SUNO)).toEqual(truth.slice(2, 6));
  });

  it('leaves decimal strings and 18-digit timestamps untouched', async () => {
    const { mi } = connect(emu);
    const { records } = await mi.execute({
      program: 'EXPORTMI',
      transaction: 'Select',
      inputs: { QERY: 'IAPUNO, IALMTS, IACOAM from MPHEAD', SEPC: ';' },
      company: '100',
      maxRecords: 0,
    });
    const truth = emu.truth('MPHEAD', '100');
    const got = records.map((r) => r.REPL!.split(';'));
    expect(got).toEqual(truth.map((row) => [row.PUNO, row.LMTS, row.COAM]));
    const timestamps = got.map(([, lmts]) => lmts!);
    expect(timestamps.some((t) => t.length === 18 && BigInt(t) > BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
    expect(got.some(([, , amount]) => /\.\d+$/.test(amount!))).toBe(true);
  });

  it('reports a NOK answered with HTTP 400 as MiError with code and field, without retrying', async () => {
    const { mi } = connect(emu);
    const error = await failure(mi.execute({ ...suppliers, inputs: { CONO: '100', XXXX: '1' } }));
    expect(error).toBeInstanceOf(MiError);
    expect(error).toMatchObject({ name: 'MiError', program: 'CRS620MI', transaction: 'LstSuppliers', code: 'XFL0103', field: 'XXXX', status: 400 });
    expect((error as MiError).miMessage).not.toMatch(/\s$/);
    expect(error.message).toContain('CRS620MI/LstSuppliers');
    expect(emu.counters.miCalls).toBe(1);
  });

  it.each([
    ['a session company', { company: '999' }],
    ['a CONO input', { inputs: { CONO: '999' } }],
  ])('reports a company the user may not use (%s) as XAU0008 on CONO', async (_label, request) => {
    const { mi } = connect(emu);
    const error = await failure(mi.execute({ ...suppliers, ...request }));
    expect(error).toMatchObject({ name: 'MiError', code: 'XAU0008', field: 'CONO' });
    expect(error.message).toContain('not authorised for this company');
  });

  it('treats a page with records and an error (partial NOK) as failed', async () => {
    emu.injectFault({ kind: 'partial-nok' });
    const { mi } = connect(emu);
    const error = await failure(mi.execute(suppliers));
    expect(error).toBeInstanceOf(MiError);
    expect(emu.counters.miCalls).toBe(1);
  });

  it('retries a truncated body, then succeeds', async () => {
    emu.injectFault({ kind: 'malformed' });
    const { mi, log } = connect(emu);
    const { records } = await mi.execute(suppliers);
    expect(records).toHaveLength(5);
    expect(emu.counters.miCalls).toBe(2);
    expect(retriesLogged(log)).toEqual([expect.objectContaining({ operation: 'CRS620MI/LstSuppliers', reason: 'protocol', attempt: 1 })]);
  });

  it('gives up on bodies that stay malformed with a TransientError', async () => {
    emu.injectFault({ kind: 'malformed', count: 10 });
    const { mi } = connect(emu, { mi: { retry: { transientRetries: 2 } } });
    const error = await failure(mi.execute(suppliers));
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).cause).toBeInstanceOf(MiProtocolError);
    expect(emu.counters.miCalls).toBe(3);
  });

  it.each([
    ['http500', 500],
    ['http502', 502],
    ['http503', 503],
    ['http504', 504],
    ['reset', undefined],
  ] as const)('retries %s, then succeeds', async (kind, status) => {
    emu.injectFault({ kind, count: 2 });
    const { mi, log } = connect(emu);
    const { records } = await mi.execute(suppliers);
    expect(records).toHaveLength(5);
    expect(emu.counters).toMatchObject({ faultsInjected: 2, miCalls: 3 });
    expect(retriesLogged(log)).toEqual([
      expect.objectContaining({ reason: status ? 'server-error' : 'network', status, attempt: 1 }),
      expect.objectContaining({ attempt: 2 }),
    ]);
    expect(mi.stats()).toEqual({ calls: 1, retries: 2, rateLimited: 0 });
  });

  it.each(['seconds', 'http-date', 'none'] as const)('rides out a 429 storm with Retry-After %s', async (retryAfter) => {
    emu.injectFault({ kind: 'http429', count: 6, retryAfter });
    const { mi, log, tokens } = connect(emu);
    await tokens.getAccessToken();
    const started = Date.now();
    const { records } = await mi.execute(suppliers);
    expect(records).toHaveLength(5);
    // Six nominal waits of up to 1 s each: the time scale applies to Retry-After too.
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(mi.stats()).toEqual({ calls: 1, retries: 6, rateLimited: 6 });
    const logged = retriesLogged(log);
    expect(logged).toHaveLength(6);
    expect(logged[5]).toMatchObject({ reason: 'rate-limited', status: 429, attempt: 6, maxRetries: 8 });
    if (retryAfter === 'seconds') expect(logged[0]).toMatchObject({ retryAfter: '1', waitMs: 1000 });
    if (retryAfter === 'none') expect(logged[0]?.retryAfter).toBeUndefined();
    // An HTTP date has whole seconds: "1 s from now" rounded up to the next second is 1 to 2 s away.
    if (retryAfter === 'http-date') expect(logged[0]?.waitMs as number).toBeGreaterThan(900);
    if (retryAfter === 'http-date') expect(logged[0]?.waitMs as number).toBeLessThanOrEqual(2000);
  });

  it('rides out the gateway rate limit with concurrent callers', async () => {
    // 20 ms per call: slow enough that six calls at once trip it even on a loaded machine.
    emu.knobs.rateLimit = { requestsPerSecond: 50, burst: 1, retryAfter: 'seconds' };
    // Retry-After is whole seconds; at the test time scale that is 1 ms, so give the bucket real time.
    process.env.CLOUDSUITE_SYNC_TIME_SCALE = '0.02';
    const { mi } = connect(emu);
    await Promise.all(Array.from({ length: 6 }, () => mi.execute(suppliers)));
    expect(mi.stats().rateLimited).toBeGreaterThan(0);
    expect(mi.stats().rateLimited).toBe(emu.counters.rateLimited);
  });

  it('gives up after 8 rate-limited retries with a TransientError carrying the status', async () => {
    emu.injectFault({ kind: 'http429', count: 50 });
    const { mi } = connect(emu);
    const error = await failure(mi.execute(suppliers));
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ name: 'TransientError', lastStatus: 429 });
    expect(error.message).toContain('CRS620MI/LstSuppliers');
    expect(emu.counters.rateLimited + emu.counters.faultsInjected).toBe(9);
  });

  it('gives up after 4 server-error retries with a TransientError, without the token anywhere', async () => {
    emu.injectFault({ kind: 'http503', count: 50 });
    const { mi, tokens, log } = connect(emu);
    const error = await failure(mi.execute(suppliers));
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ lastStatus: 503, details: expect.objectContaining({ attempts: 5 }) });
    expect(emu.counters.faultsInjected).toBe(5);
    const token = await tokens.getAccessToken();
    expect(inspect(error, { depth: 20 })).not.toContain(token);
    expect(JSON.stringify(error)).not.toContain(token);
    expect(log.text()).not.toContain(token);
  });

  it('gives up on repeated connection resets with a TransientError', async () => {
    emu.injectFault({ kind: 'reset', count: 50 });
    const { mi } = connect(emu, { mi: { retry: { transientRetries: 1 } } });
    const error = await failure(mi.execute(suppliers));
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).lastStatus).toBeUndefined();
    expect(error.cause).toBeDefined();
  });

  it('retries an attempt that times out', async () => {
    emu.onBeforeMiCall = async ({ callIndex }) => {
      if (callIndex === 0) await sleep(1_000);
    };
    const { mi, log } = connect(emu, { mi: { attemptTimeoutMs: 150 } });
    const { records } = await mi.execute(suppliers);
    expect(records).toHaveLength(5);
    expect(retriesLogged(log)).toEqual([expect.objectContaining({ reason: 'timeout', attempt: 1 })]);
  });

  it('hands a 504 or a timed-out attempt back at once when the caller asks for it, without retrying', async () => {
    const { mi, log } = connect(emu, { mi: { attemptTimeoutMs: 150 } });
    emu.injectFault({ kind: 'http504', program: 'CRS620MI' });
    const gatewayTimeout = await failure(mi.execute(suppliers, { slowAnswers: 'hand-back' }));
    expect(gatewayTimeout).toBeInstanceOf(MiSlowAnswerError);
    expect(gatewayTimeout).toBeInstanceOf(TransientError);
    expect(gatewayTimeout.message).toContain('CRS620MI/LstSuppliers: the gateway timed out (HTTP 504)');
    emu.onBeforeMiCall = async ({ callIndex }) => {
      if (callIndex === 1) await sleep(1_000);
    };
    const slow = await failure(mi.execute(suppliers, { slowAnswers: 'hand-back' }));
    expect(slow).toBeInstanceOf(MiSlowAnswerError);
    expect(slow.message).toContain('no answer within 150 ms');
    expect(retriesLogged(log)).toEqual([]);
    expect(emu.counters.miCalls).toBe(2);
    // Other failures still follow the policy.
    emu.injectFault({ kind: 'http500', program: 'CRS620MI' });
    expect((await mi.execute(suppliers, { slowAnswers: 'hand-back' })).records).toHaveLength(5);
  });

  it('waits 120 s per attempt by default: longer than the gateway\'s 60 s target timeout', () => {
    expect(DEFAULT_ATTEMPT_TIMEOUT_MS).toBe(120_000);
  });

  it('throws DeadlineExceededError instead of waiting past the deadline', async () => {
    const { mi, tokens } = connect(emu);
    await tokens.getAccessToken();
    // 60 s Retry-After at scale 0.05 is a 3 s real wait; the deadline is 1 s away.
    process.env.CLOUDSUITE_SYNC_TIME_SCALE = '0.05';
    emu.knobs.rateLimit = { requestsPerSecond: 0, burst: 1, retryAfter: 'seconds' };
    await mi.execute(suppliers); // takes the only token of the bucket
    const started = Date.now();
    const error = await failure(mi.execute(suppliers, { deadline: Deadline.in(1_000) }));
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error.message).toContain('CRS620MI/LstSuppliers');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(emu.counters.rateLimited).toBe(1);
  });

  it('cuts an attempt still in flight at the deadline', async () => {
    emu.knobs.latencyMs = 3_000;
    const { mi, tokens } = connect(emu);
    await tokens.getAccessToken();
    const started = Date.now();
    const error = await failure(mi.execute(suppliers, { deadline: Deadline.in(300) }));
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('does not call at all when the deadline has passed', async () => {
    const { mi } = connect(emu);
    await expect(mi.execute(suppliers, { deadline: Deadline.in(-1) })).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(emu.counters.miCalls).toBe(0);
  });

  it('stops when the caller aborts', async () => {
    emu.knobs.latencyMs = 3_000;
    const { mi } = connect(emu);
    const controller = new AbortController();
    const started = Date.now();
    const call = mi.execute(suppliers, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const error = await failure(call);
    expect(error.name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('reports a token the gateway keeps rejecting as IonAuthError after one renewal', async () => {
    emu.injectFault({ kind: 'revoke-token', count: 2 });
    const { mi } = connect(emu);
    const error = await failure(mi.execute(suppliers));
    expect(error).toBeInstanceOf(IonAuthError);
    expect(error).toMatchObject({ step: 'api-call', status: 401 });
    expect(error.message).toContain('CRS620MI/LstSuppliers');
    expect(emu.counters.unauthorized).toBe(2);
  });

  it('reports an unknown program as NOK and a wrong base URL as an HTTP error', async () => {
    const { mi, tokens } = connect(emu);
    await expect(mi.execute({ program: 'XXX999MI', transaction: 'Get' })).rejects.toMatchObject({ name: 'MiError', code: 'XPG0103' });
    const wrongBase = new MiClient({ apiBaseUrl: `${emu.url}/OTHER_TENANT`, tokens, log: capturingLog() });
    const error = await failure(wrongBase.execute(suppliers));
    expect(error).toBeInstanceOf(MiHttpError);
    expect(error).toMatchObject({ status: 404 });
  });

  it('refuses a record value that is not a string without retrying', async () => {
    // The emulator always sends strings; this 200 with a number needs a hand-made server.
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ results: [{ transaction: 'LstSuppliers', records: [{ SUNO: 'S1', CFI2: 12.5 }] }], nrOfFailedTransactions: 0 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ACME_PRD`;
      const config = emulatorConfig(emu);
      const cache = new InMemoryTokenCache();
      await cache.write(config.tenant, { accessToken: 'test-token', obtainedAtMs: Date.now(), expiresAtMs: Date.now() + 3_600_000 });
      const tokens = new TokenProvider({ config, cache, log: capturingLog() });
      const mi = new MiClient({ apiBaseUrl: base, tokens, log: capturingLog() });
      const error = await failure(mi.execute(suppliers));
      expect(error).toBeInstanceOf(MiProtocolError);
      expect(error.message).toContain('field CFI2 is a number');
      expect(requests).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('client-side pacing', () => {
  it('spreads calls at the configured rate so a rate-limited gateway never answers 429', async () => {
    const { startCloudSuiteEmulator } = await import('#emulators/cloudsuite/index.ts');
    const { parseIonApiFile } = await import('#shared/ionapi/ionApiFile.ts');
    const { InMemoryTokenCache } = await import('#shared/ionapi/tokenCache.ts');
    const { TokenProvider } = await import('#shared/ionapi/tokenProvider.ts');
    const { MiClient } = await import('#shared/m3/miClient.ts');
    // Spike arrest at 50 calls/s with a burst of 2 (room for network jitter between paced calls).
    const emu = await startCloudSuiteEmulator({ seed: 2, knobs: { rateLimit: { requestsPerSecond: 50, burst: 2, retryAfter: 'seconds' } } });
    try {
      const config = parseIonApiFile(JSON.stringify(emu.ionapi), 'emulator.ionapi');
      const tokens = new TokenProvider({ config, cache: new InMemoryTokenCache() });
      // Pacing is a wait like the others, scaled in tests; the emulator's rate limit is real time, so this
      // client paces in real time (the interval is fixed when the client is made).
      const scale = process.env.CLOUDSUITE_SYNC_TIME_SCALE;
      process.env.CLOUDSUITE_SYNC_TIME_SCALE = '1';
      const paced = new MiClient({ apiBaseUrl: config.apiBaseUrl, tokens, maxRequestsPerSecond: 25 });
      process.env.CLOUDSUITE_SYNC_TIME_SCALE = scale;
      await tokens.getAccessToken();
      for (let i = 0; i < 15; i++) await paced.execute({ program: 'MNS150MI', transaction: 'GetUserData' });
      expect(emu.counters.rateLimited).toBe(0);
      const unpaced = new MiClient({ apiBaseUrl: config.apiBaseUrl, tokens });
      // Unpaced, the same calls at once trip spike arrest (with test-scaled waits some even give up).
      await Promise.allSettled(Array.from({ length: 10 }, () => unpaced.execute({ program: 'MNS150MI', transaction: 'GetUserData' })));
      expect(emu.counters.rateLimited).toBeGreaterThan(0);
    } finally {
      await emu.close();
    }
  });
});
