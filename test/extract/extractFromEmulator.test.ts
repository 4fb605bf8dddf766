// Extraction against the CloudSuite emulator: every record exactly once, whatever the server does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator, type M3Row } from '#emulators/cloudsuite/index.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import type { EntityDefinition } from '#shared/catalog/entityDefinition.ts';
import { extractEntityForCompany } from '#shared/extract/extractEntity.ts';
import { extractUnit, type ExtractCheckpoint } from '#shared/extract/extractUnit.ts';
import { Deadline } from '#shared/runtime/deadline.ts';
import { joinKey } from '#shared/staging/blobStore.ts';
import { connectTo, stagedRecords, tempStore } from '../support/cloudSuite.ts';
import { M3_SOURCE } from '../support/m3Sources.ts';

const catalog = EntityCatalog.withDefaults();
const COMPANIES = ['100', '200', '300'];
const RUN_STARTED = '2026-11-20T02:00:00.000Z';

/** The emulator's own rows for the entity, projected on the entity's fields, keyed by record key. */
function truthFor(emulator: CloudSuiteEmulator, entity: EntityDefinition, company: string, where?: (r: M3Row) => boolean): Map<string, Record<string, string>> {
  const { table, filter } = M3_SOURCE[entity.id] ?? { table: '' };
  const rows = emulator.truth(table, company).filter((r) => (filter ? filter(r) : true) && (where ? where(r) : true));
  return new Map(
    rows.map((r) => [JSON.stringify(entity.key.map((k) => r[k] ?? '')), Object.fromEntries(entity.fields.map((f) => [f.name, r[f.name] ?? '']))]),
  );
}

async function extractAll(emulator: CloudSuiteEmulator, entity: EntityDefinition, company: string, window = { since: null as string | null, until: null as string | null }) {
  const { mi } = connectTo(emulator);
  const store = await tempStore();
  const units = await extractEntityForCompany({
    tenant: emulator.tenant, entity, company, window, runId: 'run-1', runStartedAt: RUN_STARTED, mi, store, prefix: company,
  });
  const records = (await Promise.all(units.map((u) => stagedRecords(store, u.unitPrefix)))).flat();
  return { units, records, store };
}

function byKey(records: { _record_key: string; record: Record<string, string> }[]) {
  const map = new Map<string, Record<string, string>>();
  for (const r of records) {
    expect(map.has(r._record_key), `duplicate ${r._record_key}`).toBe(false);
    map.set(r._record_key, r.record);
  }
  return map;
}

describe('extraction of every default entity for three companies', () => {
  let emulator: CloudSuiteEmulator;
  beforeAll(async () => {
    emulator = await startCloudSuiteEmulator({ seed: 7 });
  });
  afterAll(() => emulator.close());

  it('yields every source record exactly once with one password grant per token lifetime', async () => {
    const { mi } = connectTo(emulator);
    emulator.resetCounters();
    const store = await tempStore();
    let total = 0;
    for (const entity of catalog.ids().map((id) => catalog.get(id))) {
      for (const company of COMPANIES) {
        const prefix = joinKey(entity.id, company);
        const units = await extractEntityForCompany({
          tenant: emulator.tenant, entity, company, window: { since: null, until: null }, runId: 'run-all', runStartedAt: RUN_STARTED, mi, store, prefix,
        });
        const records = (await Promise.all(units.map((u) => stagedRecords(store, u.unitPrefix)))).flat();
        const truth = truthFor(emulator, entity, company);
        expect(truth.size, `${entity.id} ${company} has data`).toBeGreaterThan(0);
        expect(byKey(records), `${entity.id} company ${company}`).toEqual(truth);
        for (const r of records) {
          expect(r._tenant).toBe(emulator.tenant);
          expect(r._company).toBe(company);
          expect(r._entity).toBe(entity.id);
        }
        total += records.length;
      }
    }
    expect(total).toBeGreaterThan(1000);
    expect(emulator.counters.passwordGrants).toBe(1);
  });
});

