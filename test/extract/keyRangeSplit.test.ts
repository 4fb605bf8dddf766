// Split backfills: a scope cut into key ranges reads every key exactly once (no gap, no overlap at the
// boundaries, empty ranges harmless), whether or not the tenant honours the range conditions in EXPORTMI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_KNOBS, startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { defaultCatalog } from '#shared/catalog/defaultCatalog.ts';
import { entityDefinitionSchema, type EntityDefinition } from '#shared/catalog/entityDefinition.ts';
import { ExportResultError } from '#shared/extract/extractErrors.ts';
import { extractUnit } from '#shared/extract/extractUnit.ts';
import type { MiExecutor } from '#shared/extract/miExecutor.ts';
import { inKeyRange, type KeyRange } from '#shared/extract/keyRange.ts';
import { keyRangesOf, splitBoundaries } from '#shared/pipeline/keyRanges.ts';
import { connectTo, stagedRecords, tempStore } from '../support/cloudSuite.ts';

const gl = { ...defaultCatalog.get('gl_transactions')!, pageSize: 150 };
const invoices = { ...defaultCatalog.get('supplier_invoices')!, pageSize: 40 };

describe('key ranges of a split', () => {
  it('cover every value exactly once: boundaries in any order, repeated, numeric by value; a boundary starts its own range', () => {
    const ranges = keyRangesOf(gl, 'YEA4', ['2024', '999', '2024', '10000']);
    expect(ranges).toEqual([
      { field: 'YEA4', from: null, to: '999' },
      { field: 'YEA4', from: '999', to: '2024' },
      { field: 'YEA4', from: '2024', to: '10000' },
      { field: 'YEA4', from: '10000', to: null },
    ]);
    for (const value of ['0', '998', '999', '1000', '2023', '2024', '2025', '9999', '10000', '99999']) {
      expect(ranges.filter((r) => inKeyRange(r, 'N', value)), value).toHaveLength(1);
    }
    expect(ranges.find((r) => inKeyRange(r, 'N', '2024'))!.from).toBe('2024');
    expect(keyRangesOf(gl, 'YEA4', [])).toEqual([{ field: 'YEA4', from: null, to: null }]);
    // Alpha values by code unit: the blank division lies below every division.
    const divisions = keyRangesOf(invoices, 'DIVI', ['B01', 'A01']);
    for (const value of ['', 'A', 'A01', 'A02', 'B01', 'Z']) expect(divisions.filter((r) => inKeyRange(r, 'A', value)), value).toHaveLength(1);
  });

  it('asks for the last years, each a range, the older ones together; for divisions, the company\'s divisions as boundaries', () => {
    expect(splitBoundaries({ field: 'YEA4', by: 'year', years: 3, boundaries: [] }, { currentYear: 2026 })).toEqual(['2025', '2026']);
    expect(splitBoundaries({ field: 'YEA4', by: 'year', years: 1, boundaries: [] }, { currentYear: 2026 })).toEqual([]);
    expect(splitBoundaries({ field: 'DIVI', by: 'division', years: 6, boundaries: [] }, { currentYear: 2026, divisions: ['C', 'A', 'B'] })).toEqual(['B', 'C']);
    expect(splitBoundaries({ field: 'PUNO', by: 'boundaries', years: 6, boundaries: ['5000000'] }, { currentYear: 2026 })).toEqual(['5000000']);
  });

  it('refuses a split the pager could not read by range', () => {
    const base = { id: 'x_orders', source: { kind: 'exportmi', table: 'MPHEAD', prefix: 'IA' }, key: ['CONO', 'PUNO'], fields: 'all', strategy: 'snapshot' } as const;
    expect(() => entityDefinitionSchema.parse({ ...base, split: { field: 'SUNO', by: 'boundaries', boundaries: ['S'] } })).toThrow(/must be a key field other than CONO/);
    expect(() => entityDefinitionSchema.parse({ ...base, split: { field: 'PUNO', by: 'boundaries' } })).toThrow(/at least one boundary/);
    expect(() => entityDefinitionSchema.parse({ ...base, split: { field: 'PUNO', by: 'division' } })).toThrow(/split by division is on DIVI/);
    expect(entityDefinitionSchema.parse({ ...base, split: { field: 'PUNO', by: 'boundaries', boundaries: ['5'] } }).split?.boundaries).toEqual(['5']);
  });
});

let emulator: CloudSuiteEmulator;
beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 12, volume: { companies: ['100'], glTransactions: 2500, invoices: 300 } });
});
afterAll(() => emulator.close());

/** The records one (sub-)unit stages, as key strings. */
async function keysOf(entity: EntityDefinition, range?: KeyRange): Promise<string[]> {
  const store = await tempStore();
  await extractUnit({
    tenant: emulator.tenant, entity, company: '100', division: '', window: { since: null, until: null }, runId: 'r',
    runStartedAt: '2026-11-20T00:00:00.000Z', mi: connectTo(emulator).mi, store, unitPrefix: 'u', ...(range ? { range } : {}),
  });
  return (await stagedRecords(store, 'u')).map((r) => entity.key.map((k) => r.record[k]).join('|'));
}

