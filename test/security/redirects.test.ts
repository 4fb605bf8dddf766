// Redirects are never followed on the token, refresh, revoke and MI calls. fetch follows them by default: a
// 307/308 re-sends a POST body (the password grant's service-account keys and client secret, or a refresh
// token) to wherever Location points, and any redirect to the same origin carries the Authorization header
// along. Here a token endpoint and the API gateway answer with redirects; nothing reaches the new address,
// and each call fails with one clear error naming the URL and where it pointed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { RedirectRefusedError } from '#shared/http/httpErrors.ts';
import { OAuthClient } from '#shared/ionapi/oauthClient.ts';
import { runCli } from '../support/runCli.ts';
import { connect, emulatorConfig } from '../ionapi/support.ts';
import { USER_ENV } from '../hostile/support/hostile.ts';

interface Seen {
  method: string;
  url: string;
  body: string;
  authorization: string | undefined;
}

interface Server {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** A loopback server answering with `answer`, recording every request it receives (what an attacker would get). */
async function server(answer: (req: http.IncomingMessage, res: http.ServerResponse, self: Server) => void): Promise<Server> {
  const self: Server = { url: '', seen: [], close: async () => undefined };
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      self.seen.push({ method: req.method ?? '', url: req.url ?? '', body, authorization: req.headers.authorization });
      answer(req, res, self);
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  self.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  self.close = () =>
    new Promise<void>((resolve) => {
      srv.closeAllConnections();
      srv.close(() => resolve());
    });
  return self;
}

let emulator: CloudSuiteEmulator;
/** Where the redirects point: answers like a token endpoint and an MI gateway, so a followed redirect "works". */
let collector: Server;
/** Redirects token and revoke requests to the collector (307/308), and MI calls within its own origin. */
let redirector: Server;
let status = 307;

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 81 });
  collector = await server((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.url?.includes('/M3/') ? JSON.stringify({ results: [{ records: [] }] }) : JSON.stringify({ access_token: 'attacker-issued-token-0123456789', expires_in: 3600 }));
  });
  redirector = await server((req, res, self) => {
    const url = req.url ?? '/';
    if (url.startsWith('/captured/')) {
      // The MI call, followed to the same origin: what an attacker controlling this path would see.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ results: [{ records: [] }] }));
      return;
    }
    const location = url.includes('/M3/') ? `${self.url}/captured${url}` : `${collector.url}/steal${url}`;
    res.writeHead(status, { location });
    res.end();
  });
});
afterAll(async () => {
  await redirector.close();
  await collector.close();
  await emulator.close();
});

/** The emulator's .ionapi with its token endpoints behind the redirector (pu), or its API (iu). */
function ionapiVia(part: 'pu' | 'iu'): Record<string, string> {
  const file = { ...emulator.ionapi };
  file[part] = file[part]!.split(emulator.url).join(redirector.url);
  return file;
}

const secrets = () => [emulator.ionapi.cs!, emulator.ionapi.saak!, emulator.ionapi.sask!];

describe('a token endpoint answering with a redirect', () => {
  it('`check`: the token step fails naming the endpoint and the redirect; no credential reached the new address', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'security-redirect-'));
    const file = path.join(dir, 'redirected.ionapi');
    await writeFile(file, JSON.stringify(ionapiVia('pu')));
    collector.seen.length = 0;
    const res = await runCli(['check', '--ionapi', file], { env: USER_ENV });
    expect(res.code, res.stderr).toBe(1);
    const tokenLine = res.stdout.split('\n').find((l) => l.includes(' token: '));
    expect(tokenLine).toBe(
      `FAIL  token: ION API token request (password grant): ${redirector.url}/ACME_PRD/as/token.oauth2 answered HTTP 307 redirecting to ` +
        `${collector.url}/steal/ACME_PRD/as/token.oauth2; redirects are not followed, so no credential or token was sent there. If the new ` +
        'address is the real one, put it into the .ionapi file ("pu"/"ot"/"or" for tokens, "iu" for API calls); otherwise look for a proxy ' +
        'or DNS entry diverting the calls',
    );
    expect(res.stdout).not.toMatch(/issued by/);
    expect(collector.seen).toEqual([]);
    for (const secret of secrets()) expect(res.stdout + res.stderr).not.toContain(secret);
  }, 60_000);

  it.each([307, 308])('refresh and revoke (HTTP %i): RedirectRefusedError, and neither the refresh token nor the client\'s Basic credentials leave', async (code) => {
    status = code;
    collector.seen.length = 0;
    const oauth = new OAuthClient({ config: emulatorConfig(emulator, { pu: ionapiVia('pu').pu! }) });
    const refreshToken = 'refresh-token-canary-0123456789abcdef';
    const refresh = await oauth.refreshGrant(refreshToken).then(() => undefined, (e: unknown) => e as Error);
    expect(refresh).toBeInstanceOf(RedirectRefusedError);
    expect(refresh!.message).toMatch(new RegExp(`^ION API token refresh \\(refresh grant\\): .*/ACME_PRD/as/token\\.oauth2 answered HTTP ${code} redirecting to `));
    const revoke = await oauth.revoke(refreshToken).then(() => undefined, (e: unknown) => e as Error);
    expect(revoke).toBeInstanceOf(RedirectRefusedError);
    expect(revoke!.message).toMatch(new RegExp(`^ION API token revocation: .*/ACME_PRD/as/revoke_token\\.oauth2 answered HTTP ${code} redirecting to `));
    expect(collector.seen).toEqual([]);
    expect(refresh!.message + revoke!.message).not.toContain(refreshToken);
    status = 307;
  });
});

describe('the API gateway answering an MI call with a redirect', () => {
  it.each([301, 302, 307, 308])('HTTP %i: the call fails with RedirectRefusedError; the access token is not sent to the new path', async (code) => {
    status = code;
    redirector.seen.length = 0;
    const { mi, tokens } = connect(emulator, { config: emulatorConfig(emulator, { iu: ionapiVia('iu').iu! }) });
    const failure = await mi.execute({ program: 'CRS620MI', transaction: 'LstSuppliers', inputs: { CONO: '100' } }).then(() => undefined, (e: unknown) => e as Error);
    expect(failure).toBeInstanceOf(RedirectRefusedError);
    expect(failure!.message).toMatch(
      new RegExp(`^CRS620MI/LstSuppliers: ${redirector.url}/ACME_PRD/M3/m3api-rest/v2/execute/CRS620MI/LstSuppliers answered HTTP ${code} redirecting to ${redirector.url}/captured/ACME_PRD/M3/`),
    );
    // One request reached the gateway (with the token, as it should); none followed the redirect.
    expect(redirector.seen.map((s) => s.url.split('?')[0])).toEqual(['/ACME_PRD/M3/m3api-rest/v2/execute/CRS620MI/LstSuppliers']);
    expect(failure!.message).not.toContain(await tokens.getAccessToken());
    status = 307;
  });
});
