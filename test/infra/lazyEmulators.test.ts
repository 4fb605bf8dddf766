// What `npx cloudsuite-sync sync` loads. Against a real tenant and a real warehouse it loads no emulator code
// and none of the emulators' dependencies (DuckDB, dynalite, s3rver): state and staging are files in the state
// folder. A resolve hook in the CLI's own process (test/support/moduleProbe) records every module it resolves;
// the same probe on the default, all-emulator path sees all three, so the check can fail.
import { readFile, readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { runCli, type CliResult } from '../support/runCli.ts';

const PROBE = path.resolve(import.meta.dirname, '../support/moduleProbe/register.mjs');
const EMULATOR_PACKAGES = ['@duckdb/node-api', 'dynalite', 's3rver'];

/** The npm packages whose files the process resolved. */
async function resolvedPackages(file: string): Promise<Set<string>> {
  const urls = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  return new Set(urls.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []));
}

/** A loopback port nothing listens on: the warehouse refuses every connection. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function probedSync(root: string, name: string, args: string[], env: Record<string, string> = {}): Promise<{ result: CliResult; packages: Set<string>; stateDir: string }> {
  const modules = path.join(root, `${name}.modules.txt`);
  const stateDir = path.join(root, name);
  const result = await runCli(['sync', '--state-dir', stateDir, '--flows', 'suppliers', '--companies', '100', ...args], {
    nodeArgs: ['--import', PROBE],
    env: { CLOUDSUITE_SYNC_RESOLVED_MODULES: modules, ...env },
  });
  return { result, packages: await resolvedPackages(modules), stateDir };
}

describe('the local sync loads emulators only on the emulator path', () => {
  let emulator: CloudSuiteEmulator;
  let real: Awaited<ReturnType<typeof probedSync>>;
  let emulated: Awaited<ReturnType<typeof probedSync>>;

  beforeAll(async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'lazy-emulators-'));
    emulator = await startCloudSuiteEmulator({ seed: 1 });
    const ionapi = path.join(root, 'tenant.ionapi');
    await emulator.writeIonApiFile(ionapi);
    const realArgs = ['--ionapi', ionapi, '--databricks-host', `127.0.0.1:${await refusedPort()}`, '--databricks-path', '/sql/1.0/warehouses/probe'];
    [real, emulated] = await Promise.all([
      probedSync(root, 'real', realArgs, { DATABRICKS_TOKEN: 'dapi-lazy-emulators-probe' }),
      probedSync(root, 'emulated', []),
    ]);
  }, 180_000);

  afterAll(() => emulator?.close());

  it('with --ionapi and --databricks-host: extracts from the tenant, fails at the unreachable warehouse, and never resolves DuckDB, dynalite or s3rver', async () => {
    expect(real.result.stderr).toMatch(/✓ suppliers\/100: \d+ records extracted/);
    expect(real.result.code).toBe(1);
    expect(real.result.summary()).toMatchObject({ status: 'failed', units: 1, recordsLoaded: 0 });
    // The probe saw this run's modules: the driver it tried to connect with, the state folder's lock.
    expect([...real.packages]).toEqual(expect.arrayContaining(['@databricks/sql', 'proper-lockfile']));
    expect(EMULATOR_PACKAGES.filter((p) => real.packages.has(p))).toEqual([]);
    expect((await readdir(real.stateDir)).sort()).toEqual(['.cloudsuite-sync-state', 'staging', 'state', 'token-cache.key']);
  });

  it('on the default path (bundled emulators): resolves all three', () => {
    expect(emulated.result.code, emulated.result.stderr).toBe(0);
    expect(EMULATOR_PACKAGES.filter((p) => emulated.packages.has(p))).toEqual(EMULATOR_PACKAGES);
  });
});

describe('check --ionapi loads no emulator', () => {
  let emulator: CloudSuiteEmulator;
  afterAll(() => emulator?.close());

  it('runs the preflight of every flow against a tenant without resolving DuckDB, dynalite, s3rver or any emulator module', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'lazy-check-'));
    emulator = await startCloudSuiteEmulator({ seed: 1 });
    const ionapi = path.join(root, 'tenant.ionapi');
    await emulator.writeIonApiFile(ionapi);
    const modules = path.join(root, 'check.modules.txt');
    const result = await runCli(['check', '--ionapi', ionapi, '--companies', '100'], {
      nodeArgs: ['--import', PROBE],
      env: { CLOUDSUITE_SYNC_RESOLVED_MODULES: modules },
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.summary()).toMatchObject({ ok: true, flows: 9 });
    const urls = (await readFile(modules, 'utf8')).split('\n').filter(Boolean);
    // The probe saw the command's own modules, so an emulator module would have shown up too.
    expect(urls.some((url) => url.includes('/infra/cli/tenantPreflight.ts'))).toBe(true);
    expect(urls.filter((url) => url.includes('/infra/local/emulators/'))).toEqual([]);
    const packages = await resolvedPackages(modules);
    expect(EMULATOR_PACKAGES.filter((p) => packages.has(p))).toEqual([]);
  });
});
