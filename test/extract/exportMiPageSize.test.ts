// EXPORTMI pages the gateway cannot answer in time: the page halves on a 504 or an attempt timeout, down
// to the entity's minPageSize, grows back after pages answered in time, survives a continuation in the
// checkpoint, and at the floor fails with advice. Every record still arrives exactly once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import type { EntityDefinition } from '#shared/catalog/entityDefinition.ts';
import { SlowSourceError } from '#shared/extract/extractErrors.ts';
import { extractUnit, type ExtractOutcome } from '#shared/extract/extractUnit.ts';
import type { MiExecutor } from '#shared/extract/miExecutor.ts';
import { DeadlineExceededError } from '#shared/runtime/deadline.ts';
import { capturingLog, connectTo, stagedRecords, tempStore } from '../support/cloudSuite.ts';

const catalog = EntityCatalog.withDefaults();
const lines: EntityDefinition = { ...catalog.get('purchase_order_lines'), pageSize: 1000, minPageSize: 50 };

let emulator: CloudSuiteEmulator;
/** maxrecs of every EXPORTMI/Select that reached M3, in order. */
let asked: number[];
beforeEach(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 23 });
  asked = [];
  emulator.onBeforeMiCall = ({ program, maxrecs }) => {
    if (program === 'EXPORTMI') asked.push(Number(maxrecs));
  };
});
afterEach(() => emulator.close());

function truthKeys(company: string): string[] {
  return emulator.truth('MPLINE', company).map((r) => JSON.stringify(lines.key.map((k) => r[k]))).sort();
}

async function extract(options: { mi?: MiExecutor; attemptTimeoutMs?: number; checkpoint?: Extract<ExtractOutcome, { status: 'continue' }>['checkpoint']; store?: Awaited<ReturnType<typeof tempStore>> } = {}) {
  const log = capturingLog();
  const mi = options.mi ?? connectTo(emulator, log, options.attemptTimeoutMs ? { attemptTimeoutMs: options.attemptTimeoutMs } : {}).mi;
  const store = options.store ?? (await tempStore());
  const outcome = await extractUnit({
    tenant: emulator.tenant, entity: lines, company: '100', division: '', window: { since: null, until: null }, runId: 'r',
    runStartedAt: '2026-11-20T00:00:00.000Z', mi, store, unitPrefix: 'u', log, ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
  });
  return { outcome, store, log };
}

async function keysStaged(store: Awaited<ReturnType<typeof tempStore>>): Promise<string[]> {
  const records = await stagedRecords(store, 'u');
  const keys = records.map((r) => r._record_key);
  expect(new Set(keys).size).toBe(keys.length);
  return keys.sort();
}

describe('EXPORTMI page size under gateway timeouts', () => {
  it('halves the page on each 504 until it is answered, grows it back after pages in time, and reads every record once', async () => {
    emulator.knobs.slowExport = { aboveRows: 300, delayMs: 0, answer: 504 };
    const { outcome, store, log } = await extract();
    expect(outcome.status).toBe('complete');
    expect(await keysStaged(store)).toEqual(truthKeys('100'));
    // 1000 and 500 time out; 250 is answered; after three pages in time the page tries 500 again.
    expect(asked.slice(0, 3)).toEqual([1000, 500, 250]);
    const grown = asked.findIndex((n, i) => i > 2 && n === 500);
    expect(grown).toBeGreaterThan(2);
    expect(asked[grown + 1]).toBe(250);
    expect(log.warnings().some((w) => w.message.includes('EXPORTMI page too slow'))).toBe(true);
    expect(log.lines.some((l) => l.message.includes('growing the page'))).toBe(true);
  });

  it('treats an attempt that times out like a 504', async () => {
    emulator.knobs.slowExport = { aboveRows: 300, delayMs: 400, answer: 'late' };
    const { outcome, store } = await extract({ attemptTimeoutMs: 150 });
    expect(outcome.status).toBe('complete');
    expect(await keysStaged(store)).toEqual(truthKeys('100'));
    expect(asked.slice(0, 3)).toEqual([1000, 500, 250]);
  });

  it('keeps the smaller page across a continuation', async () => {
    emulator.knobs.slowExport = { aboveRows: 300, delayMs: 0, answer: 504 };
    const connection = connectTo(emulator);
    let calls = 0;
    const limited: MiExecutor = {
      execute: (request, options) => (++calls > 4 ? Promise.reject(new DeadlineExceededError('test budget', 1, 0)) : connection.mi.execute(request, options)),
    };
    const store = await tempStore();
    const first = await extract({ mi: limited, store });
    expect(first.outcome.status).toBe('continue');
    const checkpoint = (first.outcome as Extract<ExtractOutcome, { status: 'continue' }>).checkpoint;
    // 1000 and 500 timed out, two pages of 250 were read.
    expect(asked).toEqual([1000, 500, 250, 250]);
    expect(checkpoint.cursor.pageSize).toBe(250);
    asked = [];
    const second = await extract({ checkpoint, store });
    expect(second.outcome.status).toBe('complete');
    expect(asked[0]).toBe(250);
    expect(await keysStaged(store)).toEqual(truthKeys('100'));
  });

  it('fails with advice when even the smallest page times out', async () => {
    emulator.knobs.slowExport = { aboveRows: 10, delayMs: 0, answer: 504 };
    const error = await extract().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SlowSourceError);
    expect((error as SlowSourceError).transient).toBe(true);
    expect((error as Error).message).toMatch(/pages of 50 rows still time out at the gateway .* index on MPLINE starting with LMDT.* minPageSize/);
    // Halved to the floor, then the floor retried under the policy (4 retries) before giving up.
    expect(asked).toEqual([1000, 500, 250, 125, 62, 50, 50, 50, 50, 50]);
  });
});