describe('paging', () => {
  let emulator: CloudSuiteEmulator;
  beforeAll(async () => {
    emulator = await startCloudSuiteEmulator({ seed: 3 });
  });
  afterAll(() => emulator.close());

  it('reads the 1,200-line purchase order across many composite-key pages', async () => {
    const lines = { ...catalog.get('purchase_order_lines'), pageSize: 100 };
    emulator.resetCounters();
    const { records } = await extractAll(emulator, lines, '100');
    const perOrder = new Map<string, number>();
    for (const r of records) perOrder.set(r.record.PUNO!, (perOrder.get(r.record.PUNO!) ?? 0) + 1);
    expect(Math.max(...perOrder.values())).toBe(1200);
    expect(byKey(records)).toEqual(truthFor(emulator, lines, '100'));
    expect(emulator.counters.callsByTransaction['EXPORTMI/Select']).toBeGreaterThan(records.length / 100);
  });

  it.each([true, false])('list transactions page correctly when the start row is %s returned again', async (inclusive) => {
    emulator.knobs.startRowInclusive = inclusive;
    try {
      const suppliers = { ...catalog.get('suppliers'), pageSize: 7 };
      const { records } = await extractAll(emulator, suppliers, '200');
      expect(byKey(records)).toEqual(truthFor(emulator, suppliers, '200'));
    } finally {
      emulator.knobs.startRowInclusive = true;
    }
  });

  it('does not stop on a short page when the server caps maxrecs below the page size', async () => {
    emulator.knobs.maxrecsCap = 13;
    try {
      for (const id of ['suppliers', 'supplier_invoices', 'gl_accounts']) {
        const entity = { ...catalog.get(id), pageSize: 50 };
        const { records } = await extractAll(emulator, entity, '100');
        expect(byKey(records), id).toEqual(truthFor(emulator, entity, '100'));
      }
    } finally {
      emulator.knobs.maxrecsCap = null;
    }
  });

  it('refuses to key-page EXPORTMI rows that come unordered, and reads them in one call when configured', async () => {
    emulator.knobs.exportRowOrder = 'unordered';
    try {
      const invoices = { ...catalog.get('supplier_invoices'), pageSize: 20 };
      await expect(extractAll(emulator, invoices, '100')).rejects.toThrow(/out of primary-key order[\s\S]*single-call/);
      const singleCall = { ...invoices, source: { ...invoices.source, paging: 'single-call' as const } } as EntityDefinition;
      const { records } = await extractAll(emulator, singleCall, '100');
      expect(byKey(records)).toEqual(truthFor(emulator, singleCall, '100'));
    } finally {
      emulator.knobs.exportRowOrder = 'primary-key';
    }
  });

  it.each(['blank-session-only', 'always'] as const)('reads divisional tables correctly when division filtering is %s', async (mode) => {
    emulator.knobs.exportDivisionFilter = mode;
    try {
      const ledger = { ...catalog.get('ap_ledger'), pageSize: 25 };
      const { records } = await extractAll(emulator, ledger, '300');
      expect(byKey(records)).toEqual(truthFor(emulator, ledger, '300'));
      const perDivision = { ...ledger, scope: 'division' as const };
      const { records: divisional, units } = await extractAll(emulator, perDivision, '300');
      expect(units.length).toBeGreaterThanOrEqual(3);
      expect(byKey(divisional)).toEqual(truthFor(emulator, ledger, '300'));
    } finally {
      emulator.knobs.exportDivisionFilter = 'blank-session-only';
    }
  });

  it('fails loudly when the server ignores division conditions', async () => {
    emulator.knobs.exportDivisionFilter = 'ignored';
    try {
      const perDivision = { ...catalog.get('ap_ledger'), pageSize: 25, scope: 'division' as const };
      await expect(extractAll(emulator, perDivision, '300')).rejects.toThrow(/ignored a condition/);
    } finally {
      emulator.knobs.exportDivisionFilter = 'blank-session-only';
    }
  });

  it('reads only records changed on or after --since, inclusive of that day', async () => {
    const orders = catalog.get('purchase_orders');
    const all = truthFor(emulator, orders, '100');
    const dates = [...all.values()].map((r) => r.LMDT!).sort();
    const since = dates[Math.floor(dates.length / 2)]!;
    const { records, units } = await extractAll(emulator, orders, '100', { since, until: null });
    expect(byKey(records)).toEqual(truthFor(emulator, orders, '100', (r) => r.LMDT! >= since));
    expect(units[0]!.manifest.window).toEqual({ since, until: null });
    expect(units[0]!.manifest.maxChangeDate).toBe(dates.at(-1));
  });
});

