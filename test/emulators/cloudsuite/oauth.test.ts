// The emulated authorization server and the gateway's token check: grants, refresh, revocation,
// expiry, credential checks, and the 401/404/405 answers clients must cope with.
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '../../../infra/local/emulators/cloudsuite/index.ts';
import { TestClient } from './testClient.ts';

let emulator: CloudSuiteEmulator;
let client: TestClient;

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ volume: { suppliers: 5, purchaseOrders: 2, invoices: 2, glTransactions: 4, bigOrderLines: 0 } });
  client = new TestClient(emulator);
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.knobs = { ...emulator.knobs, tokenLifetimeSeconds: 7200, issueRefreshTokens: true };
  emulator.clearFaults();
  emulator.resetCounters();
});

const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

describe('.ionapi', () => {
  it('points at the emulator and carries tenant-shaped credentials', async () => {
    const io = emulator.ionapi;
    expect(Object.keys(io).sort()).toEqual(['ci', 'cn', 'cs', 'dt', 'ev', 'iu', 'oa', 'or', 'ot', 'pu', 'saak', 'sask', 'ti', 'v']);
    expect(io.iu).toBe(emulator.url);
    expect(io.iu).not.toMatch(/\/$/);
    expect(io.pu).toBe(`${emulator.url}/ACME_PRD/as/`);
    expect([io.ot, io.or, io.oa]).toEqual(['token.oauth2', 'revoke_token.oauth2', 'authorization.oauth2']);
    expect(io.ti).toBe('ACME_PRD');
    expect(io.ci).toMatch(/^ACME_PRD~.{20,}$/);
    expect(io.saak).toMatch(/^ACME_PRD#.{40,}$/);
    expect(io.cs!.length).toBeGreaterThanOrEqual(40);
    expect(io.sask!.length).toBeGreaterThanOrEqual(40);
  });

  it('derives the same credentials from the same seed and other ones from another', async () => {
    const same = await startCloudSuiteEmulator({ volume: { suppliers: 1, purchaseOrders: 0, invoices: 0, glTransactions: 0 } });
    const other = await startCloudSuiteEmulator({ seed: 2, tenant: 'OTHER_TST', volume: { suppliers: 1, purchaseOrders: 0, invoices: 0, glTransactions: 0 } });
    try {
      expect([same.ionapi.ci, same.ionapi.cs, same.ionapi.saak, same.ionapi.sask]).toEqual([emulator.ionapi.ci, emulator.ionapi.cs, emulator.ionapi.saak, emulator.ionapi.sask]);
      expect(other.ionapi.ci).toMatch(/^OTHER_TST~/);
      expect(other.ionapi.cs).not.toBe(emulator.ionapi.cs);
    } finally {
      await Promise.all([same.close(), other.close()]);
    }
  });

  it('writes the .ionapi file as JSON readable only by its owner', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'ionapi-')), 'nested', 'emulator.ionapi');
    await emulator.writeIonApiFile(path);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(emulator.ionapi);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });
});

