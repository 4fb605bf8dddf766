import { describe, expect, it } from 'vitest';
import { canonicalJson, changeStamp, recordHash, recordKey } from '#shared/staging/stagedRecord.ts';
import { defaultCatalog } from '#shared/catalog/defaultCatalog.ts';

const orders = defaultCatalog.get('purchase_orders')!;
const suppliers = defaultCatalog.get('suppliers')!;

describe('staged record fields', () => {
  it('hashes records independently of key order', () => {
    expect(canonicalJson({ b: '1', a: '2' })).toBe('{"a":"2","b":"1"}');
    expect(recordHash({ SUNO: 'S1', CONO: '100' })).toBe(recordHash({ CONO: '100', SUNO: 'S1' }));
    expect(recordHash({ CONO: '100', SUNO: 'S1' })).not.toBe(recordHash({ CONO: '100', SUNO: 'S2' }));
  });

  it('writes the key as a JSON array of strings, unambiguous with separators in values', () => {
    expect(recordKey(suppliers, { CONO: '100', SUNO: 'A|B' })).toBe('["100","A|B"]');
  });

  it('builds change stamps that order as strings, with an 18-digit LMTS kept exact', () => {
    const older = changeStamp(orders, { LMDT: '20261120', CHNO: '9', LMTS: '900719925474099312' }, 'x');
    const newer = changeStamp(orders, { LMDT: '20261120', CHNO: '10', LMTS: '900719925474099313' }, 'x');
    expect(older).toBe('20261120' + '1' + '900719925474099312' + '0009');
    expect(older).toHaveLength(31);
    expect(newer > older).toBe(true);
    expect(changeStamp(suppliers, { CONO: '100' }, '2026-11-20T00:00:00.000Z')).toBe('2026-11-20T00:00:00.000Z');
  });

  it('orders by LMTS before CHNO, so a CHNO that wraps after 999 never makes a later change look older', () => {
    const at999 = changeStamp(orders, { LMDT: '20261120', CHNO: '999', LMTS: '202611200930000001' }, 'x');
    const wrapped = changeStamp(orders, { LMDT: '20261120', CHNO: '0', LMTS: '202611201415000007' }, 'x');
    const nextDay = changeStamp(orders, { LMDT: '20261121', CHNO: '1', LMTS: '202611210800000000' }, 'x');
    expect(wrapped > at999).toBe(true);
    expect(nextDay > wrapped).toBe(true);
  });

  it('orders every new stamp of a day after the old layout (LMDT + CHNO(5) + LMTS) of that day, whatever LMTS looks like', () => {
    const oldLayout = (lmdt: string, chno: string, lmts: string) => lmdt + chno.padStart(5, '0') + lmts.padStart(18, '0');
    for (const lmts of ['202611201415000007', '1763648100000', '0', '']) {
      for (const [oldChno, newChno] of [['999', '0'], ['5', '5'], ['12', '13']] as const) {
        const before = oldLayout('20261120', oldChno, lmts === '' ? '0' : lmts);
        const now = changeStamp(orders, { LMDT: '20261120', CHNO: newChno, LMTS: lmts }, 'x');
        expect(now.length).toBe(before.length);
        expect(now > before, `LMTS "${lmts}", CHNO ${oldChno} -> ${newChno}`).toBe(true);
      }
    }
    // A change on an earlier day stays older than an old stamp of a later day: LMDT still leads.
    expect(changeStamp(orders, { LMDT: '20261119', CHNO: '1', LMTS: '9' }, 'x') < oldLayout('20261120', '1', '1')).toBe(true);
  });

  it('without LMTS orders one day\'s versions by CHNO alone: a wrap on the same day sorts before the version at 999', () => {
    const noTimestamp = { ...orders, changeFields: { date: 'LMDT', counter: 'CHNO' } };
    const at998 = changeStamp(noTimestamp, { LMDT: '20261120', CHNO: '998' }, 'x');
    const at999 = changeStamp(noTimestamp, { LMDT: '20261120', CHNO: '999' }, 'x');
    const wrappedSameDay = changeStamp(noTimestamp, { LMDT: '20261120', CHNO: '0' }, 'x');
    const wrappedNextDay = changeStamp(noTimestamp, { LMDT: '20261121', CHNO: '0' }, 'x');
    expect(at999 > at998).toBe(true);
    expect(at999).toBe('20261120' + '1' + '0'.repeat(18) + '0999');
    // The documented limit: the warehouse keeps the version at 999 until the record changes on a later day.
    expect(wrappedSameDay < at999).toBe(true);
    expect(wrappedNextDay > at999).toBe(true);
  });

  it('refuses a change field that is not digits', () => {
    expect(() => changeStamp(orders, { LMDT: '2026-11-20', CHNO: '1', LMTS: '1' }, 'x')).toThrow(/LMDT/);
  });
});
