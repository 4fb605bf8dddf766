import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { IonApiFileError } from '#shared/ionapi/errors.ts';
import { loadIonApiFile, parseIonApiFile } from '#shared/ionapi/ionApiFile.ts';

// Canary values: if any of them shows up in a message or in serialised output, a secret leaked.
const CANARY = {
  cs: 'CANARY-client-secret-7f3a',
  saak: 'ACME_PRD#CANARY-access-key-91b2',
  sask: 'CANARY-secret-key-c4d8',
};

function validFile(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ti: 'ACME_PRD',
    cn: 'cloudsuite-sync',
    dt: '12',
    ci: 'ACME_PRD~abc123',
    cs: CANARY.cs,
    iu: 'https://mingle-ionapi.inforcloudsuite.com',
    pu: 'https://mingle-sso.inforcloudsuite.com:443/ACME_PRD/as/',
    oa: 'authorization.oauth2',
    ot: 'token.oauth2',
    or: 'revoke_token.oauth2',
    ev: 'U1234567890',
    v: '1.1',
    saak: CANARY.saak,
    sask: CANARY.sask,
    ...overrides,
  };
}

function parse(overrides: Record<string, unknown> = {}) {
  return parseIonApiFile(JSON.stringify(validFile(overrides)), 'acme.ionapi');
}

function errorOf(fn: () => unknown): IonApiFileError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(IonApiFileError);
    return error as IonApiFileError;
  }
  throw new Error('expected an IonApiFileError');
}

function expectNoSecrets(text: string): void {
  for (const secret of Object.values(CANARY)) expect(text).not.toContain(secret);
  expect(text).not.toContain('CANARY');
}

