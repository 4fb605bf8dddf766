// Control totals as staged: exact decimal sums of M3's text per period, never a float.
import { describe, expect, it } from 'vitest';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import { addDecimal, addToTotals, amountFields, controlPeriodField, periodOf, type ControlTotals } from '#shared/staging/controlTotals.ts';

const catalog = EntityCatalog.withDefaults();

describe('control totals as staged', () => {
  it('adds decimal text exactly, where floats would not', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(addDecimal('0.1', '0.2')).toBe('0.3');
    expect(addDecimal('999999999999999.99', '0.01')).toBe('1000000000000000');
    expect(addDecimal('123456789012345678', '1')).toBe('123456789012345679');
    expect(addDecimal('-10.50', '10.5')).toBe('0');
    expect(addDecimal('-0.05', '0.02')).toBe('-0.03');
    expect(addDecimal('0100.50', '0')).toBe('100.5');
    expect(() => addDecimal('12a', '1')).toThrow(/not decimal text/);
  });

  it('takes the period from the ledger accounting date, else the change date, else "none"', () => {
    expect(controlPeriodField(catalog.get('gl_transactions'))).toBe('ACDT');
    expect(controlPeriodField(catalog.get('ap_ledger'))).toBe('ACDT');
    expect(controlPeriodField(catalog.get('supplier_invoices'))).toBe('LMDT');
    expect(controlPeriodField(catalog.get('suppliers'))).toBeUndefined();
    expect([periodOf('20261130'), periodOf('0'), periodOf(''), periodOf(undefined)]).toEqual(['2026-11', 'none', 'none', 'none']);
    expect(amountFields(catalog.get('gl_transactions'))).toEqual(['ACAM', 'CUAM']);
    expect(amountFields(catalog.get('suppliers'))).toEqual([]);
  });

  it('counts records and sums every amount per period; blank amounts add nothing', () => {
    const gl = catalog.get('gl_transactions');
    const totals: ControlTotals = {};
    for (const record of [
      { ACDT: '20261105', ACAM: '100.10', CUAM: '10.01' },
      { ACDT: '20261130', ACAM: '-0.10', CUAM: '' },
      { ACDT: '20261201', ACAM: '5', CUAM: '0.5' },
      { ACDT: '0', ACAM: '1.00', CUAM: '1.00' },
    ]) addToTotals(totals, gl, record);
    expect(totals).toEqual({
      '2026-11': { records: 2, amounts: { ACAM: '100', CUAM: '10.01' } },
      '2026-12': { records: 1, amounts: { ACAM: '5', CUAM: '0.5' } },
      none: { records: 1, amounts: { ACAM: '1', CUAM: '1' } },
    });
  });
});
