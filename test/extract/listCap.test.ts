// M3 stops several list transactions at 10,000 records whatever maxrecs says. A list without a start key
// that comes back with exactly that many records may be cut short: it fails loudly with the fix and stages
// nothing; one record fewer is read completely.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import { ReadCapReachedError } from '#shared/extract/extractErrors.ts';
import { extractUnit } from '#shared/extract/extractUnit.ts';
import { connectTo, stagedRecords, tempStore } from '../support/cloudSuite.ts';

const agreements = EntityCatalog.withDefaults().get('purchase_agreements');

let emulator: CloudSuiteEmulator;
beforeAll(async () => {
  // The emulator caps lists at 10,000 by default (knob listCap), as M3 does.
  emulator = await startCloudSuiteEmulator({
    seed: 31,
    volume: { companies: ['100', '200'], agreements: 10_040, suppliers: 60, purchaseOrders: 1, invoices: 1, glTransactions: 1, glAccountsPerDivision: 1, bigOrderLines: 1 },
  });
}, 120_000);
afterAll(() => emulator.close());

async function extract(company: string, store?: Awaited<ReturnType<typeof tempStore>>) {
  store ??= await tempStore();
  const outcome = await extractUnit({
    tenant: emulator.tenant, entity: agreements, company, division: '', window: { since: null, until: null }, runId: 'r',
    runStartedAt: '2026-11-20T00:00:00.000Z', mi: connectTo(emulator).mi, store, unitPrefix: 'u',
  });
  return { outcome, store };
}

describe('the 10,000-record list cap', () => {
  it('is the default singleCallCap of an entity', () => {
    expect(agreements.singleCallCap).toBe(10_000);
  });

  it('fails a list that returns exactly the cap, naming the fix, and stages nothing', async () => {
    expect(emulator.truth('MPAGRH', '100').length).toBeGreaterThan(10_000);
    const store = await tempStore();
    const error = await extract('100', store).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ReadCapReachedError);
    expect((error as Error).message).toMatch(
      /PPS100MI\/LstAgrHead returned 10000 records for company 100 in one call, the entity's singleCallCap \(10000\): the list may have been cut short .* through a transaction with a start key, or through EXPORTMI on its table/,
    );
    expect(await store.list('u')).toEqual([]);
  });

  it('reads a list below the cap completely', async () => {
    // Company 200 keeps fewer agreements than the cap: remove enough of them to be sure.
    const rows = emulator.truth('MPAGRH', '200');
    if (rows.length >= 10_000) emulator.mutate({ table: 'MPAGRH', company: '200', deletes: rows.length - 9_999 });
    const { outcome, store } = await extract('200');
    expect(outcome.status).toBe('complete');
    expect((await stagedRecords(store, 'u')).length).toBe(emulator.truth('MPAGRH', '200').length);
  });
});
