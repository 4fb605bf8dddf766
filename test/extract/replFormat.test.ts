import { describe, expect, it } from 'vitest';
import { displayWidth, MAX_REPL_CHARS, planColumnGroups, splitBySeparator, splitFixedWidth } from '#shared/extract/exportMi/replFormat.ts';
import type { FieldDefinition } from '#shared/catalog/entityDefinition.ts';

const a = (name: string, length: number): FieldDefinition => ({ name, type: 'A', length, decimals: 0 });
const n = (name: string, length: number, decimals = 0): FieldDefinition => ({ name, type: 'N', length, decimals });

describe('planColumnGroups', () => {
  it('keeps one group when everything fits', () => {
    const fields = [n('CONO', 3), a('SUNO', 10), a('SUNM', 36)];
    expect(planColumnGroups(fields, fields.slice(0, 2))).toHaveLength(1);
  });

  it('splits a wide table into groups that each fit 984 characters and all carry the key', () => {
    const key = [n('CONO', 3), a('SUNO', 10)];
    const wide = [...key, ...Array.from({ length: 40 }, (_, i) => a(`T${String(i).padStart(3, '0')}`, 60))];
    const groups = planColumnGroups(wide, [...key, n('CHNO', 5)]);
    expect(groups.length).toBeGreaterThan(2);
    for (const g of groups) {
      expect(g.slice(0, 3).map((f) => f.name)).toEqual(['CONO', 'SUNO', 'CHNO']);
      expect(g.reduce((w, f) => w + displayWidth(f), 0) + g.length - 1).toBeLessThanOrEqual(MAX_REPL_CHARS);
    }
    const covered = new Set(groups.flat().map((f) => f.name));
    for (const f of wide) expect(covered.has(f.name)).toBe(true);
  });
});

describe('splitting REPL', () => {
  const cols = [n('CONO', 3), a('SUNO', 10), n('CUAM', 17, 2), a('SUNM', 36)];
  it('splits by separator and refuses a wrong field count', () => {
    expect(splitBySeparator('100|S1|-1234.56|Müller; "Ö" Ltd', '|', cols)).toEqual(['100', 'S1', '-1234.56', 'Müller; "Ö" Ltd']);
    expect(splitBySeparator('100|S1|1.00|A|B', '|', cols)).toBeUndefined();
  });
  it('splits fixed-width output and tolerates a trimmed tail', () => {
    const line = ' 100' + 'S1'.padEnd(10) + '-1234.56'.padStart(19) + 'Name with | pipe';
    expect(splitFixedWidth(line, cols)).toEqual(['100', 'S1', '-1234.56', 'Name with | pipe']);
  });
});
