// The real state machine (synthesized from the CDK app) run locally with the real handlers, dynalite,
// s3rver and the CloudSuite emulator. The Databricks loader is stood in by a recording loader here, so
// these tests pin down the orchestration: units, continuations, failures, reruns and what payloads carry.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import defaultConfig from '../../infra/flows.config.ts';
import { runLocalSync, STATE_TABLE, type LocalSyncOptions, type LocalSyncResult, type LocalSyncTestHooks, type TaskHandler } from '../../infra/local/runLocalSync.ts';
import { DynamoTokenCache } from '#shared/aws/dynamoTokenCache.ts';
import { LocalKeyEncryptor } from '#shared/aws/encryptor.ts';
import { startLocalDynamo } from '#emulators/aws/localAwsEmulators.ts';
import { defaultCatalog } from '#shared/catalog/defaultCatalog.ts';
import type { FlowsConfigInput } from '#shared/config/flowsConfig.ts';
import { WarehouseUnavailableError } from '#shared/load/loadErrors.ts';
import { continuationsAllowed, estimateHistoryEvents } from '#shared/pipeline/historyBudget.ts';
import { DynamoWatermarkStore } from '#shared/state/dynamoWatermarkStore.ts';
import type { Watermark, WatermarkKey } from '#shared/state/watermarkStore.ts';
import type { CloudSuiteEmulator, M3Row } from '#emulators/cloudsuite/index.ts';
import { capturingLog } from '../support/cloudSuite.ts';
import { recordingLoader, type RecordingLoader } from './support/recordingLoader.ts';

const quiet = { progress: () => undefined, log: capturingLog() } satisfies Partial<LocalSyncOptions>;

async function stateDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'local-sync-'));
}

/** Runs the local sync and keeps a handle on the emulator (its data stays readable after it closes). */
async function sync(options: LocalSyncOptions, hooks: LocalSyncTestHooks): Promise<LocalSyncResult & { emulator: CloudSuiteEmulator }> {
  let emulator: CloudSuiteEmulator | undefined;
  const result = await runLocalSync(
    { ...quiet, ...options },
    {
      ...hooks,
      onCloudSuite: async (e) => {
        emulator = e;
        await hooks.onCloudSuite?.(e);
      },
    },
  );
  return { ...result, emulator: emulator! };
}

/** Reads the state folder's watermarks (the run has closed its emulators). */
async function watermarksIn(dir: string, keys: WatermarkKey[]): Promise<(Watermark | undefined)[]> {
  const dynamo = await startLocalDynamo(path.join(dir, 'dynamodb'));
  try {
    const store = new DynamoWatermarkStore({ documents: dynamo.documents, stateTableName: STATE_TABLE });
    return await Promise.all(keys.map((k) => store.get(k)));
  } finally {
    await dynamo.close();
  }
}

function keyOf(entity: string, row: M3Row): string {
  return JSON.stringify(defaultCatalog.get(entity)!.key.map((k) => row[k] ?? ''));
}

function expectNoDuplicateVersions(loader: RecordingLoader): void {
  for (const [table, contents] of loader.tables) {
    const repeated = [...contents.history].filter(([, times]) => times > 1);
    expect(repeated, `${table} received a record version twice`).toEqual([]);
  }
}

const wm = (entity: string, company: string, division = ''): WatermarkKey => ({ tenant: 'ACME_PRD', entity, company, division });

