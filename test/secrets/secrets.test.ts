// Secrets Manager has no local emulator: its adapter is tested through a fake of the one client call it
// makes (send(GetSecretValueCommand)); everything downstream is tested through the local-file source.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { GetSecretValueCommand, type GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '#shared/config/configError.ts';
import { IonApiFileError } from '#shared/ionapi/errors.ts';
import { LocalFileSecretSource } from '#shared/secrets/localFileSecretSource.ts';
import { SecretAccessError, SecretNotFoundError } from '#shared/secrets/secretSource.ts';
import { SecretsManagerSecretSource, type GetSecretValueSender } from '#shared/secrets/secretsManagerSecretSource.ts';
import { readTenantSecret } from '#shared/secrets/tenantSecret.ts';
import { readWarehouseSecret } from '#shared/secrets/warehouseSecret.ts';

const CANARY = { token: 'dapiCANARY0token0123456789abcdef', clientSecret: 'CANARY-m2m-secret-5e6f', cs: 'CANARY-ion-client-secret' };

function expectNoCanary(text: string): void {
  expect(text).not.toContain('CANARY');
}

async function folderWith(secrets: Record<string, string>): Promise<LocalFileSecretSource> {
  const folder = await mkdtemp(path.join(tmpdir(), 'secrets-'));
  for (const [name, value] of Object.entries(secrets)) {
    await mkdir(path.dirname(path.join(folder, name)), { recursive: true });
    await writeFile(path.join(folder, name), value);
  }
  return new LocalFileSecretSource(folder);
}

const WAREHOUSE = 'cloudsuite-sync/databricks';
const pat = { host: 'adb-1234567890123456.7.azuredatabricks.net', httpPath: '/sql/1.0/warehouses/abc123', token: CANARY.token };

async function warehouseError(value: unknown): Promise<ConfigError> {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const error = await readWarehouseSecret(await folderWith({ [WAREHOUSE]: text }), WAREHOUSE).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as ConfigError).message;
  expect(message).toContain(`secret "${WAREHOUSE}"`);
  expectNoCanary(message);
  expectNoCanary(inspect(error));
  return error as ConfigError;
}

describe('readWarehouseSecret', () => {
  it('reads a PAT secret and keeps the token out of JSON, inspect and spreads', async () => {
    const secret = await readWarehouseSecret(await folderWith({ [WAREHOUSE]: JSON.stringify(pat) }), WAREHOUSE);
    expect(secret.host).toBe(pat.host);
    expect(secret.httpPath).toBe(pat.httpPath);
    expect(secret.auth.kind).toBe('pat');
    expect(secret.auth.kind === 'pat' && secret.auth.token).toBe(CANARY.token);
    expectNoCanary(JSON.stringify(secret));
    expectNoCanary(JSON.stringify(secret.auth));
    expectNoCanary(inspect(secret, { depth: 10 }));
    expectNoCanary(JSON.stringify({ ...secret, auth: { ...secret.auth } }));
    expect(JSON.parse(JSON.stringify(secret))).toMatchObject({ host: pat.host, auth: { kind: 'pat', token: '[redacted]' } });
  });

  it('reads an OAuth M2M secret (a local emulator host with a port is accepted)', async () => {
    const m2m = { host: '127.0.0.1:8443', httpPath: '/sql/1.0/warehouses/local', clientId: 'sp-1234', clientSecret: CANARY.clientSecret };
    const secret = await readWarehouseSecret(await folderWith({ [WAREHOUSE]: JSON.stringify(m2m) }), WAREHOUSE);
    expect(secret.auth).toMatchObject({ kind: 'oauth-m2m', clientId: 'sp-1234' });
    expect(secret.auth.kind === 'oauth-m2m' && secret.auth.clientSecret).toBe(CANARY.clientSecret);
    expectNoCanary(JSON.stringify(secret));
    expectNoCanary(inspect(secret, { depth: 10 }));
  });

  it('names a missing host', async () => {
    const { host: _host, ...rest } = pat;
    expect((await warehouseError(rest)).issues).toEqual(['host: is missing']);
  });

  it('refuses a host with a scheme, or with a path', async () => {
    expect((await warehouseError({ ...pat, host: `https://${pat.host}` })).message).toMatch(/host: must be the workspace host name without a scheme/);
    expect((await warehouseError({ ...pat, host: `${pat.host}/sql` })).message).toMatch(/host: must be a host name only/);
  });

  it('refuses an httpPath that does not start with /sql/', async () => {
    expect((await warehouseError({ ...pat, httpPath: 'sql/1.0/warehouses/abc' })).message).toMatch(/httpPath: must start with \/sql\//);
  });

  it('refuses both auth kinds at once, none, and half an OAuth pair', async () => {
    expect((await warehouseError({ ...pat, clientId: 'sp', clientSecret: CANARY.clientSecret })).message).toMatch(/both "token" and "clientId"/);
    const { token: _token, ...noAuth } = pat;
    expect((await warehouseError(noAuth)).message).toMatch(/has no credential/);
    expect((await warehouseError({ ...noAuth, clientId: 'sp-1' })).issues).toEqual([expect.stringMatching(/^clientSecret: is missing/)]);
    expect((await warehouseError({ ...pat, token: '' })).issues).toEqual(['token: is empty']);
  });

  it('reports bad JSON by position only, never quoting the text', async () => {
    const broken = `{"host": "${pat.host}", "token": "${CANARY.token}" "httpPath": "/sql/x"}`;
    expect((await warehouseError(broken)).message).toMatch(/is not valid JSON \(syntax error at position \d+\)/);
    expect((await warehouseError(`"${CANARY.token}"`)).message).toMatch(/must be a JSON object/);
  });
});

describe('readTenantSecret', () => {
  const ionapi = {
    ti: 'ACME_PRD', ci: 'ACME_PRD~abc', cs: CANARY.cs, iu: 'https://mingle-ionapi.inforcloudsuite.com',
    pu: 'https://mingle-sso.inforcloudsuite.com:443/ACME_PRD/as/', ot: 'token.oauth2', saak: 'ACME_PRD#CANARY-ak', sask: 'CANARY-sk',
  };

  it('parses the stored .ionapi JSON into the same config the file would give', async () => {
    const config = await readTenantSecret(await folderWith({ 'tenants/ACME_PRD': JSON.stringify(ionapi) }), 'tenants/ACME_PRD');
    expect(config).toMatchObject({ tenant: 'ACME_PRD', source: 'secret "tenants/ACME_PRD"', apiBaseUrl: 'https://mingle-ionapi.inforcloudsuite.com/ACME_PRD' });
    expect(config.clientSecret).toBe(CANARY.cs);
    expectNoCanary(JSON.stringify(config));
  });

  it('names the secret when the content is invalid, without its values', async () => {
    const { ot: _ot, ...broken } = ionapi;
    const error = await readTenantSecret(await folderWith({ acme: JSON.stringify(broken) }), 'acme').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IonApiFileError);
    expect((error as Error).message).toContain('secret "acme"');
    expect((error as Error).message).toContain('"ot" is missing');
    expectNoCanary((error as Error).message);
  });
});

