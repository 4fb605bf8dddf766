// Secrets never leave their place. A full local sync (the real state machine, handlers, dynalite, s3rver, the
// CloudSuite emulator and the warehouse emulator through the real driver) runs with canary credentials and
// every log line enabled (DEBUG), with retries, a 401 renewal and warehouse 503s along the way; then every
// place data goes is scanned for them: log lines and anything written to stdout/stderr, progress lines, the
// execution's events (all state inputs and outputs), every DynamoDB item, every S3 object (gzip opened), the
// warehouse's tables and every file in the state folder. A second run whose warehouse token is refused
// checks the error path; the CLI's output (DEBUG, verbose) is scanned the same way.
//
// The canaries: the .ionapi client secret (cs), service-account keys (saak, sask), every access and refresh
// token the emulator issued (read from its token store after the run), and the warehouse token (a canary
// passed to the warehouse emulator through its `token` option).
import { MARTS } from '#shared/load/marts/martViews.ts';
import { Console } from 'node:console';
import { readFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runLocalSync, STAGING_BUCKET, STATE_TABLE, type LocalSyncResult } from '../../infra/local/runLocalSync.ts';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { startWarehouseEmulator, type WarehouseEmulator } from '#emulators/databricks/index.ts';
import { DynamoTokenCache } from '#shared/aws/dynamoTokenCache.ts';
import { LocalKeyEncryptor } from '#shared/aws/encryptor.ts';
import { startLocalDynamo, startLocalS3 } from '#emulators/aws/localAwsEmulators.ts';
import { logger } from '#shared/observability/logger.ts';
import { runCli } from '../support/runCli.ts';
import { filesUnder } from '../hostile/support/hostile.ts';

// The warehouse emulator the local sync starts gets a canary token; `refuse` makes the sync's connection
// secret carry a different one, so the warehouse answers 401 (the error path).
const canary = vi.hoisted(() => ({
  warehouseToken: `dapiSECURITYCANARY${Math.random().toString(16).slice(2, 14)}`,
  wrongWarehouseToken: `dapiWRONGCANARY${Math.random().toString(16).slice(2, 14)}`,
  refuse: false,
  started: [] as unknown[],
}));

