// EXPORTMI honours division conditions only on a blank-division session, and whether an empty query
// parameter `divi=` gives one is unverified. The product sends the session as matrix parameters, as
// Infor's own SDK does, so a division-scoped EXPORTMI entity reads exactly its division in every setting
// of the emulator: `divi=` honoured or ignored, the service user's own division blank or not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_KNOBS, startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { entityDefinitionSchema } from '#shared/catalog/entityDefinition.ts';
import { ExportResultError } from '#shared/extract/extractErrors.ts';
import { extractUnit } from '#shared/extract/extractUnit.ts';
import type { MiExecutor } from '#shared/extract/miExecutor.ts';
import { connectTo, stagedRecords, tempStore } from '../support/cloudSuite.ts';

/** The chart of accounts through EXPORTMI, one unit per division: it relies on the division condition. */
const accounts = entityDefinitionSchema.parse({
  id: 'accounts_by_division', source: { kind: 'exportmi', table: 'FCHACC', prefix: 'EA' }, key: ['CONO', 'DIVI', 'AITP', 'AITM'],
  fields: [
    { name: 'CONO', type: 'N', length: 3 }, { name: 'DIVI', type: 'A', length: 3 }, { name: 'AITP', type: 'N', length: 1 },
    { name: 'AITM', type: 'A', length: 10 }, { name: 'TX40', type: 'A', length: 40 },
  ],
  strategy: 'snapshot', scope: 'division', pageSize: 20,
});

let emulator: CloudSuiteEmulator;
beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 61 });
});
afterAll(() => emulator.close());

async function extract(division: string, mi: MiExecutor = connectTo(emulator).mi) {
  const store = await tempStore();
  await extractUnit({
    tenant: emulator.tenant, entity: accounts, company: '100', division, window: { since: null, until: null }, runId: 'r',
    runStartedAt: '2026-11-20T00:00:00.000Z', mi, store, unitPrefix: 'u',
  });
  return (await stagedRecords(store, 'u')).map((r) => r.record);
}

const settings = [
  { emptyDiviQueryParameter: 'honoured', userDefaultDivision: 'blank' },
  { emptyDiviQueryParameter: 'honoured', userDefaultDivision: 'first' },
  { emptyDiviQueryParameter: 'ignored', userDefaultDivision: 'blank' },
  { emptyDiviQueryParameter: 'ignored', userDefaultDivision: 'first' },
] as const;

describe('the blank session division', () => {
  it.each(settings)('reads exactly one division when divi= in the query is $emptyDiviQueryParameter and the user\'s division is $userDefaultDivision', async (knobs) => {
    emulator.knobs = { ...DEFAULT_KNOBS, ...knobs };
    const records = await extract('A02');
    const truth = emulator.truth('FCHACC', '100').filter((r) => r.DIVI === 'A02');
    expect(records.length).toBe(truth.length);
    expect(records.every((r) => r.DIVI === 'A02')).toBe(true);
  });

  it('would read the wrong rows, and says so, if the blank division went as an ignored query parameter', async () => {
    emulator.knobs = { ...DEFAULT_KNOBS, emptyDiviQueryParameter: 'ignored', userDefaultDivision: 'first' };
    const { mi } = connectTo(emulator);
    const queryForm: MiExecutor = { execute: (request, options) => mi.execute({ ...request, sessionForm: 'query' }, options) };
    await expect(extract('A02', queryForm)).rejects.toThrow(ExportResultError);
    await expect(extract('A02', queryForm)).rejects.toThrow(/the server ignored a condition.*session division must be blank/);
  });
});
