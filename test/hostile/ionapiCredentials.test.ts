// Hostile .ionapi files and bad credentials, where a user meets them: the CLI (`extract`, a real process) and
// the pipeline's tenant connection (the Extract Lambda reads the .ionapi JSON from Secrets Manager). Every
// case names the file or secret, the field and what to do, never a secret; and proves nothing happened:
// no token was requested, no MI call reached M3, no file was staged, nothing was cached.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemorySecretSource } from '../../infra/local/localSources.ts';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { defaultCatalog } from '#shared/catalog/defaultCatalog.ts';
import { extractUnit } from '#shared/extract/extractUnit.ts';
import { IonApiFileError, IonAuthError } from '#shared/ionapi/errors.ts';
import { InMemoryTokenCache } from '#shared/ionapi/tokenCache.ts';
import { tenantConnector, TenantSecretMismatchError } from '#shared/pipeline/tenantConnections.ts';
import { validateFlowsConfig } from '#shared/config/flowsConfig.ts';
import { extractPlannedUnit } from '#shared/pipeline/extractPlannedUnit.ts';
import { InProcessExecutions } from '#shared/pipeline/executionStatus.ts';
import type { PipelineDeps } from '#shared/pipeline/pipelineDeps.ts';
import { RecordingPipelineMetrics } from '#shared/pipeline/pipelineMetrics.ts';
import { pipelineState } from '#shared/pipeline/pipelineState.ts';
import { planRun } from '#shared/pipeline/planRun.ts';
import { dynamoSyncState } from '#shared/state/dynamoSyncState.ts';
import defaultConfig from '../../infra/flows.config.ts';
import { startDynalite } from '../support/awsEmulators.ts';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import { capturingLog } from '../support/cloudSuite.ts';
import { runCli, type CliResult } from '../support/runCli.ts';
import { expectCliError, filesUnder, USER_ENV } from './support/hostile.ts';

const SECRET_NAME = 'cloudsuite-sync/tenants/ACME_PRD';
const FIX = /download the file again from Infor OS Portal > API Gateway > Authorized Apps/;
const WRONG_SECRET = 'WRONG-client-secret-0c1d2e3f';
const WRONG_SASK = 'WRONG-service-account-secret-9a8b';

let emulator: CloudSuiteEmulator;
let good: Record<string, string>;
let dir: string;

/** Everything secret in the emulator's file, plus the wrong values the hostile files carry. */
const secrets = () => [good.cs!, good.sask!, good.saak!, WRONG_SECRET, WRONG_SASK];

function variant(change: (file: Record<string, unknown>) => void): Record<string, unknown> {
  const file: Record<string, unknown> = { ...good };
  change(file);
  return file;
}

/** Nothing reached CloudSuite: no successful grant, no MI call (the emulator counts both). */
function expectCloudSuiteUntouched(): void {
  expect(emulator.counters.passwordGrants).toBe(0);
  expect(emulator.counters.miCalls).toBe(0);
}

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 31 });
  good = emulator.ionapi;
  dir = await mkdtemp(path.join(tmpdir(), 'hostile-ionapi-'));
});
afterAll(() => emulator.close());

