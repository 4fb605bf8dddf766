// Token handling against the CloudSuite emulator's authorization server and gateway, over real HTTP.
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, DEFAULT_KNOBS, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { TransientError } from '#shared/http/transientError.ts';
import { IonAuthError } from '#shared/ionapi/errors.ts';
import { OAuthClient } from '#shared/ionapi/oauthClient.ts';
import { parseIonApiFile } from '#shared/ionapi/ionApiFile.ts';
import { InMemoryTokenCache } from '#shared/ionapi/tokenCache.ts';
import { Deadline, DeadlineExceededError } from '#shared/runtime/deadline.ts';
import { capturingLog, connect, emulatorConfig, type CapturingLog } from './support.ts';

const suppliers = { program: 'CRS620MI', transaction: 'LstSuppliers', inputs: { CONO: '100' }, maxRecords: 5 };

let emu: CloudSuiteEmulator;

beforeAll(async () => {
  emu = await startCloudSuiteEmulator({ seed: 7 });
});

afterAll(async () => {
  await emu.close();
});

afterEach(() => {
  emu.clearFaults();
  emu.resetCounters();
  emu.knobs = { ...DEFAULT_KNOBS };
});

/** Every token the cache has seen must be absent from everything logged. */
function expectNoTokensLogged(log: CapturingLog, tokens: (string | undefined)[]): void {
  const text = log.text();
  for (const token of tokens) if (token) expect(text).not.toContain(token);
}

