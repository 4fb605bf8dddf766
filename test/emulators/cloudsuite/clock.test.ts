// Moving the clock and explicit mutations: changed rows carry the new day in LMDT with a higher CHNO
// and LMTS, inserts and deletes are exactly what the summary says, keys never change, and an
// incremental read on LMDT sees precisely the day's changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator, type M3Row } from '../../../infra/local/emulators/cloudsuite/index.ts';
import { defaultCatalog } from '../../../shared/catalog/defaultCatalog.ts';
import { PLAIN, TestClient } from './testClient.ts';

const TABLES = ['CIDMAS', 'FCHACC', 'MPAGRH', 'MPHEAD', 'MPLINE', 'FAPIBH', 'FAPIBL', 'FPLEDG', 'FGLEDG'];

function snapshot(emulator: CloudSuiteEmulator): Map<string, Map<string, M3Row>> {
  return new Map(
    TABLES.map((table) => {
      const key = emulator.tableInfo(table).key;
      return [table, new Map(emulator.truth(table).map((r) => [key.map((k) => r[k]).join('|'), r]))];
    }),
  );
}

interface Diff {
  updated: M3Row[];
  updatedBefore: M3Row[];
  inserted: M3Row[];
  deleted: M3Row[];
}

function diff(before: Map<string, M3Row>, after: Map<string, M3Row>): Diff {
  const result: Diff = { updated: [], updatedBefore: [], inserted: [], deleted: [] };
  for (const [key, row] of after) {
    const old = before.get(key);
    if (!old) result.inserted.push(row);
    else if (JSON.stringify(old) !== JSON.stringify(row)) {
      result.updated.push(row);
      result.updatedBefore.push(old);
    }
  }
  for (const [key, row] of before) if (!after.has(key)) result.deleted.push(row);
  return result;
}

let emulator: CloudSuiteEmulator;
let client: TestClient;
beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 21 });
  client = new TestClient(emulator);
});
afterAll(() => emulator.close());

