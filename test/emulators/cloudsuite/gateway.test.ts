// Gateway behaviour around MI calls: injected faults of every kind, the token-bucket rate limit with
// each Retry-After style, added latency, and the hook that lets tests change data mid-run.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '../../../infra/local/emulators/cloudsuite/index.ts';
import { PLAIN, TestClient } from './testClient.ts';

let emulator: CloudSuiteEmulator;
let client: TestClient;
const LIST = { ...PLAIN, maxrecs: '10' };

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ volume: { purchaseOrders: 4, invoices: 4, glTransactions: 10, bigOrderLines: 0 } });
  client = new TestClient(emulator);
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.clearFaults();
  emulator.knobs = { ...emulator.knobs, rateLimit: null, latencyMs: 0 };
  emulator.onBeforeMiCall = undefined;
  emulator.resetCounters();
  client.forgetToken();
});

describe('injected faults', () => {
  it.each([
    ['http500', 500],
    ['http502', 502],
    ['http503', 503],
    ['http504', 504],
  ] as const)('%s answers %i once, then the call works again', async (kind, status) => {
    emulator.injectFault({ kind });
    const failed = await client.raw('CRS620MI', 'LstSuppliers', LIST);
    expect(failed.status).toBe(status);
    expect(() => JSON.parse(failed.text)).toThrow();
    expect((await client.raw('CRS620MI', 'LstSuppliers', LIST)).status).toBe(200);
    expect(emulator.counters.faultsInjected).toBe(1);
  });

  it('reset drops the connection without an answer', async () => {
    emulator.injectFault({ kind: 'reset' });
    await expect(client.raw('CRS620MI', 'LstSuppliers', LIST)).rejects.toThrow();
    expect((await client.raw('CRS620MI', 'LstSuppliers', LIST)).status).toBe(200);
  });

  it('malformed answers 200 with a JSON body cut short', async () => {
    emulator.injectFault({ kind: 'malformed' });
    const answer = await client.raw('CRS620MI', 'LstSuppliers', LIST);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/json/);
    expect(answer.text.startsWith('{"results":')).toBe(true);
    expect(() => JSON.parse(answer.text)).toThrow();
  });

  it('partial-nok answers 200 with part of the page and an error in the same result', async () => {
    const full = await client.mi('CRS620MI', 'LstSuppliers', LIST);
    emulator.injectFault({ kind: 'partial-nok' });
    const answer = await client.raw('CRS620MI', 'LstSuppliers', LIST);
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.text);
    expect(body.nrOfFailedTransactions).toBe(1);
    const result = body.results[0];
    expect(result.records.length).toBeGreaterThan(0);
    expect(result.records.length).toBeLessThan(full.records.length);
    expect(result.records).toEqual(full.records.slice(0, result.records.length));
    expect(result).toMatchObject({ errorType: 'ServerReturnedNOK', errorCode: expect.stringMatching(/\S/) });
    expect(result).toHaveProperty('errorMessage');
    expect(result).toHaveProperty('errorField');
  });

  it('revoke-token revokes every token server-side and answers 401', async () => {
    const { access_token, refresh_token } = await client.tokens();
    emulator.injectFault({ kind: 'revoke-token' });
    expect((await client.raw('CRS620MI', 'LstSuppliers', LIST, { token: access_token })).status).toBe(401);
    expect((await client.raw('CRS620MI', 'LstSuppliers', LIST, { token: access_token })).status).toBe(401);
    expect((await client.refreshGrant(refresh_token!)).status).toBe(400);
    const fresh = await client.tokens();
    expect((await client.raw('CRS620MI', 'LstSuppliers', LIST, { token: fresh.access_token })).status).toBe(200);
  });

  it.each([
    ['seconds', (v: string | null) => expect(v).toMatch(/^\d+$/)],
    ['http-date', (v: string | null) => expect(Number.isNaN(Date.parse(v ?? ''))).toBe(false)],
    ['none', (v: string | null) => expect(v).toBeNull()],
  ] as const)('http429 answers 429 with Retry-After style %s', async (retryAfter, check) => {
    emulator.injectFault({ kind: 'http429', retryAfter });
    const answer = await client.raw('CRS620MI', 'LstSuppliers', LIST);
    expect(answer.status).toBe(429);
    check(answer.headers.get('retry-after'));
  });

  it('token-endpoint-500 fails the token endpoint and leaves MI calls alone', async () => {
    await client.accessToken();
    const grants = emulator.counters.passwordGrants;
    emulator.injectFault({ kind: 'token-endpoint-500', count: 2 });
    expect((await client.raw('CRS620MI', 'LstSuppliers', LIST)).status).toBe(200);
    expect((await client.passwordGrant()).status).toBe(500);
    expect((await client.passwordGrant()).status).toBe(500);
    expect((await client.passwordGrant()).status).toBe(200);
    expect(emulator.counters.passwordGrants).toBe(grants + 1);
  });

  it('matches rules by program and transaction, skips afterCalls and fires count times', async () => {
    emulator.injectFault({ kind: 'http503', program: 'CRS620MI', transaction: 'LstSuppliers', afterCalls: 2, count: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await client.raw('MNS150MI', 'GetUserData', PLAIN)).status);
      statuses.push((await client.raw('CRS620MI', 'LstSuppliers', LIST)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 503, 200, 503, 200, 200]);
    expect(emulator.counters.faultsInjected).toBe(2);
  });

  it('applies rules in order and forgets them on clearFaults', async () => {
    emulator.injectFault({ kind: 'http502', program: 'CRS620MI' });
    emulator.injectFault({ kind: 'http500' });
    expect((await client.raw('CRS620MI', 'LstSuppliers', LIST)).status).toBe(502);
    expect((await client.raw('CRS620MI', 'LstSuppliers', LIST)).status).toBe(500);
    emulator.injectFault({ kind: 'http500', count: 5 });
    emulator.clearFaults();
    expect((await client.raw('CRS620MI', 'LstSuppliers', LIST)).status).toBe(200);
  });

  it('rejects malformed rules', () => {
    expect(() => emulator.injectFault({ kind: 'http418' as never })).toThrow(/unknown kind/);
    expect(() => emulator.injectFault({ kind: 'http500', count: 0 })).toThrow(/count/);
  });
});