describe('the state machine run locally', () => {
  let dir: string;
  let loader: RecordingLoader;
  let first: Awaited<ReturnType<typeof sync>>;
  let second: Awaited<ReturnType<typeof sync>>;

  beforeAll(async () => {
    dir = await stateDir();
    loader = recordingLoader();
    first = await sync({ stateDir: dir }, { loadTable: loader.loadTable });
    second = await sync({ stateDir: dir, advanceDays: 1 }, { loadTable: loader.loadTable });
  });

  it('extracts every unit, loads each table once and commits; the history estimate matches the events', () => {
    expect(first.status).toBe('succeeded');
    expect(first.plan?.mode).toBe('incremental');
    expect(first.units).toHaveLength(33);
    expect(first.units.every((u) => u.status === 'committed' && u.recordsLoaded === u.recordsExtracted)).toBe(true);
    expect(first.tables).toHaveLength(9);
    expect(loader.calls.slice(0, 9).map((c) => c.table).sort()).toEqual(first.tables);
    for (const [table, entity, m3] of [
      ['main.cloudsuite.purchase_orders', 'purchase_orders', 'MPHEAD'],
      ['main.cloudsuite.gl_transactions', 'gl_transactions', 'FGLEDG'],
      ['main.cloudsuite.suppliers', 'suppliers', 'CIDMAS'],
    ] as const) {
      const truth = first.emulator.truth(m3);
      const current = loader.tables.get(table)!.current;
      expect(current.size, table).toBeGreaterThanOrEqual(truth.length);
      for (const row of truth) expect(current.has(keyOf(entity, row)), `${table} ${keyOf(entity, row)}`).toBe(true);
    }
    const published = first.metrics.points.filter((p) => p.name === 'SuccessfulCommits').map((p) => p.flow);
    expect(new Set(published).size).toBe(9);
    expect(first.awsHistoryEvents).toBe(estimateHistoryEvents({ units: 33, tables: 9 }));
  });

  it('runs incrementally the next day: windows start at the watermark minus the overlap, and the changes land', async () => {
    expect(second.status).toBe('succeeded');
    const orders = second.plan!.units.filter((u) => u.entity === 'purchase_orders');
    const [mark] = await watermarksIn(dir, [wm('purchase_orders', '100')]);
    expect(mark?.runId).toBe(second.plan!.runId);
    const firstMark = first.plan!.startedAt; // for the message only
    for (const unit of orders) {
      expect(unit.window.since, firstMark).toMatch(/^\d{8}$/);
      expect(unit.window.until).toBeNull();
    }
    const extracted = (r: LocalSyncResult, entity: string) => r.units.filter((u) => u.entity === entity).reduce((n, u) => n + (u.recordsExtracted ?? 0), 0);
    expect(extracted(second, 'purchase_orders')).toBeGreaterThan(0);
    expect(extracted(second, 'purchase_orders')).toBeLessThan(extracted(first, 'purchase_orders'));
    // Every current M3 version of an order is in the table after the second run (changes and inserts).
    const current = loader.tables.get('main.cloudsuite.purchase_orders')!.current;
    for (const row of second.emulator.truth('MPHEAD')) {
      const loaded = current.get(keyOf('purchase_orders', row));
      expect(loaded?.record.CHNO, keyOf('purchase_orders', row)).toBe(row.CHNO);
    }
  });

  it('never puts a record, a token or a secret into a state payload', async () => {
    const emulator = first.emulator;
    const dynamo = await startLocalDynamo(path.join(dir, 'dynamodb'));
    let accessToken: string | undefined;
    try {
      const cache = new DynamoTokenCache({
        documents: dynamo.documents,
        stateTableName: STATE_TABLE,
        encryptor: await LocalKeyEncryptor.fromKeyFile(path.join(dir, 'token-cache.key')),
      });
      accessToken = (await cache.read('ACME_PRD'))?.accessToken;
    } finally {
      await dynamo.close();
    }
    expect(accessToken).toBeTruthy();
    const { ci, cs, saak, sask } = emulator.ionapi as Record<string, string>;
    const canaries = [ci, cs, saak, sask, accessToken, 'dapi-local-emulator'].filter((c): c is string => Boolean(c));
    // Record content: names, texts and document numbers that exist only in the data.
    const content = new Set<string>();
    for (const row of emulator.truth('CIDMAS')) if (row.SUNM && row.SUNM.length >= 8) content.add(row.SUNM);
    for (const row of emulator.truth('FAPIBH')) if (row.SINO && row.SINO.length >= 6) content.add(row.SINO);
    for (const row of emulator.truth('FGLEDG')) if (row.VTXT && row.VTXT.length >= 10) content.add(row.VTXT);
    expect(content.size).toBeGreaterThan(50);

    for (const run of [first, second]) {
      expect(run.events.length).toBeGreaterThan(300);
      for (const event of run.events) {
        const text = JSON.stringify(event);
        for (const canary of canaries) expect(text.includes(canary), `a secret in ${event.type}`).toBe(false);
        for (const value of content) expect(text.includes(value), `record content "${value}" in ${event.type}`).toBe(false);
        expect(Buffer.byteLength(text)).toBeLessThan(32 * 1024);
      }
    }
  });
});

