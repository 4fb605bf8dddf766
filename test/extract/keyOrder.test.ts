import { describe, expect, it } from 'vitest';
import { compareDecimalStrings, compareKeys } from '#shared/extract/keyOrder.ts';

describe('compareDecimalStrings', () => {
  it.each([
    ['1', '2', -1], ['10', '9', 1], ['-1', '0', -1], ['-10', '-9', -1], ['0.5', '0.49', 1], ['1.50', '1.5', 0],
    ['-0', '0', 0], ['007', '7', 0], ['123456789012345678', '123456789012345677', 1],
    ['999999999999999999', '1000000000000000000', -1], ['', '0', 0],
  ])('%s vs %s', (a, b, expected) => {
    expect(Math.sign(compareDecimalStrings(a, b))).toBe(expected);
  });

  it('keeps 18-digit values exact where Number would not', () => {
    expect(Number('900719925474099312')).toBe(Number('900719925474099313'));
    expect(compareDecimalStrings('900719925474099312', '900719925474099313')).toBeLessThan(0);
  });
});

describe('compareKeys', () => {
  const fields = [
    { name: 'PUNO', type: 'A' as const, length: 10, decimals: 0 },
    { name: 'PNLI', type: 'N' as const, length: 5, decimals: 0 },
  ];
  it('orders numerics by value and alpha by code unit', () => {
    expect(compareKeys(fields, { PUNO: 'A', PNLI: '10' }, { PUNO: 'A', PNLI: '9' })).toBeGreaterThan(0);
    expect(compareKeys(fields, { PUNO: 'A', PNLI: '10' }, { PUNO: 'B', PNLI: '1' })).toBeLessThan(0);
    expect(compareKeys(fields, { PUNO: 'B', PNLI: '1' }, { PUNO: 'B', PNLI: '1' })).toBe(0);
  });
});
