// Reruns and races against the real loader: the synthesized state machine's Load handler loads into the
// warehouse emulator through the real driver, with several executions on one set of local services
// (startLocalSync). What an operator relies on when re-running old days while the schedule keeps going.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startLocalSync, type LocalSyncOptions, type TaskHandler } from '../../infra/local/runLocalSync.ts';
import type { WarehouseEmulator } from '#emulators/databricks/index.ts';
import type { M3Row } from '#emulators/cloudsuite/index.ts';
import { UnitRef } from '#shared/pipeline/unitRef.ts';
import { defaultCatalog } from '#shared/catalog/defaultCatalog.ts';
import { loadTable } from '#shared/load/loadTable.ts';
import type { TableLease } from '#shared/state/tableLease.ts';
import { capturingLog } from '../support/cloudSuite.ts';

const quiet = { progress: () => undefined, log: capturingLog() } satisfies Partial<LocalSyncOptions>;
const TENANT = 'ACME_PRD';

async function stateDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'local-sync-reruns-'));
}

/** yyyyMMdd → YYYY-MM-DD (execution inputs take ISO dates). */
const isoDate = (day: string) => `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;

/** Every row of a table with every column, in key order (DECIMAL and TIMESTAMP values come back as exact text). */
async function rowsOf(warehouse: WarehouseEmulator, table: string): Promise<Record<string, unknown>[]> {
  return warehouse.query(`SELECT * FROM ${table} ORDER BY _tenant, _record_key`);
}

/** (tenant, record key, record hash) combinations present more than once in a history table. */
async function duplicateVersions(warehouse: WarehouseEmulator, table: string): Promise<number> {
  const [row] = await warehouse.query(
    `SELECT count(*) AS n FROM (SELECT _tenant, _record_key, _record_hash FROM ${table}_history GROUP BY 1, 2, 3 HAVING count(*) > 1)`,
  );
  return Number(row!.n);
}

async function historyCount(warehouse: WarehouseEmulator, table: string): Promise<number> {
  const [row] = await warehouse.query(`SELECT count(*) AS n FROM ${table}_history`);
  return Number(row!.n);
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function waitUntil(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('a backfill of an old window after a newer day', () => {
  // Three executions of every flow with the real loader; one company keeps it to a few seconds (the other
  // companies' tables are the same code paths, covered by loadIntoWarehouse.test.ts).
  it('leaves every current table byte-for-byte unchanged, adds no history version and moves no watermark', { timeout: 120_000 }, async () => {
    const session = await startLocalSync({ ...quiet, stateDir: await stateDir() });
    try {
      const cloudSuite = session.cloudSuiteEmulator!;
      const warehouse = session.warehouseEmulator!;
      const day1 = cloudSuite.clock.today();
      const first = await session.execute({ companies: ['100'] });
      expect(first.status).toBe('succeeded');
      cloudSuite.clock.advanceDays(1);
      const second = await session.execute({ companies: ['100'] });
      expect(second.status).toBe('succeeded');
      expect(first.tables).toHaveLength(9);
      expect(second.tables).toEqual(first.tables);
      // Day 2 changed rows in the tables (so "unchanged" below is about newer data, not an untouched table).
      const [changed] = await warehouse.query(`SELECT count(*) AS n FROM main.cloudsuite.purchase_orders WHERE _run_id = '${second.plan!.runId}'`);
      expect(Number(changed!.n)).toBeGreaterThan(0);

      const before = new Map<string, { current: Record<string, unknown>[]; history: number }>();
      for (const table of second.tables) before.set(table, { current: await rowsOf(warehouse, table), history: await historyCount(warehouse, table) });
      const marks = await session.deps.watermarks.list(TENANT);
      expect(marks.length).toBe(second.units.length);

      // An operator re-runs day 1's window: everything changed up to and including day 1, for every flow.
      const backfill = await session.execute({ companies: ['100'], mode: 'backfill', since: '2000-01-01', until: isoDate(day1) });
      expect(backfill.status).toBe('succeeded');
      expect(backfill.plan).toMatchObject({ mode: 'backfill' });
      expect(backfill.tables).toEqual(second.tables);
      expect(backfill.units.every((u) => u.status === 'committed')).toBe(true);
      // The ledgers and invoice batches backfill in sub-units (by year, by division), some of them empty: each scope read records.
      const perScope = new Map<string, number>();
      for (const u of backfill.units) perScope.set(UnitRef.parse(u.unitId).scopeId, (perScope.get(UnitRef.parse(u.unitId).scopeId) ?? 0) + (u.recordsExtracted ?? 0));
      expect([...perScope.values()].every((n) => n > 0)).toBe(true);
      expect(backfill.units.some((u) => UnitRef.parse(u.unitId).part !== undefined)).toBe(true);
      for (const unit of backfill.plan!.units) {
        if (defaultCatalog.get(unit.entity)!.strategy === 'incremental') expect(unit.window, unit.unitId).toEqual({ since: '20000101', until: day1 });
        expect(unit.advancesWatermark, unit.unitId).toBe(false);
      }

      for (const table of second.tables) {
        // Every column of every row, _loaded_at, _run_id and _change_stamp included: the reload wrote nothing.
        expect(await rowsOf(warehouse, table), table).toEqual(before.get(table)!.current);
        expect(await historyCount(warehouse, table), `${table}_history`).toBe(before.get(table)!.history);
        expect(await duplicateVersions(warehouse, table), `${table}_history`).toBe(0);
      }
      expect(await session.deps.watermarks.list(TENANT)).toEqual(marks);
    } finally {
      await session.close();
    }
  });
});

describe('a schedule and a backfill racing for one table', () => {
  it('load one after the other under the table lease; the newer versions stay current and history holds each version once', async () => {
    // The lease wait is 10 nominal minutes, scaled by the time scale: the tests' 0.001 would give up after
    // 0.6 s, less than a load of this table takes here. At 0.05 the loser waits up to 30 s.
    vi.stubEnv('CLOUDSUITE_SYNC_TIME_SCALE', '0.05');
    const table = 'main.cloudsuite.purchase_orders';
    const schedule = { name: 'race-schedule', input: { trigger: 'schedule', schedule: 'daily-0200-europe-stockholm', scheduledTime: '2026-11-20T01:00:00Z', flows: ['purchase-orders'] } };
    const backfill = { name: 'race-backfill', input: { flows: ['purchase-orders'], since: '2000-01-01' } };

    // Who tried to take the lease on the table, when, and with what outcome.
    const attempts: { holder: string; acquired: boolean; at: number }[] = [];
    const releases: { holder: string; at: number }[] = [];
    const recordingLeases = (leases: TableLease): TableLease => ({
      async acquire(tableName, holder, ttlMs) {
        const lease = await leases.acquire(tableName, holder, ttlMs);
        if (tableName === table) attempts.push({ holder, acquired: lease !== undefined, at: performance.now() });
        return lease;
      },
      renew: (lease, ttlMs) => leases.renew(lease, ttlMs),
      async release(lease) {
        const released = await leases.release(lease);
        if (lease.tableName === table) releases.push({ holder: lease.holder, at: performance.now() });
        return released;
      },
      current: (tableName) => leases.current(tableName),
    });

    // The script of the race: the backfill reads CloudSuite first; orders then change; the schedule reads
    // the newer versions and takes the lease first; the backfill's Load starts while the schedule loads,
    // and the schedule's load goes on only once the backfill has found the lease taken. So the backfill
    // loads older versions into a table that already has the newer ones.
    const backfillExtracted = deferred();
    const scheduleLoading = deferred();
    let backfillExtracts = 0;
    let changedKeys: Set<string> | undefined;
    const keyOf = (row: M3Row) => JSON.stringify([row.CONO, row.PUNO]);
    const loader: typeof loadTable = async (request) => {
      if (request.runId.startsWith('sched-')) {
        scheduleLoading.resolve();
        await waitUntil('the backfill to find the lease taken', () => attempts.some((a) => a.holder === backfill.name && !a.acquired));
      }
      return loadTable(request);
    };
    const scheduleTasks = (state: string, handler: TaskHandler): TaskHandler =>
      state !== 'Extract'
        ? handler
        : async (input) => {
            await backfillExtracted.promise;
            if (!changedKeys) {
              const emulator = session.cloudSuiteEmulator!;
              const old = new Map(emulator.truth('MPHEAD').map((r) => [keyOf(r), r.CHNO]));
              emulator.mutate({ table: 'MPHEAD', updates: 12 });
              changedKeys = new Set(emulator.truth('MPHEAD').filter((r) => old.get(keyOf(r)) !== r.CHNO).map(keyOf));
            }
            return handler(input);
          };
    const backfillTasks = (state: string, handler: TaskHandler): TaskHandler => {
      if (state === 'Extract') {
        return async (input) => {
          const output = (await handler(input)) as { status: string };
          if (output.status === 'complete' && ++backfillExtracts === 3) backfillExtracted.resolve();
          return output;
        };
      }
      if (state === 'Load') {
        return async (input) => {
          await scheduleLoading.promise;
          return handler(input);
        };
      }
      return handler;
    };

    const session = await startLocalSync({ ...quiet, stateDir: await stateDir() }, { loadTable: loader, wrapLeases: recordingLeases });
    try {
      const warehouse = session.warehouseEmulator!;
      const [scheduled, backfilled] = await Promise.all([
        session.execute({ executionName: schedule.name, input: schedule.input }, { wrapTask: scheduleTasks }),
        session.execute({ executionName: backfill.name, input: backfill.input }, { wrapTask: backfillTasks }),
      ]);
      expect([scheduled.status, scheduled.cause]).toEqual(['succeeded', undefined]);
      expect([backfilled.status, backfilled.cause]).toEqual(['succeeded', undefined]);
      expect(scheduled.run).toMatchObject({ trigger: 'schedule', mode: 'incremental' });
      expect(backfilled.plan).toMatchObject({ mode: 'backfill' });
      expect([scheduled.tables, backfilled.tables]).toEqual([[table], [table]]);
      expect(changedKeys!.size).toBeGreaterThan(0);

      // The lease: the schedule took it at once; the backfill was refused while the schedule held it and
      // got it only after the schedule released it.
      const tries = (holder: string) => attempts.filter((a) => a.holder === holder);
      expect(tries(schedule.name).map((a) => a.acquired)).toEqual([true]);
      const backfillTries = tries(backfill.name);
      expect(backfillTries.length).toBeGreaterThanOrEqual(2);
      expect(backfillTries.slice(0, -1).every((a) => !a.acquired)).toBe(true);
      expect(backfillTries.at(-1)!.acquired).toBe(true);
      const scheduleReleased = releases.find((r) => r.holder === schedule.name)!;
      expect(backfillTries[0]!.at).toBeLessThan(scheduleReleased.at);
      expect(backfillTries.at(-1)!.at).toBeGreaterThanOrEqual(scheduleReleased.at);

      // The warehouse saw two loads of the table, one session each, whose statements do not interleave. (Each
      // execution's RefreshMarts, in a session of its own, then wrote the control totals and dropped its working table.)
      const all = warehouse.statements.filter((s) => s.sql.includes('`purchase_orders'));
      const loadSessions = new Set(all.filter((s) => /^CREATE OR REPLACE TABLE \S+\.`purchase_orders__ld/.test(s.sql)).map((s) => s.sessionId));
      const touching = all.filter((s) => loadSessions.has(s.sessionId));
      const sessions = [...new Set(touching.map((s) => s.sessionId))];
      expect(sessions).toHaveLength(2);
      const blocks = touching.map((s) => s.sessionId);
      const switches = blocks.filter((id, i) => i > 0 && id !== blocks[i - 1]).length;
      expect(switches, 'statements of the two loads interleave').toBe(1);
      const [firstLoad, secondLoad] = sessions.map((id) => touching.filter((s) => s.sessionId === id));
      expect(firstLoad!.at(-1)!.startedAt + firstLoad!.at(-1)!.ms).toBeLessThanOrEqual(secondLoad![0]!.startedAt);
      // Each load staged into a working table of its own (named after its execution) and merged; RefreshMarts dropped it.
      const workingTables = [firstLoad!, secondLoad!].map((load) => {
        const kinds = load.map((s) => /^(CREATE TABLE|INSERT INTO|MERGE INTO|DROP TABLE)/.exec(s.sql)?.[1]).filter(Boolean);
        expect(kinds.slice(-2)).toEqual(['MERGE INTO', 'MERGE INTO']);
        const name = /^CREATE OR REPLACE TABLE \S+\.`(purchase_orders__ld\w+)`/.exec(load.find((s) => /`purchase_orders__ld/.test(s.sql) && s.sql.startsWith('CREATE'))!.sql)![1]!;
        const drop = all.find((s) => s.sql.startsWith('DROP TABLE') && s.sql.includes(`\`${name}\``));
        expect(drop, `${name} dropped`).toBeDefined();
        expect(loadSessions.has(drop!.sessionId)).toBe(false);
        return name;
      });
      expect(new Set(workingTables).size).toBe(2);
      // The first load was the schedule's (newer versions), the second the backfill's (older ones).
      const runIdOf = (load: typeof touching) => (load.find((s) => s.sql.startsWith('INSERT INTO'))!.parameters as Record<string, string>).rows!.match(/"_run_id":"([^"]+)"/)?.[1];
      expect([runIdOf(firstLoad!), runIdOf(secondLoad!)]).toEqual([scheduled.plan!.runId, backfilled.plan!.runId]);

      // The current table is CloudSuite's truth: the backfill's older versions did not overwrite the newer ones.
      const definition = defaultCatalog.get('purchase_orders')!;
      const truth = session.cloudSuiteEmulator!.truth('MPHEAD');
      const current = new Map((await rowsOf(warehouse, table)).map((r) => [String(r._record_key), r]));
      expect(current.size).toBe(truth.length);
      for (const row of truth) {
        const loaded = current.get(keyOf(row));
        expect(loaded?._deleted_at, keyOf(row)).toBeNull();
        expect(JSON.parse(String(loaded!._record)), keyOf(row)).toEqual(Object.fromEntries(definition.fields.map((f) => [f.name, row[f.name] ?? ''])));
        if (changedKeys!.has(keyOf(row))) expect(loaded!._run_id, keyOf(row)).toBe(scheduled.plan!.runId);
      }
      // History: every version once — the changed orders twice (the backfill's old and the schedule's new version).
      expect(await duplicateVersions(warehouse, table)).toBe(0);
      const versions = await warehouse.query(`SELECT _record_key AS k, count(*) AS n FROM ${table}_history GROUP BY 1 HAVING count(*) > 1`);
      expect(new Set(versions.map((v) => String(v.k)))).toEqual(changedKeys);
      expect(versions.every((v) => Number(v.n) === 2)).toBe(true);
      expect(await historyCount(warehouse, table)).toBe(truth.length + changedKeys!.size);

      // Only the schedule moved watermarks.
      const marks = (await session.deps.watermarks.list(TENANT)).filter((m) => m.entity === 'purchase_orders');
      expect(marks.map((m) => [m.company, m.runId]).sort()).toEqual(['100', '200', '300'].map((c) => [c, scheduled.plan!.runId]));
    } finally {
      await session.close();
    }
  });
});