describe('TokenProvider', () => {
  it('uses the client credentials grant for an app without a service account, shared by concurrent callers and renewed after a 401', async () => {
    emu.knobs.backendApp = 'client-credentials';
    const { tokens, mi, log } = connect(emu);
    const got = await Promise.all(Array.from({ length: 10 }, () => tokens.getAccessToken()));
    expect(new Set(got).size).toBe(1);
    expect(emu.counters.clientCredentialsGrants).toBe(1);
    emu.revokeAllTokens();
    const { records } = await mi.execute(suppliers);
    expect(records.length).toBe(5);
    expect(tokens.stats()).toEqual({ passwordGrants: 0, refreshGrants: 0, clientCredentialsGrants: 2 });
    expect(emu.counters.passwordGrants).toBe(0);
    expectNoTokensLogged(log, got);
  });

  it('says what to do when the app refuses the client credentials grant', async () => {
    const { saak: _a, sask: _s, ...file } = emu.ionapi;
    const { tokens } = connect(emu, { config: parseIonApiFile(JSON.stringify(file), 'cc.ionapi') });
    const error = await tokens.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IonAuthError);
    expect((error as IonAuthError).message).toMatch(/does not allow the client credentials grant: .*has no service account \(saak, sask\)/);
  });

  it('makes one password grant for many concurrent callers', async () => {
    const { tokens, log } = connect(emu);
    const got = await Promise.all(Array.from({ length: 25 }, () => tokens.getAccessToken()));
    expect(new Set(got).size).toBe(1);
    expect(emu.counters.passwordGrants).toBe(1);
    expect(tokens.stats()).toEqual({ passwordGrants: 1, refreshGrants: 0, clientCredentialsGrants: 0 });
    expectNoTokensLogged(log, got);
  });

  it('lets concurrent callers in one process share one renewal (one cache lock, one read)', async () => {
    const inner = new InMemoryTokenCache();
    const calls = { read: 0, tryLock: 0 };
    const cache = {
      read: (tenant: string) => (calls.read++, inner.read(tenant)),
      write: (tenant: string, token: Parameters<InMemoryTokenCache['write']>[1]) => inner.write(tenant, token),
      tryLock: (tenant: string, ttlMs: number) => (calls.tryLock++, inner.tryLock(tenant, ttlMs)),
    };
    const { tokens } = connect(emu, { cache });
    await Promise.all(Array.from({ length: 25 }, () => tokens.getAccessToken()));
    expect(calls).toEqual({ read: 2, tryLock: 1 }); // read, lock, read again under the lock
  });

  it('shares one grant between processes through the cache lock', async () => {
    // Three providers over one cache stand for three Lambdas over one DynamoDB table.
    const cache = new InMemoryTokenCache();
    const providers = [connect(emu, { cache }), connect(emu, { cache }), connect(emu, { cache })].map((c) => c.tokens);
    const got = await Promise.all(providers.flatMap((p) => Array.from({ length: 5 }, () => p.getAccessToken())));
    expect(new Set(got).size).toBe(1);
    expect(emu.counters.passwordGrants).toBe(1);
  });

  it('waits for the lock holder instead of granting, and takes its token', async () => {
    const cache = new InMemoryTokenCache();
    const { tokens, config } = connect(emu, { cache });
    const lock = await cache.tryLock(config.tenant, 60_000);
    expect(lock).toBeDefined();
    const waiting = tokens.getAccessToken(Deadline.in(10_000));
    // The "other process" obtains and publishes a token, then releases the lock.
    const grant = await new OAuthClient({ config, log: capturingLog() }).passwordGrant();
    await cache.write(config.tenant, { accessToken: grant.accessToken, obtainedAtMs: Date.now(), expiresAtMs: Date.now() + 3_600_000 });
    await lock!.release();
    expect(await waiting).toBe(grant.accessToken);
    expect(tokens.stats().passwordGrants).toBe(0);
    expect(emu.counters.passwordGrants).toBe(1);
  });

  it('stops waiting for a lock holder at the deadline', async () => {
    const cache = new InMemoryTokenCache();
    const { tokens, config } = connect(emu, { cache });
    await cache.tryLock(config.tenant, 60_000);
    const started = Date.now();
    await expect(tokens.getAccessToken(Deadline.in(200))).rejects.toBeInstanceOf(DeadlineExceededError);
    // Long before the holder's 60 s lock would lapse (a bound loose enough for a loaded machine).
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(emu.counters.passwordGrants).toBe(0);
  });

  it('takes over the lock of a holder that died once its TTL passes', async () => {
    const cache = new InMemoryTokenCache();
    const { tokens, config } = connect(emu, { cache });
    await cache.tryLock(config.tenant, 100);
    await tokens.getAccessToken(Deadline.in(10_000));
    expect(emu.counters.passwordGrants).toBe(1);
  });

  it('refreshes proactively within the skew of expiry, and not before', async () => {
    let now = Date.now();
    const { tokens, cache, config, log } = connect(emu, { tokens: { now: () => now } });
    const first = await tokens.getAccessToken();
    // 7200 s tokens: skew = min(300 s, 720 s) = 300 s.
    now += (7200 - 301) * 1000;
    expect(await tokens.getAccessToken()).toBe(first);
    now += 2_000;
    const second = await tokens.getAccessToken();
    expect(second).not.toBe(first);
    expect(emu.counters).toMatchObject({ passwordGrants: 1, refreshGrants: 1 });
    expect((await cache.read(config.tenant))?.accessToken).toBe(second);
    expectNoTokensLogged(log, [first, second, (await cache.read(config.tenant))?.refreshToken]);
  });

  it('uses a tenth of a short token lifetime as the skew', async () => {
    emu.knobs.tokenLifetimeSeconds = 60;
    let now = Date.now();
    const { tokens } = connect(emu, { tokens: { now: () => now } });
    const first = await tokens.getAccessToken();
    now += 53_000; // 7 s left: more than 6 s (60 / 10)
    expect(await tokens.getAccessToken()).toBe(first);
    now += 2_000; // 5 s left
    expect(await tokens.getAccessToken()).not.toBe(first);
    expect(emu.counters.refreshGrants).toBe(1);
  });

  it('keeps the old refresh token when a refresh answer omits one', async () => {
    // The emulator omits the refresh token on every other refresh and rolls it on the others.
    let now = Date.now();
    const { tokens, cache, config } = connect(emu, { tokens: { now: () => now } });
    await tokens.getAccessToken();
    const original = (await cache.read(config.tenant))?.refreshToken;
    expect(original).toBeDefined();
    const refreshes: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      now += 7200 * 1000;
      await tokens.getAccessToken();
      refreshes.push((await cache.read(config.tenant))?.refreshToken);
    }
    expect(refreshes[0]).toBe(original); // omitted: kept
    expect(refreshes[1]).not.toBe(original); // rolled: replaced
    expect(emu.counters).toMatchObject({ passwordGrants: 1, refreshGrants: 3 });
    expect(tokens.stats()).toEqual({ passwordGrants: 1, refreshGrants: 3, clientCredentialsGrants: 0 });
  });

  it('recovers from access tokens expiring mid-run: 401, refresh, success', async () => {
    const { mi, tokens, log } = connect(emu);
    await mi.execute(suppliers);
    emu.expireAccessTokens();
    const { records } = await mi.execute(suppliers);
    expect(records).toHaveLength(5);
    expect(emu.counters).toMatchObject({ unauthorized: 1, passwordGrants: 1, refreshGrants: 1 });
    expect(tokens.stats()).toEqual({ passwordGrants: 1, refreshGrants: 1, clientCredentialsGrants: 0 });
    expect(log.warnings().map((l) => l.extra[0])).toContainEqual(expect.objectContaining({ reason: 'unauthorized', status: 401 }));
  });

  it('many concurrent calls hit by one expiry renew the token once', async () => {
    const { mi } = connect(emu);
    await mi.execute(suppliers);
    emu.expireAccessTokens();
    await Promise.all(Array.from({ length: 10 }, () => mi.execute(suppliers)));
    expect(emu.counters).toMatchObject({ unauthorized: 10, passwordGrants: 1, refreshGrants: 1 });
  });

  it.each([
    ['revokeAllTokens', () => emu.revokeAllTokens()],
    ['a revoke-token fault', () => emu.injectFault({ kind: 'revoke-token' })],
  ])('recovers from server-side revocation (%s): refresh refused, password grant, success', async (_label, revoke) => {
    const { mi, log } = connect(emu);
    await mi.execute(suppliers);
    revoke();
    const { records } = await mi.execute(suppliers);
    expect(records).toHaveLength(5);
    expect(emu.counters).toMatchObject({ unauthorized: 1, passwordGrants: 2, refreshGrants: 0 });
    expect(log.lines.some((l) => l.message.includes('refresh token refused'))).toBe(true);
  });

  it('uses a password grant on 401 when the app issues no refresh tokens', async () => {
    emu.knobs.issueRefreshTokens = false;
    const { mi, tokens } = connect(emu);
    await mi.execute(suppliers);
    emu.expireAccessTokens();
    await mi.execute(suppliers);
    expect(emu.counters).toMatchObject({ unauthorized: 1, passwordGrants: 2, refreshGrants: 0 });
    expect(tokens.stats()).toEqual({ passwordGrants: 2, refreshGrants: 0, clientCredentialsGrants: 0 });
  });

  it('adopts a token another process already renewed instead of renewing again', async () => {
    const cache = new InMemoryTokenCache();
    const a = connect(emu, { cache });
    const b = connect(emu, { cache });
    await a.mi.execute(suppliers);
    await b.mi.execute(suppliers);
    emu.expireAccessTokens();
    await a.mi.execute(suppliers); // a refreshes and writes the cache
    await b.mi.execute(suppliers); // b gets a 401 and finds a's newer token
    expect(emu.counters).toMatchObject({ passwordGrants: 1, refreshGrants: 1, unauthorized: 2 });
  });

  it('retries the token endpoint after HTTP 500', async () => {
    emu.injectFault({ kind: 'token-endpoint-500', count: 2 });
    const { tokens, log } = connect(emu);
    await tokens.getAccessToken();
    expect(emu.counters).toMatchObject({ passwordGrants: 1, faultsInjected: 2 });
    const warnings = log.warnings().map((l) => l.extra[0]);
    expect(warnings).toEqual([
      expect.objectContaining({ operation: 'ION API token request (password grant)', status: 500, attempt: 1 }),
      expect.objectContaining({ status: 500, attempt: 2 }),
    ]);
  });

  it('gives up on a failing token endpoint with a TransientError after the retry budget', async () => {
    emu.injectFault({ kind: 'token-endpoint-500', count: 50 });
    const { tokens } = connect(emu, { tokens: {} });
    const error = await tokens.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).lastStatus).toBe(500);
    expect(emu.counters.faultsInjected).toBe(5); // 1 + 4 retries
  });

  it('reports a wrong client secret as invalid_client, without the secret', async () => {
    const canary = 'CANARY-wrong-client-secret';
    const { tokens } = connect(emu, { config: emulatorConfig(emu, { cs: canary }) });
    const error = (await tokens.getAccessToken().catch((e: unknown) => e)) as IonAuthError;
    expect(error).toBeInstanceOf(IonAuthError);
    expect(error).toMatchObject({ name: 'IonAuthError', oauthError: 'invalid_client', status: 401, step: 'password-grant' });
    expect(error.message).toContain('check the client id (ci) and client secret (cs)');
    expect(inspect(error)).not.toContain(canary);
    expect(emu.counters.passwordGrants).toBe(0);
  });

  it('reports rejected service-account keys as invalid_grant, without the keys', async () => {
    const canary = 'CANARY-wrong-secret-key';
    const { tokens } = connect(emu, { config: emulatorConfig(emu, { sask: canary }) });
    const error = (await tokens.getAccessToken().catch((e: unknown) => e)) as IonAuthError;
    expect(error).toMatchObject({ name: 'IonAuthError', oauthError: 'invalid_grant', status: 400 });
    expect(error.message).toContain('service account keys (saak, sask)');
    expect(inspect(error)).not.toContain(canary);
    expect(inspect(error)).not.toContain(emu.ionapi.saak);
  });

  it('revokes the refresh token for one-shot runs; the next call starts over', async () => {
    const { tokens, mi, cache, config } = connect(emu);
    const before = await tokens.getAccessToken();
    await tokens.revoke();
    expect(emu.counters.revokes).toBe(1);
    const entry = await cache.read(config.tenant);
    expect(entry?.refreshToken).toBeUndefined();
    await mi.execute(suppliers);
    expect(await tokens.getAccessToken()).not.toBe(before);
    expect(emu.counters).toMatchObject({ passwordGrants: 2, unauthorized: 0 });
  });
});