describe('a large backfill', () => {
  it('continues Extract across many invocations, loads each record once, leaves watermarks alone and fits the history', async () => {
    const dir = await stateDir();
    const config = structuredClone(defaultConfig) as FlowsConfigInput;
    // Small pages make many pages; the invocation budget below makes them span many invocations.
    const lines = defaultCatalog.get('purchase_order_lines')!;
    config.extraEntities = [{ ...lines, pageSize: 100 }];
    const loader = recordingLoader();
    const result = await sync(
      { stateDir: dir, config, flows: ['purchase-order-lines'], since: '2000-01-01' },
      { loadTable: loader.loadTable, miCallsPerExtract: 6 },
    );
    expect(result.status).toBe('succeeded');
    expect(result.plan).toMatchObject({ mode: 'backfill' });
    const extracts = result.invocations.filter((i) => i.state === 'Extract');
    const continuations = extracts.length - result.units.length;
    expect(continuations).toBeGreaterThanOrEqual(5);
    const truth = result.emulator.truth('MPLINE');
    const table = loader.tables.get('main.cloudsuite.purchase_order_lines')!;
    expect(table.current.size).toBe(truth.length);
    expect(table.delivered).toBe(truth.length);
    expectNoDuplicateVersions(loader);
    expect(await watermarksIn(dir, [wm('purchase_order_lines', '100')])).toEqual([undefined]);
    expect(result.awsHistoryEvents).toBe(estimateHistoryEvents({ units: 3, tables: 1, continuations }));
    // What the 25,000-event history still allows for a run of this shape (documented in infra/README.md).
    expect(continuationsAllowed({ units: 3, tables: 1 })).toBe(3559);
  });
});

