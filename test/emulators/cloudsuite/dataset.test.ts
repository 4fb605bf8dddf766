// The seeded tenant: deterministic per seed, M3-formatted values, the edge cases a connector must
// survive (Unicode, separators in text, signs, huge amounts, empty numerics, zero dates, 18-digit
// timestamps, partial payments), and table metadata.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator, type M3Row } from '../../../infra/local/emulators/cloudsuite/index.ts';

const TABLES = ['CIDMAS', 'FCHACC', 'MPAGRH', 'MPHEAD', 'MPLINE', 'FAPIBH', 'FAPIBL', 'FPLEDG', 'FGLEDG', 'CMNDIV'];
const NUMERIC = /^-?(0|[1-9]\d*)(\.\d*[1-9])?$/;

let emulator: CloudSuiteEmulator;
beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 11 });
});
afterAll(() => emulator.close());

const all = (table: string) => emulator.truth(table);
const keyOf = (table: string, row: M3Row) => emulator.tableInfo(table).key.map((k) => row[k]).join('|');

describe('determinism', () => {
  it('generates identical data for the same seed and different data for another', async () => {
    const twin = await startCloudSuiteEmulator({ seed: 11 });
    const other = await startCloudSuiteEmulator({ seed: 12 });
    try {
      for (const table of TABLES) expect(twin.truth(table), table).toEqual(all(table));
      expect(other.truth('CIDMAS')).not.toEqual(all('CIDMAS'));
      expect(other.truth('FPLEDG')).not.toEqual(all('FPLEDG'));
    } finally {
      await Promise.all([twin.close(), other.close()]);
    }
  });
});

describe('shape of the tenant', () => {
  it('has three companies with three divisions each plus the company-level row', () => {
    const divisions = all('CMNDIV');
    expect([...new Set(divisions.map((d) => d.CONO))]).toEqual(['100', '200', '300']);
    for (const cono of ['100', '200', '300']) {
      const rows = divisions.filter((d) => d.CONO === cono);
      expect(rows).toHaveLength(4);
      expect(rows[0]!.DIVI).toBe('');
    }
  });

  it('has one purchase order of 1200 lines in company 100', () => {
    const counts = new Map<string, number>();
    for (const line of all('MPLINE')) counts.set(`${line.CONO}|${line.PUNO}`, (counts.get(`${line.CONO}|${line.PUNO}`) ?? 0) + 1);
    const big = [...counts].filter(([, n]) => n === 1200);
    expect(big).toHaveLength(1);
    expect(big[0]![0]).toMatch(/^100\|/);
  });

  it('keeps a few thousand rows by default, every table populated in every company', () => {
    const total = TABLES.reduce((n, t) => n + all(t).length, 0);
    expect(total).toBeGreaterThan(3000);
    expect(total).toBeLessThan(10000);
    for (const table of TABLES) for (const cono of ['100', '200', '300']) expect(emulator.truth(table, cono).length, `${table} ${cono}`).toBeGreaterThan(0);
  });

  it('returns rows sorted by primary key with unique keys', () => {
    for (const table of TABLES) {
      const info = emulator.tableInfo(table);
      const rows = all(table);
      expect(new Set(rows.map((r) => keyOf(table, r))).size, table).toBe(rows.length);
      for (let i = 1; i < rows.length; i++) {
        const a = rows[i - 1]!;
        const b = rows[i]!;
        let order = 0;
        for (const k of info.key) {
          const field = info.fields.find((f) => f.name === k)!;
          const [x, y] = [a[k] ?? '', b[k] ?? ''];
          order = field.type === 'A' ? (x < y ? -1 : x > y ? 1 : 0) : Math.sign(Number(x) - Number(y));
          if (order !== 0) break;
        }
        expect(order, `${table} row ${i}`).toBe(-1);
      }
    }
  });
});