describe('the CLI (`extract`) with a hostile .ionapi file', () => {
  const files: Record<string, string | Record<string, unknown>> = {};
  const results: Record<string, CliResult> = {};
  const out = (name: string) => path.join(dir, `out-${name}`);

  beforeAll(async () => {
    Object.assign(files, {
      missingSaak: variant((f) => delete f.saak),
      secretIsNumber: variant((f) => (f.cs = 12345)),
      plainHttp: variant((f) => (f.iu = 'http://mingle-ionapi.example.com')),
      loopbackLookalike: variant((f) => (f.pu = 'http://localhost.attacker.example/ACME_PRD/as/')),
      // The tenant id is a path segment of every API URL: this one would call another tenant's path.
      tenantIdWithPath: variant((f) => (f.ti = 'ACME_PRD/../ACME_TST')),
      wrongClientSecret: variant((f) => (f.cs = WRONG_SECRET)),
      wrongServiceAccount: variant((f) => (f.sask = WRONG_SASK)),
      // A hand-edited file: the closing quote before the secret is gone. JSON.parse would quote the text.
      notJson: JSON.stringify(good).replace(`"cs":"${good.cs}"`, `"cs":${good.cs}"`),
    });
    // Run as a user would, all at once (each is its own process).
    await Promise.all(
      Object.entries(files).map(async ([name, content]) => {
        const file = path.join(dir, `${name}.ionapi`);
        await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
        results[name] = await runCli(['extract', '--ionapi', file, '--entity', 'suppliers', '--company', '100', '--out', out(name)], { env: USER_ENV });
      }),
    );
  }, 60_000);

  const file = (name: string) => path.join(dir, `${name}.ionapi`).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  it.each([
    ['missingSaak', 'field "saak" is missing'],
    ['secretIsNumber', 'field "cs" must be a string, got a number'],
    ['plainHttp', 'field "iu" must be an https:// URL \\(http:// is accepted only for loopback hosts'],
    ['loopbackLookalike', 'field "pu" must be an https:// URL'],
    ['tenantIdWithPath', 'field "ti" must be a tenant id of letters, digits, _ and - \\(at most 64\\)'],
    ['notJson', 'is not valid JSON(?: \\(syntax error at position \\d+\\))?;'],
  ])('%s: names the file and the field, says to download it again; stages nothing, asks CloudSuite nothing', async (name, problem) => {
    const line = expectCliError(results[name]!, new RegExp(`^error: ionapi file "${file(name)}": ${problem}`), secrets());
    expect(line).toMatch(FIX);
    expect(await filesUnder(out(name))).toEqual([]);
    expectCloudSuiteUntouched();
  });

  it('wrong client secret: the IonAuthError says to check ci and cs in that file; no token, no MI call, nothing staged', async () => {
    expectCliError(
      results.wrongClientSecret!,
      new RegExp(
        `^error: ION API token request \\(password grant\\) for tenant ACME_PRD was refused \\(HTTP 401, invalid_client\\): check the client id \\(ci\\) and client secret \\(cs\\) in the \\.ionapi file "${file('wrongClientSecret')}"`,
      ),
      secrets(),
    );
    expect(await filesUnder(out('wrongClientSecret'))).toEqual([]);
    expectCloudSuiteUntouched();
  });

  it('wrong service-account secret: the IonAuthError names saak/sask and says to download a new file; nothing staged', async () => {
    const line = expectCliError(
      results.wrongServiceAccount!,
      /^error: ION API token request \(password grant\) for tenant ACME_PRD was refused \(HTTP 400, invalid_grant\): the service account keys \(saak, sask\) in ".*wrongServiceAccount\.ionapi" were rejected/,
      secrets(),
    );
    expect(line).toMatch(/download a new \.ionapi file$/);
    expect(await filesUnder(out('wrongServiceAccount'))).toEqual([]);
    expectCloudSuiteUntouched();
  });
});

describe('an .ionapi file with keys this version does not know', () => {
  it('is accepted, and `extract` warns naming the keys (never their values)', async () => {
    const other = await startCloudSuiteEmulator({ seed: 32 });
    try {
      const file = path.join(dir, 'extra-keys.ionapi');
      await writeFile(file, JSON.stringify({ ...other.ionapi, portalVersion: 'PV-SECRET-LOOKING-VALUE', saakk: 'typo-of-saak-value' }));
      const res = await runCli(['extract', '--ionapi', file, '--entity', 'suppliers', '--company', '100', '--out', path.join(dir, 'out-extra')], {
        env: USER_ENV,
      });
      expect(res.code, res.stderr).toBe(0);
      expect(res.summary()).toMatchObject({ entity: 'suppliers', records: other.truth('CIDMAS', '100').length });
      const warning = res.stderr.split('\n').find((l) => l.includes('ignoring key(s)'));
      expect(JSON.parse(warning!)).toMatchObject({ level: 'WARN', message: expect.stringContaining(`${file}: ignoring key(s) this version does not use: "portalVersion", "saakk"`) });
      expect(res.stderr + res.stdout).not.toMatch(/PV-SECRET-LOOKING-VALUE|typo-of-saak-value/);
      for (const secret of [other.ionapi.cs!, other.ionapi.sask!]) expect(res.stderr + res.stdout).not.toContain(secret);
    } finally {
      await other.close();
    }
  });

  it('is accepted by the pipeline\'s tenant connection, which warns once per connection', async () => {
    const source = new InMemorySecretSource();
    source.set(SECRET_NAME, JSON.stringify({ ...good, futureKey: 'value-not-to-log' }));
    const log = capturingLog();
    const connector = tenantConnector(source, new InMemoryTokenCache(), log);
    await connector.connect(SECRET_NAME, 'ACME_PRD');
    await connector.connect(SECRET_NAME, 'ACME_PRD');
    const warnings = log.warnings().map((w) => w.message);
    expect(warnings).toEqual([expect.stringContaining(`secret "${SECRET_NAME}": ignoring key(s) this version does not use: "futureKey"`)]);
    expect(log.text()).not.toContain('value-not-to-log');
  });
});