describe('a failing unit', () => {
  it('is recorded while the others commit; a rerun replays exactly the failed units without duplicates; a second rerun does nothing', async () => {
    const dir = await stateDir();
    const loader = recordingLoader();
    const failing = (state: string, handler: TaskHandler): TaskHandler => {
      if (state === 'Extract') {
        return async (input) => {
          if ((input as { unitId: string }).unitId === 'supplier-invoices/200') {
            const error = new Error('supplier-invoices, company 200: key ["200","AAA","42"] was read twice in one extraction');
            error.name = 'DuplicateKeyError';
            throw error;
          }
          return handler(input);
        };
      }
      if (state === 'Load') {
        return async (input) => {
          if ((input as { table: string }).table === 'main.cloudsuite.suppliers') {
            const error = new Error('warehouse answered HTTP 403: check the warehouse token (secret=abc123)');
            error.name = 'WarehouseError';
            throw error;
          }
          return handler(input);
        };
      }
      return handler;
    };

    const failed = await sync({ stateDir: dir }, { loadTable: loader.loadTable, wrapTask: failing });
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe('UnitsFailed');
    expect(failed.cause).toMatch(/^4 of 33 units failed: /);
    expect(failed.cause).toContain('supplier-invoices/200 (DuplicateKeyError: supplier-invoices, company 200');
    expect(failed.cause).toContain('suppliers/100 (WarehouseError: warehouse answered HTTP 403');
    expect(failed.cause).not.toContain('abc123');
    expect(failed.cause).toContain(`{"rerunOf": "${failed.executionName}"}`);
    const byStatus = (r: LocalSyncResult) => Object.fromEntries(r.units.map((u) => [u.unitId, u.status]));
    expect(Object.entries(byStatus(failed)).filter(([, s]) => s !== 'committed').sort()).toEqual([
      ['supplier-invoices/200', 'failed'],
      ['suppliers/100', 'failed'],
      ['suppliers/200', 'failed'],
      ['suppliers/300', 'failed'],
    ]);
    expect(failed.run).toMatchObject({ status: 'failed', summary: { units: 33, byStatus: { committed: 29, failed: 4 } } });
    const recorded = failed.units.find((u) => u.unitId === 'suppliers/100')?.error;
    expect(recorded).toEqual({ name: 'WarehouseError', message: expect.stringMatching(/^warehouse answered HTTP 403: check the warehouse token \(secret=\[redacted\]/) });
    expect(JSON.stringify(failed.units)).not.toContain('abc123');
    const [before100, before200] = await watermarksIn(dir, [wm('supplier_invoices', '100'), wm('supplier_invoices', '200')]);
    expect(before100).toBeDefined();
    expect(before200).toBeUndefined();
    expect(failed.awsHistoryEvents).toBe(
      estimateHistoryEvents({ units: 33, failedUnits: 1, tables: 9, failedTables: 1, endsFailed: true }),
    );

    const calls = loader.calls.length;
    const rerun = await sync({ stateDir: dir, rerunOf: failed.executionName }, { loadTable: loader.loadTable });
    expect(rerun.status).toBe('succeeded');
    expect(rerun.plan).toMatchObject({ mode: 'rerun', rerunOf: failed.executionName, unitsRunKey: failed.executionName });
    expect(rerun.plan!.units.map((u) => u.unitId).sort()).toEqual(['supplier-invoices/200', 'suppliers/100', 'suppliers/200', 'suppliers/300']);
    expect(rerun.units.every((u) => u.status === 'committed')).toBe(true);
    expect(loader.calls.slice(calls).map((c) => [c.table, c.units.sort()])).toEqual(
      expect.arrayContaining([
        ['main.cloudsuite.supplier_invoices', ['supplier-invoices/200']],
        ['main.cloudsuite.suppliers', ['suppliers/100', 'suppliers/200', 'suppliers/300']],
      ]),
    );
    expect(loader.calls.length - calls).toBe(2);
    expectNoDuplicateVersions(loader);
    const invoices = loader.tables.get('main.cloudsuite.supplier_invoices')!;
    expect(invoices.current.size).toBe(rerun.emulator.truth('FAPIBH').length);
    const [after200] = await watermarksIn(dir, [wm('supplier_invoices', '200')]);
    expect(after200?.runId).toBe(rerun.plan!.runId);

    const again = await sync({ stateDir: dir, rerunOf: failed.executionName }, { loadTable: loader.loadTable });
    expect(again.status).toBe('succeeded');
    expect(again.plan?.units).toEqual([]);
    expect(again.invocations.filter((i) => i.state === 'Extract')).toEqual([]);
    expect(loader.calls.length - calls).toBe(2);
  });
});

describe('a step between the units and the tables that dies', () => {
  it('still closes the run as failed, naming the error, so {"rerunOf"} replays every unit once', async () => {
    const dir = await stateDir();
    const loader = recordingLoader();
    const input = { flows: ['suppliers', 'gl-accounts'] };
    // GroupByTable's process dies (Lambda.Unknown is not retried): nothing was loaded yet.
    const killGroup = (state: string, handler: TaskHandler): TaskHandler =>
      state === 'GroupByTable'
        ? async () => {
            throw Object.assign(new Error('Runtime exited with error: signal: killed'), { name: 'Lambda.Unknown' });
          }
        : handler;
    const stopped = await sync({ stateDir: dir, input }, { loadTable: loader.loadTable, wrapTask: killGroup });
    expect(stopped.status).toBe('failed');
    expect(stopped.error).toBe('UnitsFailed');
    // (The killed GroupByTable never reached its handler, so it is not among the invocations.)
    expect(stopped.invocations.map((i) => i.state).filter((s) => s !== 'Extract')).toEqual(['Plan', 'FinishStoppedRun']);
    expect(stopped.events.some((e) => e.type === 'StateEntered' && e.state.name === 'GroupByTable')).toBe(true);
    expect(stopped.cause).toMatch(/^The execution stopped early \(Lambda.Unknown: Runtime exited with error: signal: killed\)\. 12 of 12 units failed: /);
    expect(stopped.cause).toContain('suppliers/100 (UnitNotFinished: stopped in status extracted');
    expect(stopped.cause).not.toContain('The other units committed');
    expect(stopped.cause).toContain(`{"rerunOf": "${stopped.executionName}"}`);
    expect(stopped.run).toMatchObject({ status: 'failed', summary: { byStatus: { failed: 12 } } });
    expect(loader.calls).toEqual([]);

    const rerun = await sync({ stateDir: dir, rerunOf: stopped.executionName }, { loadTable: loader.loadTable });
    expect(rerun.status).toBe('succeeded');
    expect(rerun.plan!.units).toHaveLength(12);
    expect(rerun.units.every((u) => u.status === 'committed')).toBe(true);
    expectNoDuplicateVersions(loader);
    expect(loader.tables.get('main.cloudsuite.suppliers')!.current.size).toBe(rerun.emulator.truth('CIDMAS').length);
  });
});

describe('a repeated scheduled start', () => {
  it('ends without doing anything when the same schedule time already ran', async () => {
    const dir = await stateDir();
    const loader = recordingLoader();
    const input = { trigger: 'schedule', schedule: 'daily-0230-europe-stockholm', scheduledTime: '2026-11-20T01:30:00Z', flows: ['ap-ledger', 'gl-transactions'] };
    const first = await sync({ stateDir: dir, input }, { loadTable: loader.loadTable });
    expect(first.status).toBe('succeeded');
    expect(first.run).toMatchObject({ trigger: 'schedule', schedule: 'daily-0230-europe-stockholm', scheduledTime: '2026-11-20T01:30:00Z' });
    const again = await sync({ stateDir: dir, input }, { loadTable: loader.loadTable });
    expect(again.status).toBe('duplicate');
    expect(again.invocations.map((i) => i.state)).toEqual(['Plan']);
    expect(again.events.some((e) => e.type === 'StateEntered' && e.state.name === 'AlreadyStarted')).toBe(true);
  });
});


describe('a transient failure inside a step', () => {
  it('is retried by the state machine whatever its class, and recorded with its class when the retries run out', async () => {
    // WarehouseUnavailableError is not a name the state machine lists: the handler sends it as the one it does.
    const busy = () => new WarehouseUnavailableError('warehouse answered HTTP 503 to "MERGE INTO main.cloudsuite.suppliers…"', undefined);
    const input = { flows: ['suppliers'] };

    const loader = recordingLoader();
    let failures = 1;
    const progress: string[] = [];
    const recovered = await sync(
      { stateDir: await stateDir(), input, progress: (line) => progress.push(line) },
      {
        loadTable: async (request) => {
          if (failures-- > 0) throw busy();
          return loader.loadTable(request);
        },
      },
    );
    expect(recovered.status).toBe('succeeded');
    expect(recovered.invocations.filter((i) => i.state === 'Load').map((i) => i.failed)).toEqual([true, false]);
    expect(progress).toContainEqual(expect.stringMatching(/✗ Load main\.cloudsuite\.suppliers: TransientError: WarehouseUnavailableError: warehouse answered HTTP 503/));
    expect(recovered.units.every((u) => u.status === 'committed')).toBe(true);

    const stuck = await sync({ stateDir: await stateDir(), input }, { loadTable: async () => Promise.reject(busy()) });
    expect(stuck.status).toBe('failed');
    // The first attempt and the state machine's two retries, then the Catch.
    expect(stuck.invocations.filter((i) => i.state === 'Load')).toHaveLength(3);
    expect(stuck.units.find((u) => u.unitId === 'suppliers/100')?.error).toEqual({
      name: 'TransientError',
      message: 'WarehouseUnavailableError: warehouse answered HTTP 503 to "MERGE INTO main.cloudsuite.suppliers…"',
    });
  });
});
