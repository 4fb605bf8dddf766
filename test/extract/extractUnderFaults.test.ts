// Extraction while the gateway misbehaves: tokens expire or are revoked mid-run, 429 storms with and
// without Retry-After, 5xx, resets, malformed and partial-NOK pages. The result must still be every
// record exactly once; an MI error must stop the unit with its code and field.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import type { EntityDefinition } from '#shared/catalog/entityDefinition.ts';
import { extractEntityForCompany } from '#shared/extract/extractEntity.ts';
import { MiError } from '#shared/m3/miErrors.ts';
import { capturingLog, connectTo, stagedRecords, tempStore } from '../support/cloudSuite.ts';

const catalog = EntityCatalog.withDefaults();

let emulator: CloudSuiteEmulator;
beforeEach(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 17 });
});
afterEach(() => emulator.close());

async function extract(entity: EntityDefinition, company: string, log = capturingLog()) {
  const { mi } = connectTo(emulator, log);
  const store = await tempStore();
  const units = await extractEntityForCompany({
    tenant: emulator.tenant, entity, company, window: { since: null, until: null }, runId: 'r', runStartedAt: '2026-11-20T00:00:00.000Z',
    mi, store, prefix: 'u', log,
  });
  const records = (await Promise.all(units.map((u) => stagedRecords(store, u.unitPrefix)))).flat();
  return { records, log };
}

function keysOf(records: { _record_key: string }[]): string[] {
  const keys = records.map((r) => r._record_key);
  expect(new Set(keys).size).toBe(keys.length);
  return keys.sort();
}

function truthKeys(table: string, entity: EntityDefinition, company: string): string[] {
  return emulator.truth(table, company).map((r) => JSON.stringify(entity.key.map((k) => r[k]))).sort();
}

const lines = { ...catalog.get('purchase_order_lines'), pageSize: 150 };

describe('extraction under gateway faults', () => {
  it('survives access tokens expiring and being revoked while it pages', async () => {
    emulator.onBeforeMiCall = ({ callIndex }) => {
      if (callIndex === 3) emulator.expireAccessTokens();
      if (callIndex === 7) emulator.revokeAllTokens();
    };
    const { records } = await extract(lines, '100');
    expect(keysOf(records)).toEqual(truthKeys('MPLINE', lines, '100'));
    expect(emulator.counters.unauthorized).toBeGreaterThanOrEqual(2);
    expect(emulator.counters.refreshGrants).toBeGreaterThanOrEqual(1);
    // One grant at the start, one after the server-side revocation made the refresh token useless.
    expect(emulator.counters.passwordGrants).toBe(2);
  });

  it.each(['seconds', 'http-date', 'none'] as const)('rides out a 429 storm (Retry-After: %s) with every retry logged', async (retryAfter) => {
    // The emulator's bucket refills in real time, so waits are scaled less here than elsewhere:
    // a 1 s Retry-After becomes 50 ms, longer than the 25 ms the bucket needs for a token.
    process.env.CLOUDSUITE_SYNC_TIME_SCALE = '0.05';
    emulator.knobs.rateLimit = { requestsPerSecond: 40, burst: 2, retryAfter };
    const { records, log } = await extract(lines, '200').finally(() => {
      process.env.CLOUDSUITE_SYNC_TIME_SCALE = '0.001';
    });
    expect(keysOf(records)).toEqual(truthKeys('MPLINE', lines, '200'));
    expect(emulator.counters.rateLimited).toBeGreaterThan(0);
    expect(log.lines.filter((l) => l.level === 'warn').length).toBeGreaterThanOrEqual(emulator.counters.rateLimited);
  });

  it('retries 500, 502, 503, 504, resets, malformed bodies and partial-NOK pages without losing or repeating a record', async () => {
    const kinds = ['http500', 'http502', 'http503', 'http504', 'reset', 'malformed'] as const;
    kinds.forEach((kind, i) => emulator.injectFault({ kind, program: 'EXPORTMI', afterCalls: 1 + i * 2 }));
    const { records } = await extract({ ...lines, pageSize: 25 }, '300');
    expect(keysOf(records)).toEqual(truthKeys('MPLINE', lines, '300'));
    expect(emulator.counters.faultsInjected).toBe(kinds.length);
  });

  it('treats a page that carries records and an error as failed: the unit stops with code and field', async () => {
    emulator.injectFault({ kind: 'partial-nok', program: 'EXPORTMI', afterCalls: 2 });
    const failure = await extract(lines, '100').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MiError);
    expect((failure as MiError).message).toMatch(/EXPORTMI\/Select/);
    expect((failure as MiError).code).toBeTruthy();
  });
});