async function splitRead(entity: EntityDefinition, field: string, boundaries: string[]): Promise<string[][]> {
  const parts: string[][] = [];
  for (const range of keyRangesOf(entity, field, boundaries)) parts.push(await keysOf(entity, range));
  return parts;
}

describe('a split read against the emulator', () => {
  it('stages the same GL transactions as one unit, each once, with boundaries on real years and empty ranges at both ends', async () => {
    emulator.knobs = { ...DEFAULT_KNOBS };
    const whole = await keysOf(gl);
    const years = [...new Set(emulator.truth('FGLEDG', '100').map((r) => String(r.YEA4)))].sort();
    expect(years.length).toBeGreaterThan(1);
    const parts = await splitRead(gl, 'YEA4', ['1990', ...years.slice(1), '2099']);
    expect(parts[0]).toEqual([]); // below 1990
    expect(parts.at(-1)).toEqual([]); // from 2099
    const union = parts.flat();
    expect(new Set(union).size).toBe(union.length);
    expect(union.sort()).toEqual([...whole].sort());
    expect(whole.length).toBe(emulator.truth('FGLEDG', '100').length);
  });

  it('stages the same GL transactions as one unit when the tenant ignores the range conditions: rows of other ranges are left to their sub-units', async () => {
    emulator.knobs = { ...DEFAULT_KNOBS };
    const whole = await keysOf(gl);
    const { mi } = connectTo(emulator);
    let stripped = 0;
    // A tenant that ignores the range's conditions (the last of the query); the key cursor's own still hold.
    const ignoring = (range: KeyRange): MiExecutor => {
      const suffix = `${range.from !== null ? ` and EGYEA4 >= ${range.from}` : ''}${range.to !== null ? ` and EGYEA4 < ${range.to}` : ''}`;
      return {
        execute: (request, options) => {
          const query = request.inputs?.QERY;
          if (!query?.endsWith(suffix)) return mi.execute(request, options);
          stripped++;
          const QERY = query.slice(0, query.length - suffix.length).replace(/ where $/, '');
          return mi.execute({ ...request, inputs: { ...request.inputs, QERY } }, options);
        },
      };
    };
    const years = [...new Set(emulator.truth('FGLEDG', '100').map((r) => String(r.YEA4)))].sort();
    const union: string[] = [];
    for (const range of keyRangesOf(gl, 'YEA4', years.slice(1))) {
      const store = await tempStore();
      await extractUnit({
        tenant: emulator.tenant, entity: gl, company: '100', division: '', window: { since: null, until: null }, runId: 'r',
        runStartedAt: '2026-11-20T00:00:00.000Z', mi: ignoring(range), store, unitPrefix: 'u', range,
      });
      const staged = (await stagedRecords(store, 'u')).map((r) => r.record);
      expect(staged.every((r) => inKeyRange(range, 'N', r.YEA4!))).toBe(true);
      union.push(...staged.map((r) => gl.key.map((k) => r[k]).join('|')));
    }
    expect(stripped).toBeGreaterThan(0);
    expect(new Set(union).size).toBe(union.length);
    expect(union.sort()).toEqual([...whole].sort());
  });

  it('fails a split read by division loudly, as a whole read, on a tenant that ignores DIVI conditions even on the blank session', async () => {
    emulator.knobs = { ...DEFAULT_KNOBS, exportDivisionFilter: 'ignored' };
    // The key cursor pages within a division with DIVI = …: without it paging cannot be trusted, split or not.
    await expect(keysOf(invoices)).rejects.toThrow(ExportResultError);
    const divisions = [...new Set(emulator.truth('FAPIBH', '100').map((r) => String(r.DIVI)))].sort();
    await expect(splitRead(invoices, 'DIVI', divisions.slice(1))).rejects.toThrow(/the server ignored a condition/);
  });

  it.each(['blank-session-only', 'always'] as const)(
    'stages the same invoice batches as one unit when split by division and DIVI conditions are %s',
    async (exportDivisionFilter) => {
      emulator.knobs = { ...DEFAULT_KNOBS, exportDivisionFilter };
      const whole = await keysOf(invoices);
      const divisions = [...new Set(emulator.truth('FAPIBH', '100').map((r) => String(r.DIVI)))].sort();
      expect(divisions.length).toBeGreaterThan(1);
      const parts = await splitRead(invoices, 'DIVI', divisions.slice(1));
      parts.forEach((keys, i) => expect(keys.every((k) => k.split('|')[1] === divisions[i]), `range ${i + 1}`).toBe(true));
      const union = parts.flat();
      expect(new Set(union).size).toBe(union.length);
      expect(union.sort()).toEqual([...whole].sort());
    },
  );
});
