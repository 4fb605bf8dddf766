// `check --ionapi F`: the preflight of every configured flow and company against a tenant, run as a user
// runs it (a child process) against CloudSuite emulators set up as different tenants.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator, type Knobs } from '#emulators/cloudsuite/index.ts';
import { numberFormatOf } from '../../../../infra/cli/tenantPreflight.ts';
import { runCli, type CliResult } from '../../../support/runCli.ts';

const emulators: CloudSuiteEmulator[] = [];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'check-'));
});
afterAll(async () => {
  for (const emulator of emulators) await emulator.close();
});

/** An emulator with these knobs and the path of its .ionapi file. */
async function tenant(name: string, knobs: Partial<Knobs> = {}): Promise<{ emulator: CloudSuiteEmulator; ionapi: string }> {
  const emulator = await startCloudSuiteEmulator({ seed: 71, knobs });
  emulators.push(emulator);
  const ionapi = path.join(dir, `${name}.ionapi`);
  await emulator.writeIonApiFile(ionapi);
  return { emulator, ionapi };
}

function rowsOf(result: CliResult): Map<string, string> {
  const table = result.stdout.slice(result.stdout.indexOf('\nflow '));
  return new Map(
    table
      .split('\n')
      .map((l) => /^(\S+)\s+(\d+)\s+(ok|warn|FAIL)\s/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [`${m[1]} ${m[2]}`, m[3]!]),
  );
}

describe('check --ionapi (the preflight of every flow)', () => {
  it('on the default emulator: every flow and company would run, exit 0, with the table and a JSON summary', async () => {
    const { ionapi } = await tenant('default');
    const res = await runCli(['check', '--ionapi', ionapi]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/ok\s+token: issued by .*\(service account, password grant\)/);
    expect(res.stdout).toMatch(/ok\s+company 100: 3 division\(s\): A01, A02, B10/);
    expect(res.stdout).toMatch(/ok\s+company 100 blank division: division conditions work on a blank-division session as the product sends it/);
    expect(res.stdout).toMatch(/ok\s+number format in REPL: decimal point '\.' \(e\.g\. [\d.]+\), minus sign first \(e\.g\. -[\d.]+\)/);
    expect(res.stdout).toMatch(/^flow\s+company\s+status\s+what to do$/m);
    const rows = rowsOf(res);
    expect(rows.size).toBe(27);
    expect([...rows.values()].every((s) => s === 'ok')).toBe(true);
    expect(res.stdout).toMatch(/^purchase-orders\s+100\s+ok\s+nothing \(32 fields; one page of a daily run \(changes since \d{8}\): \d+ records in [\d.]+ s\)$/m);
    expect(res.summary()).toMatchObject({ tenant: 'ACME_PRD', ok: true, flows: 27, failed: 0, failedFlows: [], blankDivision: { '100': { matrix: 'honoured', query: 'honoured' } } });
  });

  it('names a flow whose table does not exist and exits 1; leaving that flow out with --flows exits 0', async () => {
    const { ionapi } = await tenant('no-ledger', { missingTables: ['FPLEDG'], tableFields: { MPHEAD: { missing: ['REMK', 'PUSL', 'ARAT'] } } });
    const res = await runCli(['check', '--ionapi', ionapi, '--companies', '100,200']);
    expect(res.code).toBe(1);
    const rows = rowsOf(res);
    expect(rows.get('ap-ledger 100')).toBe('FAIL');
    expect(rows.get('ap-ledger 200')).toBe('FAIL');
    expect(rows.get('purchase-orders 100')).toBe('warn');
    expect(rows.get('suppliers 100')).toBe('ok');
    expect(rows.size).toBe(18);
    expect(res.stdout).toMatch(/ap-ledger\s+100\s+FAIL\s+ap_ledger: table FPLEDG does not exist on this tenant .*leave this flow out/);
    expect(res.stdout).toMatch(/purchase-orders\s+100\s+warn\s+3 of 32 configured fields not on this tenant: REMK, PUSL, ARAT/);
    expect(res.stdout).toMatch(/^flows that would fail: ap-ledger$/m);
    expect(res.summary()).toMatchObject({ ok: false, failedFlows: ['ap-ledger'] });

    const without = await runCli(['check', '--ionapi', ionapi, '--flows', 'suppliers,purchase-orders,gl-transactions', '--companies', '100']);
    expect(without.code, without.stdout).toBe(0);
    expect(without.summary()).toMatchObject({ ok: true, flows: 3, warned: 1, failedFlows: [] });
  });

  it('fails the flows of an entity whose key field the tenant lacks, and of a company the service account may not use', async () => {
    const { ionapi } = await tenant('no-key', { tableFields: { MPLINE: { missing: ['PNLS'] } } });
    const res = await runCli(['check', '--ionapi', ionapi, '--flows', 'purchase-order-lines,suppliers', '--companies', '100,999']);
    expect(res.code).toBe(1);
    const rows = rowsOf(res);
    expect(rows.get('purchase-order-lines 100')).toBe('FAIL');
    expect(rows.get('suppliers 100')).toBe('ok');
    expect(rows.get('suppliers 999')).toBe('FAIL');
    expect(res.stdout).toMatch(/purchase-order-lines\s+100\s+FAIL\s+purchase_order_lines: key field PNLS is not on this tenant's table MPLINE/);
    expect(res.stdout).toMatch(/suppliers\s+999\s+FAIL\s+the service account may not use company 999/);
  });

  it('says which form of the blank division the tenant honours', async () => {
    const { ionapi } = await tenant('divi', { emptyDiviQueryParameter: 'ignored', userDefaultDivision: 'first' });
    const res = await runCli(['check', '--ionapi', ionapi, '--flows', 'gl-transactions', '--companies', '100']);
    expect(res.code, res.stdout).toBe(0);
    expect(res.stdout).toMatch(/company 100 blank division: division conditions work .* \(;divi= as a matrix parameter\); as a query parameter divi= is ignored/);
    expect(res.summary()).toMatchObject({ blankDivision: { '100': { matrix: 'honoured', query: 'ignored' } } });
  });

  it('proves a client-credentials app', async () => {
    const { ionapi } = await tenant('cc', { backendApp: 'client-credentials' });
    const res = await runCli(['check', '--ionapi', ionapi, '--flows', 'suppliers', '--companies', '100']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/ok\s+token: issued by .*\(client credentials grant\)/);
  });

  it('refuses an unknown flow, naming the configured ones', async () => {
    const { ionapi } = await tenant('unknown-flow');
    const res = await runCli(['check', '--ionapi', ionapi, '--flows', 'nope']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/--flows: unknown flow "nope"; configured flows: suppliers, gl-accounts/);
  });
});

describe('the number format in REPL', () => {
  it('accepts a decimal point and a leading sign, and names a decimal comma or a trailing sign with the fix', () => {
    expect(numberFormatOf(['1234.5', '-0.75', '', '0'])).toEqual({ described: "decimal point '.' (e.g. 1234.5), minus sign first (e.g. -0.75)" });
    expect(numberFormatOf(['1234,5']).problem).toMatch(/numbers come as "1234,5" in REPL.*decimal format \(DCFM\) to '\.' in MNS150/);
    expect(numberFormatOf(['12.5', '0.75-']).problem).toMatch(/"0\.75-"/);
  });
});
