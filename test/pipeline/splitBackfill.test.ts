// A split full read through the real state machine and loader: the sub-units of one company (one per
// accounting year) load exactly the rows one unit loads, and the company's watermark moves only once
// every sub-unit has loaded.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLocalSync, type LocalSyncOptions, type TaskHandler } from '../../infra/local/runLocalSync.ts';
import { startWarehouseEmulator } from '#emulators/databricks/index.ts';
import { capturingLog } from '../support/cloudSuite.ts';

const quiet = { progress: () => undefined, log: capturingLog() } satisfies Partial<LocalSyncOptions>;
const key = { tenant: 'ACME_PRD', entity: 'gl_transactions', company: '100', division: '' };

async function currentRows(dbFile: string): Promise<Map<string, string>> {
  const warehouse = await startWarehouseEmulator({ dbFile });
  try {
    const rows = await warehouse.query('SELECT _record_key, _record, _deleted_at FROM main.cloudsuite.gl_transactions');
    return new Map(rows.map((r) => [String(r._record_key), `${String(r._record)}|${String(r._deleted_at)}`]));
  } finally {
    await warehouse.close();
  }
}

async function session(name: string) {
  const stateDir = await mkdtemp(path.join(tmpdir(), `split-${name}-`));
  return { sync: await startLocalSync({ ...quiet, stateDir }), dbFile: path.join(stateDir, 'databricks', 'warehouse.duckdb') };
}

describe('a split full read', () => {
  it('loads the same GL transactions as one unit and moves the watermark to the largest change of all its sub-units', async () => {
    const split = await session('parts');
    const whole = await session('whole');
    try {
      const parts = await split.sync.execute({ input: { flows: ['gl-transactions'], companies: ['100'], mode: 'full' } });
      expect(parts.status).toBe('succeeded');
      expect(parts.units.map((u) => [u.unitId, u.status])).toEqual([1, 2, 3, 4, 5, 6].map((n) => [`gl-transactions/100/~${n}`, 'committed']));
      // The first run of the other state folder reads company 100 whole: no watermark yet, an incremental read of everything.
      const one = await whole.sync.execute({ input: { flows: ['gl-transactions'], companies: ['100'] } });
      expect(one.status).toBe('succeeded');
      expect(one.units.map((u) => u.unitId)).toEqual(['gl-transactions/100']);
      const loadedRecords = (r: typeof one) => r.units.reduce((n, u) => n + (u.recordsLoaded ?? 0), 0);
      expect(loadedRecords(parts)).toBe(loadedRecords(one));
      expect(parts.units.filter((u) => (u.recordsLoaded ?? 0) > 0).length).toBeGreaterThan(1);

      const [splitRows, wholeRows] = [await currentRows(split.dbFile), await currentRows(whole.dbFile)];
      expect(splitRows.size).toBe(wholeRows.size);
      expect(splitRows).toEqual(wholeRows);
      const [splitMark, wholeMark] = [await split.sync.deps.watermarks.get(key), await whole.sync.deps.watermarks.get(key)];
      expect(splitMark).toBeDefined();
      expect({ date: splitMark!.changeDate, stamp: splitMark!.changeStamp }).toEqual({ date: wholeMark!.changeDate, stamp: wholeMark!.changeStamp });
    } finally {
      await split.sync.close();
      await whole.sync.close();
    }
  }, 240_000);

  it('leaves the watermark where it was when one sub-unit fails, while the others load', async () => {
    const { sync } = await session('failing');
    try {
      const failLast = (state: string, handler: TaskHandler): TaskHandler =>
        state !== 'Extract'
          ? handler
          : async (input) => {
              if ((input as { unitId: string }).unitId === 'gl-transactions/100/~6') throw Object.assign(new Error('MI call refused'), { name: 'MiError' });
              return handler(input);
            };
      const run = await sync.execute({ input: { flows: ['gl-transactions'], companies: ['100'], mode: 'full' } }, { wrapTask: failLast });
      expect(run.status).toBe('failed');
      expect(run.units.filter((u) => u.status === 'committed')).toHaveLength(5);
      expect(await sync.deps.watermarks.get(key)).toBeUndefined();
    } finally {
      await sync.close();
    }
  }, 180_000);
});