vi.mock('../../infra/local/emulators/databricks/index.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../infra/local/emulators/databricks/index.ts')>();
  return {
    ...original,
    startWarehouseEmulator: async (options: Parameters<typeof original.startWarehouseEmulator>[0] = {}) => {
      const started = await original.startWarehouseEmulator({ ...options, token: options.token ?? canary.warehouseToken });
      canary.started.push(started);
      if (!canary.refuse || options.token) return started;
      return new Proxy(started, {
        get: (target, property) => {
          if (property === 'token') return canary.wrongWarehouseToken;
          const value = Reflect.get(target, property, target) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
});

/** The emulator's issued tokens, from its token store (internals: the gateway never shows them). */
function issuedTokens(emulator: CloudSuiteEmulator): string[] {
  const store = (emulator as unknown as { tokens: { access: Map<string, unknown>; refresh: Map<string, unknown> } }).tokens;
  return [...store.access.keys(), ...store.refresh.keys()];
}

interface Capture {
  lines: string[];
  stop(): void;
}

/** Every log line at DEBUG (the shared Powertools logger) and every byte written to stdout/stderr. */
function captureOutput(): Capture {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const loggerWithConsole = logger as unknown as { console: Console };
  const originalConsole = loggerWithConsole.console;
  loggerWithConsole.console = new Console({ stdout: sink, stderr: sink });
  logger.setLogLevel('DEBUG');
  const previousEnv = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  const writes = { out: process.stdout.write, err: process.stderr.write };
  const record = (chunk: unknown) => {
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  process.stdout.write = record as typeof process.stdout.write;
  process.stderr.write = record as typeof process.stderr.write;
  return {
    lines,
    stop() {
      process.stdout.write = writes.out;
      process.stderr.write = writes.err;
      loggerWithConsole.console = originalConsole;
      logger.setLogLevel('ERROR');
      process.env.POWERTOOLS_LOG_LEVEL = previousEnv;
    },
  };
}

/** Names the first canary found in `text`, so a failure says which secret leaked where. */
function leaked(text: string, canaries: Record<string, string>): string | undefined {
  return Object.entries(canaries).find(([, value]) => value.length >= 16 && text.includes(value))?.[0];
}

function expectNoCanary(where: string, text: string, canaries: Record<string, string>): void {
  const found = leaked(text, canaries);
  expect(found === undefined ? undefined : `${found} found in ${where}`).toBeUndefined();
}

const bigintSafe = (_key: string, value: unknown) => (typeof value === 'bigint' ? value.toString() : value);

type State = { items: Record<string, unknown>[]; objects: Map<string, string>; files: Map<string, string> };
const states = new Map<string, Promise<State>>();

/** Everything the run left behind, as text per place: DynamoDB items, S3 objects (gunzipped), files. */
function stateOf(stateDir: string): Promise<State> {
  let state = states.get(stateDir);
  if (!state) states.set(stateDir, (state = readState(stateDir)));
  return state;
}

async function readState(stateDir: string): Promise<{ items: Record<string, unknown>[]; objects: Map<string, string>; files: Map<string, string> }> {
  const dynamo = await startLocalDynamo(path.join(stateDir, 'dynamodb'));
  const s3 = await startLocalS3(path.join(stateDir, 's3'));
  try {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await dynamo.documents.send(new ScanCommand({ TableName: STATE_TABLE, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    const objects = new Map<string, string>();
    let token: string | undefined;
    do {
      const page = await s3.s3.send(new ListObjectsV2Command({ Bucket: STAGING_BUCKET, ContinuationToken: token }));
      for (const { Key } of page.Contents ?? []) {
        const body = Buffer.from(await (await s3.s3.send(new GetObjectCommand({ Bucket: STAGING_BUCKET, Key }))).Body!.transformToByteArray());
        objects.set(Key!, (Key!.endsWith('.gz') ? gunzipSync(body) : body).toString('utf8'));
      }
      token = page.NextContinuationToken;
    } while (token);
    const files = new Map<string, string>();
    for (const file of await filesUnder(stateDir)) files.set(file, (await readFile(path.join(stateDir, file))).toString('latin1'));
    return { items, objects, files };
  } finally {
    await s3.close();
    await dynamo.close();
  }
}

/** Every row of every table the sync created, as JSON. */
async function warehouseRows(stateDir: string): Promise<Map<string, string>> {
  const warehouse: WarehouseEmulator = await startWarehouseEmulator({ dbFile: path.join(stateDir, 'databricks', 'warehouse.duckdb'), token: canary.warehouseToken });
  try {
    const rows = new Map<string, string>();
    for (const table of await warehouse.query('SHOW TABLES IN main.cloudsuite')) {
      const name = `main.cloudsuite.${String(table.tableName)}`;
      rows.set(name, JSON.stringify(await warehouse.query(`SELECT * FROM ${name}`), bigintSafe));
    }
    return rows;
  } finally {
    await warehouse.close();
  }
}

describe('a full local sync with canary secrets and DEBUG logs', () => {
  let stateDir: string;
  let result: LocalSyncResult;
  let emulator: CloudSuiteEmulator | undefined;
  let capture: Capture;
  const progress: string[] = [];
  let canaries: Record<string, string>;

  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'security-sync-'));
    capture = captureOutput();
    try {
      result = await runLocalSync({ stateDir, log: logger, progress: (line) => progress.push(line) }, {
        emulator: { seed: 61 },
        onCloudSuite: (e) => {
          emulator = e;
          // Along the way: a retried 503 and 429, and every access token expiring mid-run (401, then renewal).
          e.injectFault({ kind: 'http503', program: 'CRS620MI', count: 1 });
          e.injectFault({ kind: 'http429', program: 'EXPORTMI', afterCalls: 5, count: 1 });
          e.onBeforeMiCall = ({ callIndex }) => void (callIndex === 40 && e.expireAccessTokens());
          const warehouse = canary.started.at(-1) as WarehouseEmulator;
          warehouse.injectFault({ rpc: 'ExecuteStatement', kind: 'http503', count: 2, matchSql: /^MERGE/ });
        },
      });
    } finally {
      capture.stop();
    }
    const tokens = issuedTokens(emulator!);
    canaries = {
      'client secret (cs)': emulator!.ionapi.cs!,
      'service-account access key (saak)': emulator!.ionapi.saak!,
      'service-account secret key (sask)': emulator!.ionapi.sask!,
      'warehouse token': canary.warehouseToken,
      ...Object.fromEntries(tokens.map((t, i) => [`ION token #${i + 1}`, t])),
    };
  }, 90_000);

  afterAll(() => {
    canary.started.length = 0;
  });

  it('ran as a real run would: every unit committed, several tokens issued, retries and DEBUG lines logged', () => {
    expect(result.status, result.cause).toBe('succeeded');
    expect(result.units).toHaveLength(33);
    // The sync's warehouse really ran on the canary token (its connection secret is built from it).
    expect((canary.started[0] as WarehouseEmulator).token).toBe(canary.warehouseToken);
    expect(emulator!.counters.unauthorized).toBeGreaterThan(0);
    expect(emulator!.counters.faultsInjected).toBeGreaterThanOrEqual(2);
    expect(issuedTokens(emulator!).length).toBeGreaterThanOrEqual(3);
    const text = capture.lines.join('');
    expect(text).toMatch(/"level":"DEBUG"/);
    expect(text).toMatch(/"message":"MI call done"/);
    expect(text).toMatch(/retrying CloudSuite call/);
    expect(capture.lines.length).toBeGreaterThan(100);
  });

  it('puts no secret in any log line, anything written to stdout/stderr, or the progress lines', () => {
    for (const line of capture.lines) expectNoCanary(`log line ${line.slice(0, 120)}`, line, canaries);
    for (const line of progress) expectNoCanary(`progress line ${line}`, line, canaries);
  });

  it('puts no secret in any state input or output of the execution, or in its result', () => {
    expect(result.events.length).toBeGreaterThan(300);
    for (const event of result.events) expectNoCanary(`execution event ${event.type}`, JSON.stringify(event), canaries);
    expectNoCanary('the run result', JSON.stringify({ ...result, events: undefined }, bigintSafe), canaries);
  });

  it('keeps DynamoDB free of secrets in clear; the one cached token is sealed and opens to an issued token', async () => {
    const { items } = await stateOf(stateDir);
    expect(items.length).toBeGreaterThan(33);
    for (const item of items) expectNoCanary(`DynamoDB item ${String(item.pk)} ${String(item.sk)}`, JSON.stringify(item, bigintSafe), canaries);
    const sealed = items.find((i) => String(i.pk).startsWith('token#'));
    expect(sealed).toBeDefined();
    const dynamo = await startLocalDynamo(path.join(stateDir, 'dynamodb'));
    try {
      const cache = new DynamoTokenCache({
        documents: dynamo.documents, stateTableName: STATE_TABLE, encryptor: await LocalKeyEncryptor.fromKeyFile(path.join(stateDir, 'token-cache.key')),
      });
      const opened = await cache.read('ACME_PRD');
      expect(issuedTokens(emulator!)).toContain(opened!.accessToken);
    } finally {
      await dynamo.close();
    }
  });

  it('keeps every S3 object (plans, manifests, checkpoints, gunzipped part files) free of secrets', async () => {
    const { objects } = await stateOf(stateDir);
    expect([...objects.keys()].filter((k) => k.startsWith('plans/'))).toHaveLength(1);
    expect([...objects.keys()].filter((k) => k.endsWith('.jsonl.gz')).length).toBeGreaterThanOrEqual(33);
    for (const [key, text] of objects) expectNoCanary(`s3://${STAGING_BUCKET}/${key}`, text, canaries);
  });

  it('keeps the warehouse\'s tables and every file of the state folder free of secrets', async () => {
    const rows = await warehouseRows(stateDir);
    // 9 current and 9 history tables, their 9 business-named views, the control totals and the finance marts (views: their rows too).
    expect(rows.size).toBe(28 + MARTS.length);
    for (const [table, text] of rows) expectNoCanary(`warehouse table ${table}`, text, canaries);
    const { files } = await stateOf(stateDir);
    expect([...files.keys()].some((f) => f.startsWith('databricks/'))).toBe(true);
    for (const [file, text] of files) expectNoCanary(`state file ${file}`, text, canaries);
  });
});

describe('a local sync whose warehouse token is refused', () => {
  it('fails the load with a message that carries neither the refused nor the real token, anywhere', async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), 'security-refused-'));
    let emulator: CloudSuiteEmulator | undefined;
    const capture = captureOutput();
    canary.refuse = true;
    let result: LocalSyncResult;
    try {
      result = await runLocalSync({ stateDir, log: logger, progress: () => undefined, flows: ['suppliers'] }, { emulator: { seed: 62 }, onCloudSuite: (e) => void (emulator = e) });
    } finally {
      canary.refuse = false;
      capture.stop();
    }
    expect(result.status).toBe('failed');
    expect(result.units.map((u) => u.status)).toEqual(['failed', 'failed', 'failed']);
    const recorded = result.units[0]!.error;
    expect(recorded?.message).toBeTruthy();
    const canaries = {
      'refused warehouse token': canary.wrongWarehouseToken,
      'warehouse token': canary.warehouseToken,
      'client secret (cs)': emulator!.ionapi.cs!,
      'service-account secret key (sask)': emulator!.ionapi.sask!,
      ...Object.fromEntries(issuedTokens(emulator!).map((t, i) => [`ION token #${i + 1}`, t])),
    };
    expectNoCanary('the failure cause', `${result.error} ${result.cause}`, canaries);
    expectNoCanary('the recorded unit errors', JSON.stringify(result.units), canaries);
    for (const event of result.events) expectNoCanary(`execution event ${event.type}`, JSON.stringify(event), canaries);
    for (const line of capture.lines) expectNoCanary(`log line ${line.slice(0, 120)}`, line, canaries);
    const { items, objects } = await stateOf(stateDir);
    for (const item of items) expectNoCanary(`DynamoDB item ${String(item.pk)}`, JSON.stringify(item, bigintSafe), canaries);
    for (const [key, text] of objects) expectNoCanary(`S3 object ${key}`, text, canaries);
  }, 60_000);
});

