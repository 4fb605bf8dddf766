// Malformed Databricks connection secrets, where the Load Lambda meets them (the secret read from Secrets
// Manager by the pipeline's warehouse opener) and where the local sync meets a real warehouse's options.
// Each fails naming the secret and the field, never echoing the token; and proves nothing happened: no
// warehouse session is opened (so no statement can run), no plan, run or watermark is written.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import type { GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it, vi } from 'vitest';
import { InMemorySecretSource } from '../../infra/local/localSources.ts';
import { runLocalSync } from '../../infra/local/runLocalSync.ts';
import { ConfigError } from '#shared/config/configError.ts';
import { warehouseOpener, type WarehouseConnector } from '#shared/pipeline/warehouseSessions.ts';
import { SecretsManagerSecretSource } from '#shared/secrets/secretsManagerSecretSource.ts';
import type { SecretSource } from '#shared/secrets/secretSource.ts';
import { capturingLog } from '../support/cloudSuite.ts';
import { filesUnder } from './support/hostile.ts';

const NAME = 'cloudsuite-sync/databricks';
const TOKEN = 'dapiHOSTILE0canary0token0123456789';
const CLIENT_SECRET = 'HOSTILE-canary-m2m-secret-77aa';
const HOST = 'adb-1234567890123456.7.azuredatabricks.net';
const PATH = '/sql/1.0/warehouses/abc123';

/** Opens the warehouse the way the Load handler does; the connector must never be reached. */
async function openWith(source: SecretSource): Promise<Error> {
  const connect = vi.fn<WarehouseConnector>();
  const error = await warehouseOpener(source, connect)(NAME).then(
    () => new Error('the session opened'),
    (e: unknown) => e as Error,
  );
  expect(connect).not.toHaveBeenCalled();
  return error;
}

function inMemory(text: string): SecretSource {
  const source = new InMemorySecretSource();
  source.set(NAME, text);
  return source;
}

describe('a malformed warehouse secret (Load reads it from Secrets Manager)', () => {
  it.each([
    ['not JSON, broken right before the token', `{"host":"${HOST}","httpPath":"${PATH}","token":${TOKEN}"}`, /^secret "cloudsuite-sync\/databricks" is not valid JSON(?: \(syntax error at position \d+\))?; store a JSON object with "host", "httpPath" and either "token" or "clientId" and "clientSecret"$/],
    ['a JSON list', JSON.stringify([{ host: HOST, httpPath: PATH, token: TOKEN }]), /must be a JSON object/],
    ['a host with its scheme', JSON.stringify({ host: `https://${HOST}`, httpPath: PATH, token: TOKEN }), /- host: must be the workspace host name without a scheme: drop the "https:\/\/"/],
    ['a host with a path', JSON.stringify({ host: `${HOST}/sql`, httpPath: PATH, token: TOKEN }), /- host: must be a host name only/],
    ['no httpPath', JSON.stringify({ host: HOST, token: TOKEN }), /- httpPath: is missing/],
    ['an httpPath that is not a warehouse path', JSON.stringify({ host: HOST, httpPath: 'warehouses/abc123', token: TOKEN }), /- httpPath: must start with \/sql\//],
    ['a token and a service principal at once', JSON.stringify({ host: HOST, httpPath: PATH, token: TOKEN, clientId: 'sp', clientSecret: CLIENT_SECRET }), /keep exactly one way to sign in/],
    ['no credential at all', JSON.stringify({ host: HOST, httpPath: PATH }), /has no credential: add "token" \(a personal access token\) or "clientId" and "clientSecret" \(OAuth M2M\)/],
    ['half a service principal', JSON.stringify({ host: HOST, httpPath: PATH, clientSecret: CLIENT_SECRET }), /- clientId: is missing \(OAuth M2M needs clientId and clientSecret\)/],
    ['a token that is a number', JSON.stringify({ host: HOST, httpPath: PATH, token: 987654321012 }), /- token: must be a string/],
    ['an empty token', JSON.stringify({ host: HOST, httpPath: PATH, token: '' }), /- token: is empty/],
  ])('%s: a ConfigError naming the secret and field, no token in it, and no session is opened', async (_name, text, message) => {
    const error = await openWith(inMemory(text));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^secret "cloudsuite-sync\/databricks"/);
    expect(error.message).toMatch(message);
    for (const secret of [TOKEN, CLIENT_SECRET, '987654321012']) {
      expect(error.message).not.toContain(secret);
      expect(inspect(error)).not.toContain(secret);
    }
  });

  it('a secret stored as binary in Secrets Manager: says to store the JSON as the secret string; no session', async () => {
    const client = { send: async (): Promise<GetSecretValueCommandOutput> => ({ $metadata: {}, SecretBinary: new TextEncoder().encode(JSON.stringify({ host: HOST, httpPath: PATH, token: TOKEN })) }) };
    const error = await openWith(new SecretsManagerSecretSource({ client }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe('secret "cloudsuite-sync/databricks" holds binary data; store its JSON as the secret string (plaintext) instead');
  });
});

describe('the local sync pointed at a real warehouse with a bad HTTP path', () => {
  it('refuses before the run starts, without echoing the token; no plan, no run, no watermark, no warehouse file', async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), 'hostile-wh-'));
    const error = await runLocalSync({
      stateDir, progress: () => undefined, log: capturingLog(),
      databricks: { host: `https://${HOST}/`, httpPath: 'sql/1.0/warehouses/abc123', token: TOKEN },
    }).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.message).toMatch(/- httpPath: must start with \/sql\/ \(copy it from the SQL warehouse's Connection details\)/);
    expect(error!.message).not.toContain(TOKEN);

    // Refused before anything started: no state, no staged file, no emulator calendar, no warehouse file.
    expect(await filesUnder(stateDir)).toEqual([]);
  });
});
