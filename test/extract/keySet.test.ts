// The key sweep's read: EXPORTMI on the entity's key columns only, through the same key-cursor pager as a full
// read, staged as a complete key set (keysOnly). Every key of the scope exactly once, no other field, far fewer
// calls than a full read of the same scope, whatever the tenant does with page sizes (caps, slow pages).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import { extractUnit } from '#shared/extract/extractUnit.ts';
import { KEY_SET_MAX_PAGE_SIZE, keySetEntity } from '#shared/extract/keySet.ts';
import { capturingLog, connectTo, stagedRecords, tempStore } from '../support/cloudSuite.ts';

const catalog = EntityCatalog.withDefaults();
const lines = catalog.get('purchase_order_lines');

let emulator: CloudSuiteEmulator;
/** maxrecs and QERY of every EXPORTMI/Select that reached M3, in order. */
let asked: { maxrecs: number; query: string }[];
beforeEach(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 31 });
  asked = [];
  emulator.onBeforeMiCall = ({ program, maxrecs, query }) => {
    if (program === 'EXPORTMI') asked.push({ maxrecs: Number(maxrecs), query: String(query.QERY ?? '') });
  };
});
afterEach(() => emulator.close());

async function read(keysOnly: boolean) {
  const store = await tempStore();
  const before = asked.length;
  const outcome = await extractUnit({
    tenant: emulator.tenant, entity: lines, company: '100', division: '', window: { since: null, until: null }, complete: true, keysOnly,
    runId: 'r', runStartedAt: '2026-11-20T00:00:00.000Z', mi: connectTo(emulator, capturingLog()).mi, store, unitPrefix: 'u',
  });
  if (outcome.status !== 'complete') throw new Error('expected a complete read');
  return { manifest: outcome.manifest, records: await stagedRecords(store, 'u'), calls: asked.length - before };
}

const truthKeys = () => emulator.truth('MPLINE', '100').map((r) => JSON.stringify(lines.key.map((k) => r[k]))).sort();

describe('the key sweep read', () => {
  it('reads only the key columns in one narrow group, larger pages of them, capped at 10,000', () => {
    const keys = keySetEntity(lines);
    expect(keys.fields.map((f) => f.name)).toEqual(['CONO', 'PUNO', 'PNLI', 'PNLS']);
    expect(keys.changeFields).toEqual({});
    expect(keys.pageSize).toBeGreaterThan(lines.pageSize);
    expect(keys.pageSize).toBeLessThanOrEqual(KEY_SET_MAX_PAGE_SIZE);
    expect(keySetEntity({ ...lines, pageSize: 5000 }).pageSize).toBe(KEY_SET_MAX_PAGE_SIZE);
    expect(keys.minPageSize).toBe(lines.minPageSize);
  });

  it('stages every key of the scope once as a complete key set, with no other field, in far fewer calls than a full read', async () => {
    const full = await read(false);
    const sweep = await read(true);
    expect(sweep.records.map((r) => r._record_key).sort()).toEqual(truthKeys());
    for (const r of sweep.records) expect(Object.keys(r.record).sort()).toEqual(['CONO', 'PNLI', 'PNLS', 'PUNO']);
    expect(sweep.manifest).toMatchObject({ keysOnly: true, complete: true, window: { since: null, until: null }, maxChangeDate: null, totalRecords: truthKeys().length });
    expect(full.manifest.keysOnly).toBeUndefined();
    // The sweep's queries name the key columns and nothing else (no amounts, no change stamps).
    expect(asked.at(-1)!.query).toMatch(/^IBCONO, IBPUNO, IBPNLI, IBPNLS from MPLINE( where .*)?$/);
    expect(sweep.calls).toBeLessThan(full.calls);
    expect(sweep.calls).toBeLessThanOrEqual(Math.ceil(full.calls / 2));
  });

  it.each([
    ['a tenant that answers at most 500 rows per call', (e: CloudSuiteEmulator) => void (e.knobs.maxrecsCap = 500)],
    ['pages of more than 400 rows timing out at the gateway (504)', (e: CloudSuiteEmulator) => void (e.knobs.slowExport = { aboveRows: 400, delayMs: 0, answer: 504 })],
  ])('still stages every key exactly once with %s', async (_what, knob) => {
    knob(emulator);
    const sweep = await read(true);
    const keys = sweep.records.map((r) => r._record_key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(truthKeys());
    // Asked for 10,000 first; under the slow knob the page halved below 400 (the same rules as any EXPORTMI page).
    expect(asked[0]!.maxrecs).toBe(KEY_SET_MAX_PAGE_SIZE);
    if (emulator.knobs.slowExport) expect(Math.min(...asked.map((a) => a.maxrecs))).toBeLessThanOrEqual(400);
  });
});