describe('LocalFileSecretSource', () => {
  it('reads one file per secret name and reports a missing one as SecretNotFoundError', async () => {
    const source = await folderWith({ 'a/b': 'value' });
    expect(await source.getSecretString('a/b')).toBe('value');
    const error = await source.getSecretString('a/c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretNotFoundError);
    expect((error as Error).message).toContain('secret "a/c" does not exist');
  });

  it('refuses names that leave the folder', async () => {
    const source = await folderWith({});
    await expect(source.getSecretString('../outside')).rejects.toBeInstanceOf(SecretAccessError);
    await expect(source.getSecretString('/etc/passwd')).rejects.toBeInstanceOf(SecretAccessError);
  });
});

/** A fake of the one Secrets Manager call: counts requests and answers from a map of values or errors. */
function fakeSecretsManager(answers: Record<string, string | Error | { binary: true }>, latencyMs = 5) {
  const requests: string[] = [];
  const client: GetSecretValueSender = {
    async send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput> {
      const id = command.input.SecretId ?? '';
      requests.push(id);
      await new Promise((resolve) => setTimeout(resolve, latencyMs));
      const answer = answers[id] ?? Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException' });
      if (answer instanceof Error) throw answer;
      if (typeof answer === 'object') return { $metadata: {}, SecretBinary: new Uint8Array([1, 2]) };
      return { $metadata: {}, SecretString: answer };
    },
  };
  return { client, requests, answers };
}

describe('SecretsManagerSecretSource (through a fake client: no emulator exists)', () => {
  it('reuses a fetched secret until its max age, then fetches it again', async () => {
    const fake = fakeSecretsManager({ s: 'v1' });
    const clock = { now: 1_000_000 };
    const source = new SecretsManagerSecretSource({ client: fake.client, maxAgeMs: 300_000, now: () => clock.now });
    expect(await source.getSecretString('s')).toBe('v1');
    fake.answers.s = 'v2';
    clock.now += 299_999;
    expect(await source.getSecretString('s')).toBe('v1');
    clock.now += 1;
    expect(await source.getSecretString('s')).toBe('v2');
    expect(fake.requests).toEqual(['s', 's']);
  });

  it('sends one request for concurrent reads of the same secret', async () => {
    const fake = fakeSecretsManager({ s: 'v', t: 'w' });
    const source = new SecretsManagerSecretSource({ client: fake.client });
    const values = await Promise.all([...Array(10).fill('s'), 't', 't'].map((name: string) => source.getSecretString(name)));
    expect(values.filter((v) => v === 'v')).toHaveLength(10);
    expect(fake.requests.sort()).toEqual(['s', 't']);
  });

  it('maps not found and access errors to typed errors naming the secret, and does not cache failures', async () => {
    const denied = Object.assign(new Error('User: arn:aws:sts::1:assumed-role/x is not authorized'), { name: 'AccessDeniedException' });
    const kms = Object.assign(new Error('KMS key access denied'), { name: 'DecryptionFailure' });
    const fake = fakeSecretsManager({ denied, kms, binary: { binary: true } });
    const source = new SecretsManagerSecretSource({ client: fake.client });
    await expect(source.getSecretString('missing')).rejects.toBeInstanceOf(SecretNotFoundError);
    const deniedError = await source.getSecretString('denied').catch((e: unknown) => e);
    expect(deniedError).toBeInstanceOf(SecretAccessError);
    expect((deniedError as Error).message).toMatch(/secret "denied" cannot be read: .*secretsmanager:GetSecretValue/);
    await expect(source.getSecretString('kms')).rejects.toThrow(/kms:Decrypt/);
    await expect(source.getSecretString('binary')).rejects.toThrow(/secret "binary" holds binary data/);

    fake.answers.missing = 'created since';
    expect(await source.getSecretString('missing')).toBe('created since');
  });

  it('passes other failures through unchanged (the SDK already retried them)', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const source = new SecretsManagerSecretSource({ client: fakeSecretsManager({ s: throttled }).client });
    await expect(source.getSecretString('s')).rejects.toBe(throttled);
  });
});