describe('advanceDays', () => {
  it('changes, inserts and deletes records dated on the new day, exactly as summarised', () => {
    const before = snapshot(emulator);
    const yesterday = emulator.clock.today();
    const summary = emulator.clock.advanceDays(1);
    const today = emulator.clock.today();
    expect(today).toBe('20261121');
    expect(yesterday).toBe('20261120');
    const after = snapshot(emulator);
    let updatedRows = 0;
    for (const table of TABLES) {
      const d = diff(before.get(table)!, after.get(table)!);
      const counts = summary.byTable[table] ?? { updated: 0, inserted: 0, deleted: 0 };
      expect(d.inserted.length, `${table} inserted`).toBe(counts.inserted);
      expect(d.deleted.length, `${table} deleted`).toBe(counts.deleted);
      // A row changed twice on one day counts twice in the summary.
      expect(d.updated.length, `${table} updated`).toBeLessThanOrEqual(counts.updated);
      expect(d.updated.length, `${table} updated`).toBeGreaterThan(0);
      updatedRows += d.updated.length;
      d.updated.forEach((row, i) => {
        const old = d.updatedBefore[i]!;
        expect(row.LMDT).toBe(today);
        expect(Number(row.CHNO)).toBeGreaterThan(Number(old.CHNO));
        expect(BigInt(row.LMTS!)).toBeGreaterThan(BigInt(old.LMTS!));
        expect(row.RGDT).toBe(old.RGDT);
      });
      // New records start at CHNO 1; one paid on the day it arrived is already at 2.
      for (const row of d.inserted) expect([row.RGDT, row.LMDT, Number(row.CHNO) >= 1]).toEqual([today, today, true]);
    }
    expect(summary.updated).toBeGreaterThanOrEqual(updatedRows);
    expect(summary.inserted).toBeGreaterThan(0);
    expect(summary.deleted).toBeGreaterThan(0);
    for (const table of ['MPHEAD', 'MPLINE', 'FAPIBH', 'FPLEDG', 'FGLEDG']) expect(summary.byTable[table]?.inserted, table).toBeGreaterThan(0);
  });

  it('reverses unpaid invoices now and then: opposite AP entries and GL lines under a new journal, the original settled', () => {
    const before = emulator.truth('FPLEDG').length;
    for (let i = 0; i < 6; i++) emulator.clock.advanceDays(1);
    const ledger = emulator.truth('FPLEDG');
    expect(ledger.length).toBeGreaterThan(before);
    const invoiceKey = (r: M3Row) => [r.CONO, r.DIVI, r.SPYN, r.SUNO, r.SINO, r.INYR].join('|');
    const reversals = ledger.filter((r) => r.TRCD === '40' && r.CHID === 'APS110' && Number(r.CUAM) > 0 && r.RGDT === r.LMDT && r.PYST === '9');
    expect(reversals.length).toBeGreaterThan(0);
    for (const reversal of reversals) {
      const entries = ledger.filter((r) => invoiceKey(r) === invoiceKey(reversal));
      const cents = entries.reduce((s, r) => s + BigInt(Math.round(Number(r.CUAM) * 100)), 0n);
      expect(cents, invoiceKey(reversal)).toBe(0n);
      expect(entries.every((r) => r.PYST === '9')).toBe(true);
    }
  });

  it('lets an incremental EXPORTMI read on LMDT see exactly the records changed today', async () => {
    const today = emulator.clock.today();
    const repl = await client.select(`IBPUNO, IBPNLI, IBPNLS, IBCHNO from MPLINE where IBLMDT >= ${today}`, { SEPC: ';' });
    const changed = emulator.truth('MPLINE', '100').filter((r) => r.LMDT === today);
    expect(changed.length).toBeGreaterThan(0);
    expect(repl).toEqual(changed.map((r) => `${r.PUNO};${r.PNLI};${r.PNLS};${r.CHNO}`));
  });

  it('is deterministic for the same seed and the same sequence of calls', async () => {
    const a = await startCloudSuiteEmulator({ seed: 33 });
    const b = await startCloudSuiteEmulator({ seed: 33 });
    try {
      expect(a.clock.advanceDays(2)).toEqual(b.clock.advanceDays(2));
      expect(a.mutate({ updates: 5, inserts: 5, deletes: 2 })).toEqual(b.mutate({ updates: 5, inserts: 5, deletes: 2 }));
      for (const table of TABLES) expect(a.truth(table), table).toEqual(b.truth(table));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('does nothing for 0 days and rejects negative or fractional days', () => {
    const today = emulator.clock.today();
    expect(emulator.clock.advanceDays(0)).toEqual({ updated: 0, inserted: 0, deleted: 0, byTable: {} });
    expect(emulator.clock.today()).toBe(today);
    expect(() => emulator.clock.advanceDays(-1)).toThrow(RangeError);
    expect(() => emulator.clock.advanceDays(1.5)).toThrow(RangeError);
  });
});

describe('mutate', () => {
  it('applies exactly the requested operations to one table of one company, stamped today', () => {
    const before = snapshot(emulator);
    const summary = emulator.mutate({ table: 'MPLINE', company: '200', updates: 3, inserts: 2, deletes: 1 });
    expect(summary).toEqual({ updated: 3, inserted: 2, deleted: 1, byTable: { MPLINE: { updated: 3, inserted: 2, deleted: 1 } } });
    const after = snapshot(emulator);
    const d = diff(before.get('MPLINE')!, after.get('MPLINE')!);
    expect(d.inserted).toHaveLength(2);
    expect(d.deleted).toHaveLength(1);
    expect(d.updated.length).toBeGreaterThanOrEqual(1);
    for (const row of [...d.inserted, ...d.updated, ...d.deleted]) expect(row.CONO).toBe('200');
    for (const row of [...d.inserted, ...d.updated]) expect(row.LMDT).toBe(emulator.clock.today());
    for (const table of TABLES.filter((t) => t !== 'MPLINE')) expect(diff(before.get(table)!, after.get(table)!), table).toEqual({ updated: [], updatedBefore: [], inserted: [], deleted: [] });
  });

  it('spreads changes over the business tables when no table is given', () => {
    const summary = emulator.mutate({ updates: 18, inserts: 9 });
    expect(summary.updated).toBe(18);
    expect(summary.inserted).toBe(9);
    expect(Object.keys(summary.byTable).sort()).toEqual([...TABLES].sort());
  });

  it('keeps LMTS increasing when one record changes several times on the same day', () => {
    const before = new Map(emulator.truth('CIDMAS', '300').map((r) => [r.SUNO, r]));
    emulator.mutate({ table: 'CIDMAS', company: '300', updates: before.size * 3 });
    const after = emulator.truth('CIDMAS', '300');
    const multi = after.filter((r) => Number(r.CHNO) >= Number(before.get(r.SUNO)!.CHNO) + 2);
    expect(multi.length).toBeGreaterThan(0);
    const stamps = after.filter((r) => r.LMDT === emulator.clock.today()).map((r) => r.LMTS);
    expect(new Set(stamps).size).toBe(stamps.length);
  });

  it('shows changed and new suppliers to LstSuppliers with LMTS after the last import', async () => {
    const lastImport = emulator.truth('CIDMAS', '100').reduce((max, r) => (BigInt(r.LMTS!) > max ? BigInt(r.LMTS!) : max), 0n);
    emulator.mutate({ table: 'CIDMAS', company: '100', updates: 2, inserts: 1 });
    const { records } = await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: '0', LMTS: String(lastImport), returncols: 'SUNO' });
    const expected = emulator.truth('CIDMAS', '100').filter((r) => BigInt(r.LMTS!) > lastImport);
    expect(expected.length).toBeGreaterThanOrEqual(2);
    expect(records.map((r) => r.SUNO)).toEqual(expected.map((r) => r.SUNO));
  });

  it('rejects configuration tables, unknown tables and companies, and bad counts', () => {
    expect(() => emulator.mutate({ table: 'CMNDIV', updates: 1 })).toThrow(/configuration/);
    expect(() => emulator.mutate({ table: 'NOPE', updates: 1 })).toThrow(/not emulated/);
    expect(() => emulator.mutate({ company: '999', updates: 1 })).toThrow(/company 999/);
    expect(() => emulator.mutate({ updates: -1 })).toThrow(RangeError);
  });
});

describe('what no LMDT window shows (knobs silentChangesPerDay and deletesPerDay)', () => {
  const INCREMENTAL = ['MPHEAD', 'MPLINE', 'FAPIBH', 'FAPIBL', 'FPLEDG', 'FGLEDG'];
  it('changes rows without moving LMDT, CHNO or LMTS, and deletes rows of every incremental table, heads with their lines', async () => {
    const hidden = await startCloudSuiteEmulator({ seed: 21, knobs: { silentChangesPerDay: 2, deletesPerDay: 1 } });
    const plain = await startCloudSuiteEmulator({ seed: 21 });
    try {
      const before = snapshot(hidden);
      const summary = hidden.clock.advanceDays(1);
      plain.clock.advanceDays(1);
      const after = snapshot(hidden);
      const today = hidden.clock.today();
      for (const table of INCREMENTAL) {
        expect(summary.byTable[table]?.silentlyChanged, `${table} silently changed`).toBeGreaterThan(0);
        expect(summary.byTable[table]?.deleted, `${table} deleted`).toBeGreaterThan(0);
        const d = diff(before.get(table)!, after.get(table)!);
        expect(d.deleted.length, `${table} deleted`).toBe(summary.byTable[table]!.deleted);
        // Changed rows with an old stamp are the silent ones: the LMDT window of today misses them.
        const silent = d.updated.flatMap((row, i) => {
          const old = d.updatedBefore[i]!;
          return row.LMDT !== today && row.LMDT === old.LMDT && row.CHNO === old.CHNO && row.LMTS === old.LMTS ? [{ row, old }] : [];
        });
        expect(silent.length, `${table} silent`).toBeGreaterThan(0);
        // Every silent change is one the default catalog can see (a field it reads), so a reconcile must repair it;
        // the ledgers' amounts never change (vouchers stay balanced).
        const read = [...defaultCatalog.values()].find((e) => e.source.kind === 'exportmi' && e.source.table === table)!.fields.map((f) => f.name);
        for (const { row, old } of silent) {
          expect(read.filter((f) => row[f] !== old[f]), `${table} silent change in a field the catalog reads`).not.toEqual([]);
          if (table === 'FPLEDG' || table === 'FGLEDG') for (const amount of ['CUAM', 'ACAM', 'VTAM']) expect(row[amount], `${table} ${amount}`).toBe(old[amount]);
        }
      }
      // No MPLINE row is left whose head was deleted.
      const heads = new Set(hidden.truth('MPHEAD').map((h) => `${h.CONO}|${h.PUNO}`));
      expect(hidden.truth('MPLINE').filter((l) => !heads.has(`${l.CONO}|${l.PUNO}`))).toEqual([]);
      // The rest of the day is what it is without the knobs: the hidden changes have their own random stream.
      const plainInserted = snapshot(plain);
      for (const table of ['CIDMAS', 'FCHACC', 'MPAGRH']) expect([...after.get(table)!.keys()], table).toEqual([...plainInserted.get(table)!.keys()]);
    } finally {
      await hidden.close();
      await plain.close();
    }
  });
});