describe('values stay exact', () => {
  let emulator: CloudSuiteEmulator;
  beforeAll(async () => {
    emulator = await startCloudSuiteEmulator({ seed: 11 });
  });
  afterAll(() => emulator.close());

  it('keeps decimals, 18-digit LMTS, Unicode and separators exactly as M3 sent them', async () => {
    const { records } = await extractAll(emulator, catalog.get('ap_ledger'), '100');
    const amounts = records.map((r) => r.record.CUAM!);
    expect(amounts.some((a) => a.startsWith('-'))).toBe(true);
    expect(records.every((r) => /^\d{18}$/.test(r.record.LMTS!))).toBe(true);
    expect(records.some((r) => BigInt(r.record.LMTS!) > BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
    for (const r of records) expect(r._change_stamp).toBe(`${r.record.LMDT}1${r.record.LMTS}${r.record.CHNO!.padStart(4, '0')}`);

    const suppliers = await extractAll(emulator, catalog.get('suppliers'), '100');
    const names = suppliers.records.map((r) => r.record.SUNM!).join('\n');
    expect(names).toMatch(/[^\x00-\x7f]/);
    expect(names).toMatch(/['"]/);
  });

  it('reads a wide table in column groups joined by key, with separators and Unicode inside the data', async () => {
    const info = emulator.tableInfo('CIDMAS');
    const wide: EntityDefinition = {
      ...catalog.get('purchase_orders'),
      id: 'suppliers_wide',
      source: { kind: 'exportmi', table: 'CIDMAS', prefix: info.prefix, paging: 'key-cursor' },
      key: info.key,
      fields: info.fields.map((f) => ({ name: f.name, type: f.type, length: f.length, decimals: f.decimals })),
      pageSize: 40,
    };
    const width = wide.fields.reduce((w, f) => w + f.length + 2, 0);
    expect(width).toBeGreaterThan(984);
    emulator.resetCounters();
    const { records } = await extractAll(emulator, wide, '200');
    const truth = new Map(emulator.truth('CIDMAS', '200').map((r) => [JSON.stringify(info.key.map((k) => r[k])), r]));
    expect(byKey(records)).toEqual(truth);
    const text = records.map((r) => Object.values(r.record).join('')).join('');
    expect(text).toMatch(/[|;~^]/);
  });
});

describe('duplicate keys', () => {
  it('fail the extraction loudly instead of being deduplicated', async () => {
    const emulator = await startCloudSuiteEmulator({ seed: 5 });
    try {
      // SPYN/SUNO/SINO/INYR is not unique in FPLEDG: an invoice and its partial payments share it.
      const ledger = catalog.get('ap_ledger');
      const wrongKey: EntityDefinition = {
        ...ledger,
        source: { ...ledger.source, paging: 'single-call' } as EntityDefinition['source'],
        key: ['CONO', 'SPYN', 'SUNO', 'SINO', 'INYR'],
      };
      await expect(extractAll(emulator, wrongKey, '100')).rejects.toThrow(/was read twice in one extraction/);
    } finally {
      await emulator.close();
    }
  });
});

describe('continuation across invocations', () => {
  it('stops before its deadline with a checkpoint and the next invocation completes without loss or duplicates', async () => {
    const emulator = await startCloudSuiteEmulator({ seed: 9, knobs: { latencyMs: 5 } });
    try {
      const { mi } = connectTo(emulator);
      const store = await tempStore();
      const entity = { ...catalog.get('gl_transactions'), pageSize: 40 };
      let checkpoint: ExtractCheckpoint | undefined;
      let invocations = 0;
      let calls = 0;
      emulator.onBeforeMiCall = () => {
        calls += 1;
      };
      for (;;) {
        invocations += 1;
        const callsAtStart = calls;
        // A deadline that lets each invocation make only a few calls.
        const deadline = Deadline.in(60_000);
        const limited = {
          execute: async (...args: Parameters<typeof mi.execute>) => {
            if (calls - callsAtStart >= 12) throw new (await import('#shared/runtime/deadline.ts')).DeadlineExceededError('test', 1, 0);
            return mi.execute(...args);
          },
        };
        const outcome = await extractUnit({
          tenant: emulator.tenant, entity, company: '100', division: '', window: { since: null, until: null }, runId: 'r',
          runStartedAt: RUN_STARTED, mi: limited, store, unitPrefix: 'u', deadline, recordsPerPart: 120,
          ...(checkpoint ? { checkpoint } : {}),
        });
        if (outcome.status === 'complete') break;
        checkpoint = JSON.parse(JSON.stringify(outcome.checkpoint)) as ExtractCheckpoint;
        expect(invocations).toBeLessThan(200);
      }
      expect(invocations).toBeGreaterThan(2);
      const records = await stagedRecords(store, 'u');
      expect(byKey(records)).toEqual(truthFor(emulator, entity, '100'));
    } finally {
      await emulator.close();
    }
  });
});

describe('separators inside the data', () => {
  it('re-reads a page with the next separator, and finally fixed-width, when values contain the separator', async () => {
    const emulator = await startCloudSuiteEmulator({ seed: 13 });
    try {
      const info = emulator.tableInfo('CIDMAS');
      const base: EntityDefinition = {
        ...catalog.get('purchase_orders'),
        id: 'supplier_addresses',
        source: { kind: 'exportmi', table: 'CIDMAS', prefix: info.prefix, paging: 'key-cursor' },
        key: ['CONO', 'SUNO'],
        fields: info.fields.filter((f) => ['CONO', 'SUNO', 'SUNM', 'SUA1', 'YRE1', 'HOMP', 'CHNO', 'LMDT', 'LMTS'].includes(f.name)),
        pageSize: 1000,
      };
      const truth = new Map(
        emulator.truth('CIDMAS', '100').map((r) => [JSON.stringify([r.CONO, r.SUNO]), Object.fromEntries(base.fields.map((f) => [f.name, r[f.name]!]))]),
      );
      const texts = [...truth.values()].map((r) => r.SUNM! + r.SUA1! + r.YRE1! + r.HOMP!).join('');
      expect(texts).toContain('|');
      expect(texts).toContain('~');

      const withFallback = { ...base, source: { ...base.source, separators: ['|', '~', '¤'] } } as EntityDefinition;
      emulator.resetCounters();
      expect(byKey((await extractAll(emulator, withFallback, '100')).records)).toEqual(truth);
      // '|' and '~' fail the field-count check on the page, '¤' works; then the empty end-of-data call.
      expect(emulator.counters.callsByTransaction['EXPORTMI/Select']).toBe(4);

      const fixedWidth = { ...base, source: { ...base.source, separators: ['|'] } } as EntityDefinition;
      emulator.resetCounters();
      expect(byKey((await extractAll(emulator, fixedWidth, '100')).records)).toEqual(truth);
      expect(emulator.counters.callsByTransaction['EXPORTMI/Select']).toBe(3);
    } finally {
      await emulator.close();
    }
  });
});