describe('password grant', () => {
  it('issues an opaque bearer token with the configured lifetime and a refresh token', async () => {
    const answer = await client.passwordGrant();
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const body = json(answer.text);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 7200 });
    expect(body.access_token).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]{30,}$/));
    expect(body.refresh_token).toEqual(expect.any(String));
    expect(emulator.counters.passwordGrants).toBe(1);
  });

  it('accepts the client credentials as HTTP Basic instead of in the body', async () => {
    const io = emulator.ionapi;
    const answer = await client.post(client.tokenUrl, { grant_type: 'password', username: io.saak!, password: io.sask! }, { authorization: client.basic() });
    expect(answer.status).toBe(200);
  });

  it('follows the lifetime and refresh-token knobs', async () => {
    emulator.knobs.tokenLifetimeSeconds = 600;
    emulator.knobs.issueRefreshTokens = false;
    const body = json((await client.passwordGrant()).text);
    expect(body.expires_in).toBe(600);
    expect(body).not.toHaveProperty('refresh_token');
  });

  it.each([
    ['a wrong client secret', { client_secret: 'nope' }],
    ['an unknown client id', { client_id: 'ACME_PRD~someone-else' }],
    ['no client credentials', { client_id: '', client_secret: '' }],
  ])('answers 401 invalid_client for %s', async (_case, overrides) => {
    const answer = await client.passwordGrant(overrides);
    expect(answer.status).toBe(401);
    expect(json(answer.text).error).toBe('invalid_client');
    expect(emulator.counters.passwordGrants).toBe(0);
  });

  it('answers 401 when Basic and body credentials disagree', async () => {
    const io = emulator.ionapi;
    const answer = await client.post(
      client.tokenUrl,
      { grant_type: 'password', username: io.saak!, password: io.sask!, client_id: io.ci!, client_secret: 'different' },
      { authorization: client.basic() },
    );
    expect(answer.status).toBe(401);
  });

  it.each([
    ['a wrong secret key', { password: 'wrong' }],
    ['a wrong access key', { username: 'ACME_PRD#wrong' }],
  ])('answers 400 invalid_grant for %s', async (_case, overrides) => {
    const answer = await client.passwordGrant(overrides);
    expect(answer.status).toBe(400);
    expect(json(answer.text).error).toBe('invalid_grant');
  });

  it('rejects anything but a form body with 400 invalid_request', async () => {
    const io = emulator.ionapi;
    const response = await fetch(client.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', username: io.saak, password: io.sask, client_id: io.ci, client_secret: io.cs }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as Record<string, unknown>).error).toBe('invalid_request');
  });

  it('rejects unsupported grant types', async () => {
    const answer = await client.passwordGrant({ grant_type: 'authorization_code' });
    expect(answer.status).toBe(400);
    expect(json(answer.text).error).toBe('unsupported_grant_type');
  });

  it('refuses the client credentials grant to a service-account app', async () => {
    const answer = await client.passwordGrant({ grant_type: 'client_credentials' });
    expect(answer.status).toBe(400);
    expect(json(answer.text).error).toBe('unauthorized_client');
  });

  it('answers 405 to a GET on the token endpoint', async () => {
    const response = await fetch(client.tokenUrl);
    expect(response.status).toBe(405);
  });
});

describe('refresh grant', () => {
  it('issues new access tokens and rolls the refresh token only on every other refresh', async () => {
    const first = await client.tokens();
    let refreshToken = first.refresh_token!;
    const issuedNewRefreshToken: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const answer = await client.refreshGrant(refreshToken);
      expect(answer.status).toBe(200);
      const body = json(answer.text);
      expect(body.access_token).toEqual(expect.any(String));
      expect((await client.raw('MNS150MI', 'GetUserData', {}, { token: body.access_token as string })).status).toBe(200);
      issuedNewRefreshToken.push(typeof body.refresh_token === 'string');
      if (typeof body.refresh_token === 'string') {
        // The rolled token is spent.
        expect((await client.refreshGrant(refreshToken)).status).toBe(400);
        refreshToken = body.refresh_token;
      }
    }
    expect(issuedNewRefreshToken.filter(Boolean)).toHaveLength(2);
    expect(issuedNewRefreshToken).not.toEqual([true, true, true, true]);
    expect(emulator.counters.refreshGrants).toBe(4);
  });

  it('answers 400 invalid_grant for an unknown refresh token', async () => {
    const answer = await client.refreshGrant('not-a-token');
    expect(answer.status).toBe(400);
    expect(json(answer.text).error).toBe('invalid_grant');
  });

  it('checks the client on refresh too', async () => {
    const { refresh_token } = await client.tokens();
    const answer = await client.post(client.tokenUrl, { grant_type: 'refresh_token', refresh_token: refresh_token! }, { authorization: client.basic(undefined, 'wrong') });
    expect(answer.status).toBe(401);
  });
});

