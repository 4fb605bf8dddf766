// Masking by value, and bounded error text. A gateway that echoes the caller's access token in an NOK message
// (in plain words: no "Bearer", no "token=") and a server that sends a 5 MB error message, met where a user
// meets them: the CLI's `extract` (a real process: its stderr) and a local sync against that tenant (the run's
// cause, the ledger's unit errors, every log line). The token is masked everywhere, and the text is bounded.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalSync } from '../../infra/local/runLocalSync.ts';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { MiError } from '#shared/m3/miErrors.ts';
import { bounded, MAX_MESSAGE_CHARS, redact, registerSecret } from '#shared/observability/redaction.ts';
import { errorSummary } from '#shared/state/runLedger.ts';
import { capturingLog } from '../support/cloudSuite.ts';
import { runCli } from '../support/runCli.ts';
import { expectCliError, startMiProxy, USER_ENV, type MiProxy } from '../hostile/support/hostile.ts';

const HUGE = 5_000_000;

/** An MI answer that is a NOK whose message is `message`. */
function nok(transaction: string, message: string): Buffer {
  return Buffer.from(JSON.stringify({ results: [{ transaction, errorMessage: message, errorType: 'ServerReturnedNOK', errorCode: 'XSE0001', records: [] }] }));
}

let emulator: CloudSuiteEmulator;
let dir: string;
/** Every access token the proxy saw on an MI call (and echoed back). */
const echoed = new Set<string>();

/** A proxy whose LstSuppliers answers are NOKs quoting the caller's token; `huge` pads the message to 5 MB. */
async function echoingProxy(huge: boolean): Promise<MiProxy> {
  return startMiProxy(emulator, (call) => {
    if (call.transaction !== 'LstSuppliers') return undefined;
    echoed.add(call.accessToken);
    const padding = huge ? 'x'.repeat(HUGE) : '';
    return nok(call.transaction, `Session ${call.accessToken} is not valid for this company${padding}`);
  });
}

async function ionapiFileFor(proxy: MiProxy, name: string): Promise<string> {
  const file = path.join(dir, `${name}.ionapi`);
  await writeFile(file, JSON.stringify(proxy.ionapi));
  return file;
}

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 71 });
  dir = await mkdtemp(path.join(tmpdir(), 'security-masking-'));
});
afterAll(() => emulator.close());

describe('a gateway echoing the access token in an NOK message', () => {
  it('`extract`: the error line names the call and M3\'s words with the token masked', async () => {
    const proxy = await echoingProxy(false);
    try {
      const res = await runCli(['extract', '--ionapi', await ionapiFileFor(proxy, 'echo'), '--entity', 'suppliers', '--company', '100', '--out', path.join(dir, 'out-echo')], { env: USER_ENV });
      expect(echoed.size).toBeGreaterThan(0);
      const line = expectCliError(res, /^error: CRS620MI\/LstSuppliers: M3 answered NOK XSE0001: "Session \[redacted\] is not valid for this company"/, [...echoed]);
      expect(line).not.toMatch(/Bearer/);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('a local sync: the run\'s cause, the ledger\'s unit errors and every log line carry the message, never the token', async () => {
    const proxy = await echoingProxy(false);
    const log = capturingLog();
    try {
      const stateDir = path.join(dir, 'sync-echo');
      const result = await runLocalSync({ stateDir, ionapiFile: await ionapiFileFor(proxy, 'sync'), flows: ['suppliers'], companies: ['100'], progress: () => undefined, log });
      expect(result.status).toBe('failed');
      expect(result.cause).toContain('suppliers/100 (MiError: CRS620MI/LstSuppliers: M3 answered NOK XSE0001: "Session [redacted] is not valid');
      expect(result.units[0]!.error?.message).toContain('"Session [redacted] is not valid for this company"');
      const everything = [result.cause, result.error, JSON.stringify(result.units), JSON.stringify(result.events), log.text()].join('\n');
      for (const token of echoed) expect(everything.includes(token), 'the echoed token leaked').toBe(false);
    } finally {
      await proxy.close();
    }
  }, 60_000);
});

describe('a 5 MB error message', () => {
  it('`extract` prints one bounded line, the token still masked', async () => {
    const proxy = await echoingProxy(true);
    try {
      const res = await runCli(['extract', '--ionapi', await ionapiFileFor(proxy, 'huge'), '--entity', 'suppliers', '--company', '100', '--out', path.join(dir, 'out-huge')], { env: USER_ENV });
      const line = expectCliError(res, /^error: CRS620MI\/LstSuppliers: M3 answered NOK XSE0001: "Session \[redacted\] is not valid for this companyxxx/, [...echoed]);
      expect(line.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS + 'error: '.length);
      expect(res.stderr.length + res.stdout.length).toBeLessThan(20_000);
    } finally {
      await proxy.close();
    }
  }, 60_000);
});

describe('masking and bounding as functions', () => {
  it('masks a registered secret in its raw, percent-encoded and form-encoded forms, longest first', () => {
    const secret = 'p@ss word/with+chars-0123';
    registerSecret(secret);
    registerSecret(`${secret}-and-more`);
    const text = `a ${secret}-and-more b ${secret} c ${encodeURIComponent(secret)} d ${new URLSearchParams({ x: secret }).toString()}`;
    expect(redact(text)).toBe('a [redacted] b [redacted] c [redacted] d x=[redacted]');
  });

  it('bounds text and says how long it was; leaves short secrets-like words alone', () => {
    expect(bounded('x'.repeat(10_000), 100)).toMatch(/^x+… \[truncated: 10000 characters in all\]$/);
    expect(bounded('x'.repeat(10_000), 100)).toHaveLength(100);
    registerSecret('short');
    expect(redact('a short word')).toBe('a short word');
  });

  it('an MiError keeps M3\'s message bounded, and the ledger keeps 1,000 characters of any error, masked', () => {
    const token = 'tok-0123456789abcdef-ledger';
    registerSecret(token);
    const error = new MiError({ program: 'CRS620MI', transaction: 'LstSuppliers', miMessage: `${token} ${'y'.repeat(HUGE)}`, status: 200 });
    expect(error.miMessage.length).toBeLessThanOrEqual(500);
    expect(error.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(error.message + error.miMessage + (error.stack ?? '')).not.toContain(token);
    const foreign = errorSummary(new Error(`upstream said ${token} ${'z'.repeat(HUGE)}`));
    expect(foreign.message).toMatch(/^upstream said \[redacted\] z+… \[truncated: \d+ characters in all\]$/);
    expect(foreign.message.length).toBeLessThanOrEqual(1_000);
  });
});
