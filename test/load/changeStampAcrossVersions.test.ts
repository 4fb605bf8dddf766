// The change stamp end to end, extracted from the CloudSuite emulator and loaded into the warehouse emulator:
// a record whose CHNO wraps after 999 on the day of its previous version still replaces it, and so does a
// change to a record whose current row still carries a stamp in the layout of earlier versions
// (LMDT + CHNO(5) + LMTS(18)): the current table ends equal to M3 either way.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import { extractUnit } from '#shared/extract/extractUnit.ts';
import { loadTable } from '#shared/load/loadTable.ts';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import { connectTo } from '../support/cloudSuite.ts';
import { warehouseWithSession } from '../support/warehouse.ts';

const invoices = EntityCatalog.withDefaults().get('supplier_invoices');
const TABLE = { catalog: 'main', schema: 'cloudsuite', name: 'supplier_invoices' };

let emulator: CloudSuiteEmulator;
let wh: Awaited<ReturnType<typeof warehouseWithSession>>;
let store: LocalFolderBlobStore;
let runs = 0;

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 81, volume: { companies: ['100'] } });
  wh = await warehouseWithSession();
  store = new LocalFolderBlobStore(await mkdtemp(path.join(tmpdir(), 'stamps-')));
});
afterAll(async () => {
  await wh.close();
  await emulator.close();
});

/** One run: every invoice changed since `since`, extracted and loaded. */
async function sync(since: string | null): Promise<void> {
  const runId = `run-${++runs}`;
  const outcome = await extractUnit({
    tenant: emulator.tenant, entity: invoices, company: '100', division: '', window: { since, until: null }, runId,
    runStartedAt: new Date().toISOString(), mi: connectTo(emulator).mi, store, unitPrefix: runId,
  });
  expect(outcome.status).toBe('complete');
  await loadTable({ tenant: emulator.tenant, entity: invoices, table: TABLE, units: [{ unitId: runId, unitPrefix: runId }], runId, store, warehouse: wh.session });
}

async function currentEqualsM3(): Promise<void> {
  const rows = await wh.warehouse.query('SELECT _record_key, _record FROM main.cloudsuite.supplier_invoices');
  const current = new Map(rows.map((r) => [String(r._record_key), JSON.parse(String(r._record)) as Record<string, string>]));
  const truth = emulator.truth('FAPIBH', '100');
  expect(current.size).toBe(truth.length);
  for (const row of truth) {
    const key = JSON.stringify(invoices.key.map((k) => row[k]));
    expect(current.get(key), key).toEqual(Object.fromEntries(invoices.fields.map((f) => [f.name, row[f.name]])));
  }
}

describe('change stamps across versions of a record', () => {
  it('applies a change whose CHNO wrapped past 999 on the same day as the version before it', async () => {
    await sync(null);
    emulator.knobs.chnoStep = 600;
    emulator.mutate({ table: 'FAPIBH', company: '100', updates: 40 });
    await sync(emulator.clock.today());
    const loaded = new Map(emulator.truth('FAPIBH', '100').map((r) => [r.INBN, r]));
    emulator.mutate({ table: 'FAPIBH', company: '100', updates: 40 });
    // Records changed again today whose CHNO went past 999 since the version just loaded.
    const wrapped = emulator.truth('FAPIBH', '100').filter((r) => {
      const previous = loaded.get(r.INBN)!;
      return previous.LMDT === r.LMDT && previous.LMTS! < r.LMTS! && Number(r.CHNO) < Number(previous.CHNO);
    });
    expect(wrapped.length, 'some records wrapped').toBeGreaterThan(0);
    await sync(emulator.clock.today());
    await currentEqualsM3();
  });

  it('applies a change to a record whose current row carries a stamp in the earlier layout', async () => {
    emulator.knobs.chnoStep = 1;
    // The rows as a version before this layout wrote them: LMDT + CHNO (5) + LMTS (18).
    await wh.session.execute(
      "UPDATE main.cloudsuite.supplier_invoices SET _change_stamp = concat(substr(_change_stamp, 1, 8), lpad(CAST(chno AS STRING), 5, '0'), substr(_change_stamp, 10, 18))",
    );
    const old = await wh.warehouse.query('SELECT _change_stamp FROM main.cloudsuite.supplier_invoices LIMIT 1');
    expect(String(old[0]!._change_stamp)).toMatch(/^\d{8}00\d{21}$/);
    emulator.mutate({ table: 'FAPIBH', company: '100', updates: 15 });
    await sync(emulator.clock.today());
    await currentEqualsM3();
  });
});