describe('values as M3 writes them', () => {
  it('formats numerics without leading or trailing zeros, dates as yyyymmdd or 0, alpha without trailing blanks', () => {
    const bad: string[] = [];
    for (const table of TABLES) {
      const info = emulator.tableInfo(table);
      const names = info.fields.map((f) => f.name);
      for (const row of all(table)) {
        if (Object.keys(row).join() !== names.join()) bad.push(`${table}: fields ${Object.keys(row).join()}`);
        for (const field of info.fields) {
          const value = row[field.name]!;
          let ok: boolean;
          if (field.type === 'N') {
            const [int = '', frac = ''] = value.replace('-', '').split('.');
            ok = (value === '' || NUMERIC.test(value)) && frac.length <= field.decimals && int.length <= field.length - field.decimals;
          } else if (field.type === 'D') {
            ok = /^(0|(19|20)\d{6})$/.test(value);
          } else {
            ok = !/ $/.test(value) && value.length <= field.length && !/[\t\n]/.test(value);
          }
          if (!ok) bad.push(`${table}.${field.name}=${JSON.stringify(value)}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('stamps changes with LMDT over the last ~90 days, RGDT before it, CHNO and 18-digit LMTS', () => {
    const start = emulator.clock.today();
    const lmdts = new Map<string, number>();
    for (const table of TABLES.filter((t) => t !== 'CMNDIV')) {
      for (const row of all(table)) {
        expect(row.LMDT! < start, `${table} LMDT ${row.LMDT}`).toBe(true);
        expect(row.RGDT! <= row.LMDT!).toBe(true);
        expect(Number(row.CHNO)).toBeGreaterThanOrEqual(1);
        expect(row.LMTS).toMatch(/^\d{18}$/);
        expect(BigInt(row.LMTS!) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
        expect(row.LMTS!.slice(0, 8)).toBe(row.LMDT);
        lmdts.set(row.LMDT!, (lmdts.get(row.LMDT!) ?? 0) + 1);
      }
    }
    const recent = [...lmdts.keys()].filter((d) => d >= '20260822');
    expect(recent.length).toBeGreaterThan(60);
    // A few busy days carry many changes.
    expect(Math.max(...lmdts.values())).toBeGreaterThan(300);
  });

  it('contains Unicode, quotes and every common separator inside text, never a tab', () => {
    const text = TABLES.flatMap((t) => all(t).flatMap((r) => Object.values(r))).join('\n');
    for (const needle of ['Å', 'ß', 'Ø', '北京', '🍕', "'", '"', ';', '|', ',', '~', '^', '  ']) expect(text, needle).toContain(needle);
    expect(text).not.toContain('\t');
    expect(all('CIDMAS').some((r) => r.SUNM!.startsWith(' '))).toBe(true);
  });

  it('contains negative and very large amounts, empty numerics and zero dates', () => {
    const amounts = [...all('FPLEDG'), ...all('FGLEDG'), ...all('FAPIBH')].flatMap((r) => [r.CUAM, r.ACAM]);
    expect(amounts.some((a) => a?.startsWith('-'))).toBe(true);
    expect(amounts).toContain('123456789012.34');
    expect(all('FAPIBH').some((r) => r.CUAM === '-1234.56')).toBe(true);
    expect(all('MPLINE').some((r) => r.RVQA === '')).toBe(true);
    expect(all('FAPIBL').some((r) => r.IVQA === '')).toBe(true);
    expect(all('MPAGRH').some((r) => r.UVDT === '0')).toBe(true);
    expect(all('CIDMAS').some((r) => r.LIDT === '0')).toBe(true);
  });

  it('records partial payments that share payee, supplier, invoice number and year with the invoice', () => {
    const ledger = all('FPLEDG');
    const invoiceKey = (r: M3Row) => [r.CONO, r.DIVI, r.SPYN, r.SUNO, r.SINO, r.INYR].join('|');
    const payments = new Map<string, M3Row[]>();
    for (const r of ledger.filter((l) => l.TRCD === '50')) payments.set(invoiceKey(r), [...(payments.get(invoiceKey(r)) ?? []), r]);
    const invoices = ledger.filter((l) => l.TRCD === '40');
    const withSeveral = invoices.filter((i) => (payments.get(invoiceKey(i)) ?? []).length >= 2);
    expect(withSeveral.length).toBeGreaterThan(3);
    for (const invoice of withSeveral) {
      const paid = payments.get(invoiceKey(invoice))!;
      expect(new Set(paid.map((p) => `${p.YEA4}|${p.JRNO}`)).size).toBe(paid.length);
      expect(new Set(paid.map((p) => p.VONO)).size).toBe(paid.length);
      const total = paid.reduce((s, p) => s + Math.round(Number(p.CUAM) * 100), 0);
      // Payments never exceed the invoice: all of its entries (instalments) together.
      const invoiced = invoices.filter((i) => invoiceKey(i) === invoiceKey(invoice)).reduce((s, i) => s - Math.round(Number(i.CUAM) * 100), 0);
      expect(total).toBeLessThanOrEqual(invoiced);
      if (invoice.JSNO === '1') expect(invoice.PYST).toMatch(/^[29]$/);
    }
  });

  it('posts some invoices in instalments: entries of one journal with the invoice key, later due dates, the VAT on the first', () => {
    const ledger = all('FPLEDG').filter((r) => r.TRCD === '40');
    const byJournal = new Map<string, M3Row[]>();
    for (const r of ledger) {
      const journal = [r.CONO, r.DIVI, r.YEA4, r.JRNO].join('|');
      byJournal.set(journal, [...(byJournal.get(journal) ?? []), r]);
    }
    const split = [...byJournal.values()].filter((rows) => rows.length > 1);
    expect(split.length).toBeGreaterThan(3);
    for (const rows of split) {
      expect(new Set(rows.map((r) => [r.SPYN, r.SUNO, r.SINO, r.INYR].join('|'))).size).toBe(1);
      const dues = rows.map((r) => r.DUDT!);
      expect([...dues].sort()).toEqual(dues);
      expect(new Set(dues).size).toBe(rows.length);
      expect(rows.slice(1).every((r) => r.VTAM === '0')).toBe(true);
    }
  });

  it('balances every GL voucher in local currency: manual, invoice and payment vouchers', () => {
    const sums = new Map<string, bigint>();
    for (const r of all('FGLEDG')) {
      const key = `${r.CONO}|${r.DIVI}|${r.YEA4}|${r.JRNO}`;
      sums.set(key, (sums.get(key) ?? 0n) + BigInt(Math.round(Number(r.ACAM) * 100)));
    }
    expect(sums.size).toBeGreaterThan(200);
    for (const [voucher, sum] of sums) expect(sum, voucher).toBe(0n);
  });

  it('balances every manual GL voucher', () => {
    const sums = new Map<string, number>();
    for (const r of all('FGLEDG').filter((g) => g.TRCD === '10')) {
      const key = `${r.CONO}|${r.DIVI}|${r.YEA4}|${r.JRNO}`;
      sums.set(key, (sums.get(key) ?? 0) + Math.round(Number(r.ACAM) * 100));
    }
    expect(sums.size).toBeGreaterThan(50);
    for (const [voucher, sum] of sums) expect(sum, voucher).toBe(0);
  });
});

describe('metadata and volume', () => {
  it('describes each table with prefix, key and typed fields', () => {
    expect(emulator.tableInfo('MPLINE')).toMatchObject({ name: 'MPLINE', prefix: 'IB', key: ['CONO', 'PUNO', 'PNLI', 'PNLS'] });
    expect(emulator.tableInfo('FPLEDG').key).toEqual(['CONO', 'DIVI', 'YEA4', 'JRNO', 'JSNO']);
    expect(emulator.tableInfo('mphead').fields.find((f) => f.name === 'ARAT')).toMatchObject({ type: 'N', length: 12, decimals: 6 });
    expect(() => emulator.tableInfo('NOPE')).toThrow(/not emulated/);
    expect(() => emulator.truth('CIDMAS', '999')).toThrow(/not emulated/);
  });

  // How fast it generates is a benchmark's question (bench/), not a test's: this shared machine is noisy.
  it('scales with volume', async () => {
    const large = await startCloudSuiteEmulator({ volume: { companies: ['100', '200'], purchaseOrders: 4000, linesPerOrder: 8, invoices: 2000, suppliers: 500 } });
    try {
      const lines = large.truth('MPLINE').length;
      expect(lines).toBeGreaterThan(50_000);
    } finally {
      await large.close();
    }
  });

  it('rejects invalid options', async () => {
    await expect(startCloudSuiteEmulator({ startDate: '20261340' })).rejects.toThrow(/startDate/);
    await expect(startCloudSuiteEmulator({ volume: { suppliers: -1 } })).rejects.toThrow(/suppliers/);
    await expect(startCloudSuiteEmulator({ volume: { companies: ['ABC'] } })).rejects.toThrow(/companies/);
  });
});