describe('parseIonApiFile', () => {
  it('reads a valid file into named fields and derives the URLs', () => {
    const config = parse();
    expect(config).toMatchObject({
      source: 'acme.ionapi',
      tenant: 'ACME_PRD',
      clientId: 'ACME_PRD~abc123',
      appName: 'cloudsuite-sync',
      tokenUrl: 'https://mingle-sso.inforcloudsuite.com:443/ACME_PRD/as/token.oauth2',
      revokeUrl: 'https://mingle-sso.inforcloudsuite.com:443/ACME_PRD/as/revoke_token.oauth2',
      apiBaseUrl: 'https://mingle-ionapi.inforcloudsuite.com/ACME_PRD',
      unknownKeys: [],
    });
    expect(config.clientSecret).toBe(CANARY.cs);
    expect(config.serviceAccountAccessKey).toBe(CANARY.saak);
    expect(config.serviceAccountSecretKey).toBe(CANARY.sask);
  });

  it('accepts a scopes list and leaves revokeUrl undefined without "or"', () => {
    const { or: _or, ...withoutOr } = validFile({ sc: ['openid', 'offline_access'] });
    const config = parseIonApiFile(JSON.stringify(withoutOr), 'acme.ionapi');
    expect(config.revokeUrl).toBeUndefined();
  });

  it('tolerates pu without a trailing slash and iu with one', () => {
    const config = parse({
      pu: 'https://mingle-sso.inforcloudsuite.com/ACME_PRD/as',
      iu: 'https://mingle-ionapi.inforcloudsuite.com/',
    });
    expect(config.tokenUrl).toBe('https://mingle-sso.inforcloudsuite.com/ACME_PRD/as/token.oauth2');
    expect(config.apiBaseUrl).toBe('https://mingle-ionapi.inforcloudsuite.com/ACME_PRD');
  });

  it('ignores unknown keys and reports them', () => {
    const config = parse({ newKey: 'x', another: 1 });
    expect(config.unknownKeys).toEqual(['newKey', 'another']);
  });

  it('reads a client-credentials app\'s file (no saak/sask) as one that uses the client credentials grant', () => {
    const { saak: _a, sask: _s, ...file } = validFile();
    const config = parseIonApiFile(JSON.stringify(file), 'cc.ionapi');
    expect(config.grant).toBe('client-credentials');
    expect(config.serviceAccountAccessKey).toBeUndefined();
    expect(config.clientSecret).toBe(CANARY.cs);
    expect(JSON.stringify(config)).toContain('"grant":"client-credentials"');
    expectNoSecrets(JSON.stringify(config));
    expect(parse().grant).toBe('password');
  });

  it.each(['saak', 'sask'])('refuses a service account with only one of its keys (without "%s")', (key) => {
    const file = validFile();
    delete file[key];
    const error = errorOf(() => parseIonApiFile(JSON.stringify(file), 'acme.ionapi'));
    expect(error.field).toBe(key);
    expect(error.message).toContain(`field "${key}" is missing: a service account needs both "saak" and "sask"`);
    expectNoSecrets(error.message);
  });

  it.each(['ti', 'ci', 'cs', 'iu', 'pu', 'ot'])('names the missing required key "%s"', (key) => {
    const file = validFile();
    delete file[key];
    const error = errorOf(() => parseIonApiFile(JSON.stringify(file), 'acme.ionapi'));
    expect(error.name).toBe('IonApiFileError');
    expect(error.field).toBe(key);
    expect(error.message).toContain(`ionapi file "acme.ionapi": field "${key}" is missing`);
    expect(error.message).toContain('Infor OS Portal > API Gateway > Authorized Apps');
    expectNoSecrets(error.message);
  });

  it('refuses bad JSON with the file name, without quoting the contents', () => {
    const text = JSON.stringify(validFile()).replace(`"${CANARY.cs}"`, `${CANARY.cs}`);
    const error = errorOf(() => parseIonApiFile(text, 'acme.ionapi'));
    expect(error.message).toMatch(/^ionapi file "acme.ionapi": is not valid JSON/);
    expectNoSecrets(error.message);
    expectNoSecrets(inspect(error));
  });

  it('refuses a JSON value that is not an object', () => {
    expect(errorOf(() => parseIonApiFile('[1,2]', 'list.ionapi')).message).toContain('must contain a JSON object, got a list');
  });

  it('refuses wrong types and empty values, naming the field', () => {
    const wrongType = errorOf(() => parse({ ti: 42 }));
    expect(wrongType.field).toBe('ti');
    expect(wrongType.message).toContain('field "ti" must be a string, got a number');
    const empty = errorOf(() => parse({ ci: '' }));
    expect(empty.message).toContain('field "ci" is empty');
    const secretWrongType = errorOf(() => parse({ cs: { value: CANARY.cs } }));
    expect(secretWrongType.message).toContain('field "cs" must be a string, got an object');
    expectNoSecrets(secretWrongType.message);
  });

  it('refuses a value that is not a URL', () => {
    const error = errorOf(() => parse({ iu: 'mingle-ionapi.inforcloudsuite.com' }));
    expect(error.field).toBe('iu');
    expect(error.message).toContain('field "iu" is not a valid absolute URL');
  });

  it('refuses http:// for a non-loopback host', () => {
    const error = errorOf(() => parse({ pu: 'http://mingle-sso.inforcloudsuite.com/ACME_PRD/as/' }));
    expect(error.field).toBe('pu');
    expect(error.message).toContain('field "pu" must be an https:// URL');
    expect(() => parse({ iu: 'ftp://mingle-ionapi.inforcloudsuite.com' })).toThrow(/field "iu" must be an https/);
  });

  it.each(['http://127.0.0.1:8080', 'http://127.4.5.6', 'http://localhost:3000', 'http://[::1]:9000'])(
    'accepts http:// on the loopback host %s (the emulators)',
    (base) => {
      const config = parse({ iu: base, pu: `${base}/ACME_PRD/as/` });
      expect(config.apiBaseUrl).toBe(`${base}/ACME_PRD`);
      expect(config.tokenUrl).toBe(`${base}/ACME_PRD/as/token.oauth2`);
    },
  );

  it('keeps secrets out of JSON.stringify, util.inspect, spread and string output', () => {
    const config = parse();
    const outputs = [JSON.stringify(config), inspect(config), inspect({ nested: { config } }, { depth: 5 }), String(config), `${JSON.stringify({ ...config })}`];
    for (const output of outputs) expectNoSecrets(output);
    expect(JSON.parse(JSON.stringify(config))).toMatchObject({ clientSecret: '[redacted]', tenant: 'ACME_PRD', clientId: 'ACME_PRD~abc123' });
  });
});

describe('loadIonApiFile', () => {
  it('reads a file (with a byte-order mark) and names a missing file in the error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ionapi-'));
    try {
      const path = join(dir, 'tenant.ionapi');
      await writeFile(path, `\uFEFF${JSON.stringify(validFile())}`);
      expect((await loadIonApiFile(path)).tenant).toBe('ACME_PRD');
      const missing = join(dir, 'missing.ionapi');
      await expect(loadIonApiFile(missing)).rejects.toThrow(`ionapi file "${missing}": cannot be read (ENOENT)`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
