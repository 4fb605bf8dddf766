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
    expect(older).toBe('20261120' + '00009' + '900719925474099312');
    expect(newer > older).toBe(true);
    expect(changeStamp(suppliers, { CONO: '100' }, '2026-11-20T00:00:00.000Z')).toBe('2026-11-20T00:00:00.000Z');
  });

  it('refuses a change field that is not digits', () => {
    expect(() => changeStamp(orders, { LMDT: '2026-11-20', CHNO: '1', LMTS: '1' }, 'x')).toThrow(/LMDT/);
  });
});