describe('the CLI with DEBUG logs', () => {
  let emulator: CloudSuiteEmulator;
  beforeAll(async () => {
    emulator = await startCloudSuiteEmulator({ seed: 63 });
  });
  afterAll(() => emulator.close());

  it('prints no secret or token from check, extract and load, verbose and at DEBUG', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'security-cli-'));
    const ionapi = path.join(dir, 'tenant.ionapi');
    await emulator.writeIonApiFile(ionapi);
    const env = { POWERTOOLS_LOG_LEVEL: 'DEBUG' };
    const out = path.join(dir, 'out');
    const [check, extract] = await Promise.all([
      runCli(['-v', 'check', '--ionapi', ionapi, '--company', '100'], { env }),
      runCli(['-v', 'extract', '--ionapi', ionapi, '--entity', 'gl_accounts', '--company', '100', '--out', out], { env }),
    ]);
    const load = await runCli(['-v', 'load', '--staged', out, '--warehouse', `local:${path.join(dir, 'warehouse.duckdb')}`], { env });
    for (const res of [check, extract, load]) expect(res.code, res.stderr).toBe(0);
    expect(extract.stderr).toMatch(/"level":"DEBUG"/);
    const canaries = {
      'client secret (cs)': emulator.ionapi.cs!,
      'service-account access key (saak)': emulator.ionapi.saak!,
      'service-account secret key (sask)': emulator.ionapi.sask!,
      'the local warehouse token': 'dapi-local-emulator',
      ...Object.fromEntries(issuedTokens(emulator).map((t, i) => [`ION token #${i + 1}`, t])),
    };
    expect(Object.keys(canaries).length).toBeGreaterThanOrEqual(6);
    for (const [name, res] of Object.entries({ check, extract, load })) expectNoCanary(`the output of ${name}`, res.stdout + res.stderr, canaries);
    const staged = await filesUnder(out);
    for (const file of staged) {
      const bytes = await readFile(path.join(out, file));
      expectNoCanary(`staged file ${file}`, (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8'), canaries);
    }
  }, 60_000);
});