describe('the pipeline\'s tenant secret (Extract reads the .ionapi JSON from Secrets Manager)', () => {
  async function connectWith(file: Record<string, unknown> | string) {
    const source = new InMemorySecretSource();
    source.set(SECRET_NAME, typeof file === 'string' ? file : JSON.stringify(file));
    const cache = new InMemoryTokenCache();
    const log = capturingLog();
    const error = await tenantConnector(source, cache, log)
      .connect(SECRET_NAME, 'ACME_PRD')
      .then(() => undefined, (e: unknown) => e as Error);
    return { error, cache, log };
  }

  it.each(['ti', 'ci', 'cs', 'iu', 'pu', 'ot', 'saak', 'sask'])(
    'a secret without "%s" fails naming the secret and the field; no token is requested or cached',
    async (key) => {
      const { error, cache, log } = await connectWith(variant((f) => delete f[key]));
      expect(error).toBeInstanceOf(IonApiFileError);
      // A service account's key missing alone: its partner is there, so the file is no client-credentials app's.
      const why = key === 'saak' || key === 'sask' ? ': a service account needs both "saak" and "sask" (a client-credentials app has neither); ' : '; ';
      expect(error!.message).toMatch(new RegExp(`^ionapi file "secret \\"${SECRET_NAME}\\"": field "${key}" is missing${why.replace(/[()]/g, '\\$&')}`));
      expect(error!.message).toMatch(FIX);
      for (const secret of secrets()) expect(error!.message + log.text()).not.toContain(secret);
      expect(await cache.read('ACME_PRD')).toBeUndefined();
      expectCloudSuiteUntouched();
    },
  );

  it.each([
    ['scopes given as an object', (f: Record<string, unknown>) => (f.sc = { scope: 'x' }), 'field "sc" must be a string or a list of strings'],
    ['a host hidden behind loopback credentials', (f: Record<string, unknown>) => (f.iu = 'http://127.0.0.1@attacker.example'), 'field "iu" must be an https:// URL'],
    ['a token path that leaves https', (f: Record<string, unknown>) => (f.pu = 'ftp://mingle-sso.example.com/ACME_PRD/as/'), 'field "pu" must be an https:// URL'],
    ['a null secret', (f: Record<string, unknown>) => (f.sask = null), 'field "sask" is missing'],
    ['a tenant id with a query', (f: Record<string, unknown>) => (f.ti = 'ACME_PRD?x=1'), 'field "ti" must be a tenant id of letters, digits, _ and -'],
    ['a tenant id with an encoded slash', (f: Record<string, unknown>) => (f.ti = 'ACME%2F..'), 'field "ti" must be a tenant id of letters, digits, _ and -'],
  ])('%s is refused before any request', async (_name, change, problem) => {
    const { error, cache } = await connectWith(variant(change));
    expect(error).toBeInstanceOf(IonApiFileError);
    expect(error!.message).toContain(problem);
    for (const secret of secrets()) expect(error!.message).not.toContain(secret);
    expect(await cache.read('ACME_PRD')).toBeUndefined();
    expectCloudSuiteUntouched();
  });

  it('a secret that is a JSON list, not the file\'s object, is refused', async () => {
    const { error } = await connectWith(JSON.stringify([good]));
    expect(error?.message).toMatch(/^ionapi file "secret ".*"": must contain a JSON object, got a list; /);
    for (const secret of secrets()) expect(error!.message).not.toContain(secret);
    expectCloudSuiteUntouched();
  });

  it('rejected credentials fail the unit with an IonAuthError naming the secret; no MI call, no staged file, no token cached', async () => {
    const source = new InMemorySecretSource();
    source.set(SECRET_NAME, JSON.stringify({ ...good, cs: WRONG_SECRET }));
    const cache = new InMemoryTokenCache();
    const mi = await tenantConnector(source, cache, capturingLog()).connect(SECRET_NAME, 'ACME_PRD');
    const root = await mkdtemp(path.join(tmpdir(), 'hostile-stage-'));
    const failure = await extractUnit({
      tenant: 'ACME_PRD', entity: defaultCatalog.get('suppliers')!, company: '100', division: '', runId: 'r1', runStartedAt: new Date().toISOString(),
      window: { since: null, until: null }, mi, store: new LocalFolderBlobStore(root), unitPrefix: 'runs/suppliers/100',
    }).then(() => undefined, (e: unknown) => e as Error);
    expect(failure).toBeInstanceOf(IonAuthError);
    expect(failure!.message).toMatch(new RegExp(`invalid_client\\): check the client id \\(ci\\) and client secret \\(cs\\) in the \\.ionapi file "secret \\"${SECRET_NAME}\\""`));
    for (const secret of secrets()) expect(failure!.message).not.toContain(secret);
    expect(await filesUnder(root)).toEqual([]);
    expect(await cache.read('ACME_PRD')).toBeUndefined();
    expectCloudSuiteUntouched();
  });
});