describe('revocation', () => {
  it('revoking a refresh token kills it and the access tokens issued from it', async () => {
    const tokens = await client.tokens();
    const refreshed = json((await client.refreshGrant(tokens.refresh_token!)).text);
    const answer = await client.post(client.revokeUrl, { token: tokens.refresh_token!, token_type_hint: 'refresh_token' }, { authorization: client.basic() });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('');
    expect(emulator.counters.revokes).toBe(1);
    expect((await client.raw('MNS150MI', 'GetUserData', {}, { token: tokens.access_token })).status).toBe(401);
    expect((await client.raw('MNS150MI', 'GetUserData', {}, { token: refreshed.access_token as string })).status).toBe(401);
    expect((await client.refreshGrant(tokens.refresh_token!)).status).toBe(400);
  });

  it('revoking an access token leaves other tokens of the grant alone', async () => {
    const tokens = await client.tokens();
    const answer = await client.post(client.revokeUrl, { token: tokens.access_token, client_id: emulator.ionapi.ci!, client_secret: emulator.ionapi.cs! });
    expect(answer.status).toBe(200);
    expect((await client.raw('MNS150MI', 'GetUserData', {}, { token: tokens.access_token })).status).toBe(401);
    expect((await client.refreshGrant(tokens.refresh_token!)).status).toBe(200);
  });

  it('requires client authentication and answers unknown tokens with 200', async () => {
    expect((await client.post(client.revokeUrl, { token: 'whatever' }, { authorization: client.basic(undefined, 'bad') })).status).toBe(401);
    expect((await client.post(client.revokeUrl, { token: 'whatever' }, { authorization: client.basic() })).status).toBe(200);
  });

  it('revokeAllTokens invalidates every access and refresh token server-side', async () => {
    const tokens = await client.tokens();
    emulator.revokeAllTokens();
    expect((await client.raw('MNS150MI', 'GetUserData', {}, { token: tokens.access_token })).status).toBe(401);
    expect((await client.refreshGrant(tokens.refresh_token!)).status).toBe(400);
    expect((await client.passwordGrant()).status).toBe(200);
  });
});

describe('bearer token check on MI calls', () => {
  it('answers 401 with an HTML body for a missing, unknown or malformed token', async () => {
    for (const token of [null, 'unknown-token']) {
      const answer = await client.raw('MNS150MI', 'GetUserData', {}, { token });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('content-type')).toMatch(/text\/html/);
      expect(() => JSON.parse(answer.text)).toThrow();
    }
    const basic = await fetch(client.executeUrl('MNS150MI', 'GetUserData'), { headers: { authorization: client.basic() } });
    expect(basic.status).toBe(401);
    expect(emulator.counters.unauthorized).toBe(3);
    expect(emulator.counters.miCalls).toBe(0);
  });

  it('expireAccessTokens expires access tokens but keeps refresh tokens usable', async () => {
    const tokens = await client.tokens();
    emulator.expireAccessTokens();
    expect((await client.raw('MNS150MI', 'GetUserData', {}, { token: tokens.access_token })).status).toBe(401);
    const refreshed = json((await client.refreshGrant(tokens.refresh_token!)).text);
    expect((await client.raw('MNS150MI', 'GetUserData', {}, { token: refreshed.access_token as string })).status).toBe(200);
  });

  it('expires access tokens after expires_in seconds of real time', async () => {
    emulator.knobs.tokenLifetimeSeconds = 1;
    const { access_token, expires_in } = await client.tokens();
    expect(expires_in).toBe(1);
    expect((await client.raw('MNS150MI', 'GetUserData', {}, { token: access_token })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await client.raw('MNS150MI', 'GetUserData', {}, { token: access_token })).status).toBe(401);
  });
});

describe('routing', () => {
  it('answers 404 for another tenant, the v1 path and unknown paths', async () => {
    const token = await client.accessToken();
    const headers = { authorization: `Bearer ${token}` };
    for (const path of ['/OTHER_PRD/M3/m3api-rest/v2/execute/MNS150MI/GetUserData', '/ACME_PRD/M3/m3api-rest/execute/MNS150MI/GetUserData', '/ACME_PRD/nothing', '/']) {
      expect((await fetch(`${emulator.url}${path}`, { headers })).status).toBe(404);
    }
    expect((await fetch(`${emulator.url}/OTHER_PRD/as/token.oauth2`, { method: 'POST' })).status).toBe(404);
  });

  it('answers 405 to anything but GET on an execute path', async () => {
    const token = await client.accessToken();
    const response = await fetch(client.executeUrl('MNS150MI', 'GetUserData'), { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });
});