describe('rate limit', () => {
  it.each([
    ['seconds', (v: string | null) => expect(Number(v)).toBeGreaterThanOrEqual(1)],
    ['http-date', (v: string | null) => expect(Date.parse(v ?? '')).toBeGreaterThan(Date.now() - 2_000)],
    ['none', (v: string | null) => expect(v).toBeNull()],
  ] as const)('answers 429 when the bucket is empty, Retry-After %s', async (retryAfter, check) => {
    await client.accessToken();
    emulator.knobs.rateLimit = { requestsPerSecond: 0.5, burst: 2, retryAfter };
    expect((await client.raw('MNS150MI', 'GetUserData', PLAIN)).status).toBe(200);
    expect((await client.raw('MNS150MI', 'GetUserData', PLAIN)).status).toBe(200);
    const limited = await client.raw('MNS150MI', 'GetUserData', PLAIN);
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.text)).toEqual({ error: 'Too Many Requests' });
    check(limited.headers.get('retry-after'));
    expect(emulator.counters.rateLimited).toBe(1);
    // Rate-limited calls never reach M3.
    expect(emulator.counters.miCalls).toBe(2);
  });

  it('refills at requestsPerSecond', async () => {
    await client.accessToken();
    emulator.knobs.rateLimit = { requestsPerSecond: 20, burst: 1, retryAfter: 'seconds' };
    expect((await client.raw('MNS150MI', 'GetUserData', PLAIN)).status).toBe(200);
    expect((await client.raw('MNS150MI', 'GetUserData', PLAIN)).status).toBe(429);
    await new Promise((r) => setTimeout(r, 80));
    expect((await client.raw('MNS150MI', 'GetUserData', PLAIN)).status).toBe(200);
  });

  it('does not limit the token endpoint', async () => {
    emulator.knobs.rateLimit = { requestsPerSecond: 0.1, burst: 1, retryAfter: 'seconds' };
    for (let i = 0; i < 3; i++) expect((await client.passwordGrant()).status).toBe(200);
  });
});

describe('latency and hooks', () => {
  it('adds latencyMs to every MI call', async () => {
    await client.accessToken();
    emulator.knobs.latencyMs = 150;
    const started = performance.now();
    await client.mi('MNS150MI', 'GetUserData', PLAIN);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });

  it('calls onBeforeMiCall with a running call index before the call reads data', async () => {
    const seen: string[] = [];
    emulator.onBeforeMiCall = async ({ program, transaction, callIndex }) => {
      seen.push(`${callIndex}:${program}/${transaction}`);
      if (callIndex === 1) emulator.mutate({ table: 'CIDMAS', inserts: 1, company: '100' });
    };
    const before = emulator.truth('CIDMAS', '100').length;
    const first = await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: '0' });
    const second = await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: '0' });
    expect(first.records).toHaveLength(before);
    expect(second.records).toHaveLength(before + 1);
    expect(seen).toEqual(['0:CRS620MI/LstSuppliers', '1:CRS620MI/LstSuppliers']);
    expect(emulator.counters.callsByTransaction).toEqual({ 'CRS620MI/LstSuppliers': 2 });
  });
});