describe('a secret holding another tenant\'s .ionapi file (TST pasted into the PRD secret)', () => {
  let tst: CloudSuiteEmulator;
  beforeAll(async () => {
    tst = await startCloudSuiteEmulator({ seed: 34, tenant: 'ACME_TST' });
  });
  afterAll(() => tst.close());

  /** The deployed pipeline's steps over dynalite and a staging folder; the PRD secret holds TST's file. */
  async function pipelineWithTstFile() {
    const dynamo = await startDynalite();
    const stateTableName = await dynamo.createStateTable();
    const root = await mkdtemp(path.join(tmpdir(), 'hostile-tenant-'));
    const source = new InMemorySecretSource();
    source.set(SECRET_NAME, JSON.stringify(tst.ionapi));
    const cache = new InMemoryTokenCache();
    const connector = tenantConnector(source, cache, capturingLog());
    const deps: PipelineDeps = {
      ...pipelineState(dynamoSyncState({ documents: dynamo.documents, stateTableName }), new LocalFolderBlobStore(root)),
      connectTenant: (secretName, tenant) => connector.connect(secretName, tenant),
      openWarehouse: async () => {
        throw new Error('no warehouse here');
      },
      loadTable: async () => {
        throw new Error('no loader here');
      },
      metrics: new RecordingPipelineMetrics(),
      log: capturingLog(),
      now: Date.now,
    };
    const plan = (input: unknown, executionName: string) =>
      planRun({ executionName, startedAt: new Date().toISOString(), input }, { ...deps, flows: validateFlowsConfig(defaultConfig), executions: new InProcessExecutions() });
    return { deps, plan, root, cache, source, close: () => dynamo.close() };
  }

  const MISMATCH = new RegExp(
    `^secret "${SECRET_NAME}" holds the \\.ionapi file of tenant "ACME_TST" \\(its "ti"\\), but the flows configuration reads tenant "ACME_PRD" with it; nothing was called`,
  );

  it('Extract refuses the unit naming the secret and both tenants, before any call: no token, no MI call, nothing staged', async () => {
    const pipeline = await pipelineWithTstFile();
    try {
      // Plan ran while the secret held PRD's file (Plan reads the tenant's metadata, so it would refuse TST's
      // file itself: see the next test); TST's file was pasted in before Extract ran, in a new container.
      pipeline.source.set(SECRET_NAME, JSON.stringify(emulator.ionapi));
      const planned = await pipeline.plan({ flows: ['suppliers'], companies: ['100'] }, 'exec-tenant-1');
      pipeline.source.set(SECRET_NAME, JSON.stringify(tst.ionapi));
      const extractContainer = tenantConnector(pipeline.source, new InMemoryTokenCache(), capturingLog());
      const deps: PipelineDeps = { ...pipeline.deps, connectTenant: (secretName, tenant) => extractContainer.connect(secretName, tenant) };
      const failure = await extractPlannedUnit({ plan: planned.plan, unitId: 'suppliers/100' }, deps).then(() => undefined, (e: unknown) => e as Error);
      expect(failure).toBeInstanceOf(TenantSecretMismatchError);
      expect(failure!.message).toMatch(MISMATCH);
      expect(failure!.message).toMatch(/Paste the \.ionapi file of tenant ACME_PRD into the secret, or correct tenants\.ACME_PRD\.secretName$/);
      expect([tst.counters.passwordGrants, tst.counters.miCalls]).toEqual([0, 0]);
      expect((await filesUnder(pipeline.root)).filter((f) => f.startsWith('runs/'))).toEqual([]);
      expect(await pipeline.cache.read('ACME_TST')).toBeUndefined();
    } finally {
      await pipeline.close();
    }
  });

  it('Plan refuses to read the tenant\'s fields through it, before any call', async () => {
    const pipeline = await pipelineWithTstFile();
    try {
      const failure = await pipeline.plan({ flows: ['suppliers'], companies: ['100'] }, 'exec-tenant-3').then(() => undefined, (e: unknown) => e as Error);
      expect(failure).toBeInstanceOf(TenantSecretMismatchError);
      expect(failure!.message).toMatch(MISMATCH);
      expect([tst.counters.passwordGrants, tst.counters.miCalls]).toEqual([0, 0]);
    } finally {
      await pipeline.close();
    }
  });

  it('Plan refuses to list the divisions of a division-scoped flow through it, before any call', async () => {
    const pipeline = await pipelineWithTstFile();
    try {
      const failure = await pipeline.plan({ flows: ['gl-accounts'], companies: ['100'] }, 'exec-tenant-2').then(() => undefined, (e: unknown) => e as Error);
      expect(failure).toBeInstanceOf(TenantSecretMismatchError);
      expect(failure!.message).toMatch(MISMATCH);
      expect([tst.counters.passwordGrants, tst.counters.miCalls]).toEqual([0, 0]);
    } finally {
      await pipeline.close();
    }
  });
});
