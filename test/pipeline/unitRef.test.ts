// Unit ids: written and read back in one place (Plan writes them, the handlers read them for their log
// lines), readable as flow/company[/division], and naming the unit's staging folder and checkpoints.
import { describe, expect, it } from 'vitest';
import { UnitRef } from '#shared/pipeline/unitRef.ts';

describe('UnitRef', () => {
  it('writes flow/company for a company-scoped unit and flow/company/division for a division-scoped one', () => {
    expect(UnitRef.of({ flow: 'suppliers', company: '100', division: '' }).id).toBe('suppliers/100');
    expect(UnitRef.of({ flow: 'gl-accounts', company: '100', division: '1A01' }).id).toBe('gl-accounts/100/1A01');
  });

  it.each([
    { flow: 'suppliers', company: '100', division: '' },
    { flow: 'gl-accounts', company: '999', division: 'AAA' },
    // A division M3 lists is not validated by the configuration: whatever it holds must round-trip.
    { flow: 'gl-accounts', company: '100', division: 'A/B' },
    { flow: 'gl-accounts', company: '100', division: '50%' },
  ])('reads back what it wrote: $flow $company "$division"', (parts) => {
    const ref = UnitRef.parse(UnitRef.of(parts).id);
    expect({ flow: ref.flow, company: ref.company, division: ref.division }).toEqual(parts);
    expect(ref.id).toBe(UnitRef.of(parts).id);
  });

  it('keeps a division holding "/" inside one id segment and one staging folder', () => {
    const odd = UnitRef.of({ flow: 'gl-accounts', company: '100', division: 'A/B' });
    expect(odd.id.split('/')).toHaveLength(3);
    const plain = UnitRef.of({ flow: 'gl-accounts', company: '100', division: 'A' });
    expect(odd.stagingPrefix('ACME_PRD', 'r1').startsWith(`${plain.stagingPrefix('ACME_PRD', 'r1')}/`)).toBe(false);
  });

  it.each(['', 'suppliers', 'suppliers/', '/100', 'suppliers//AAA', 'a/b/c/d', 'suppliers/100/', 'gl/100/~0', 'gl/100/~x', '~1/100', 'gl/100/~2/~3', 'gl/~1'])(
    'refuses "%s", which is not a unit id',
    (text) => {
      expect(UnitRef.tryParse(text)).toBeUndefined();
      expect(() => UnitRef.parse(text)).toThrow(/is not a unit id \(flow\/company\[\/division\]\[\/~part\]\)/);
    },
  );

  it("writes a split backfill's sub-unit as its scope's id and /~part, reads it back, and gives it a folder of its own", () => {
    const part = UnitRef.of({ flow: 'gl-transactions', company: '100', division: '', part: { index: 3 } });
    expect(part.id).toBe('gl-transactions/100/~3');
    expect(part.scopeId).toBe('gl-transactions/100');
    const back = UnitRef.parse(part.id);
    expect({ flow: back.flow, company: back.company, division: back.division, part: back.part }).toEqual({ flow: 'gl-transactions', company: '100', division: '', part: 3 });
    const divisional = UnitRef.parse('gl-accounts/100/AAA/~12');
    expect({ division: divisional.division, part: divisional.part, scope: divisional.scopeId }).toEqual({ division: 'AAA', part: 12, scope: 'gl-accounts/100/AAA' });
    expect(part.stagingPrefix('ACME_PRD', 'r1')).toBe('runs/ACME_PRD/r1/gl-transactions/100/~3');
    expect(part.logKeys()).toEqual({ unitId: 'gl-transactions/100/~3', flow: 'gl-transactions', company: '100', part: 3 });
    // A division holding "~" is escaped, so it never reads as a part.
    const tilde = UnitRef.of({ flow: 'gl-accounts', company: '100', division: '~1' });
    expect(tilde.id).toBe('gl-accounts/100/%7E1');
    expect(UnitRef.parse(tilde.id)).toMatchObject({ division: '~1', part: undefined });
  });

  it('gives the log keys of a unit, with a division only where there is one', () => {
    expect(UnitRef.parse('suppliers/100').logKeys()).toEqual({ unitId: 'suppliers/100', flow: 'suppliers', company: '100' });
    expect(UnitRef.parse('gl-accounts/100/AAA').logKeys()).toEqual({ unitId: 'gl-accounts/100/AAA', flow: 'gl-accounts', company: '100', division: 'AAA' });
  });

  it("names the unit's staging folder and its checkpoints in a run", () => {
    const ref = UnitRef.parse('gl-accounts/100/AAA');
    expect(ref.stagingPrefix('ACME_PRD', 'sched-1')).toBe('runs/ACME_PRD/sched-1/gl-accounts/100/AAA');
    expect(UnitRef.parse('suppliers/100').stagingPrefix('ACME_PRD', 'sched-1')).toBe('runs/ACME_PRD/sched-1/suppliers/100');
    expect(ref.checkpointKey('ACME_PRD', 'sched-1', 3)).toBe('runs/ACME_PRD/sched-1/_checkpoints/gl-accounts%2F100%2FAAA/3.json');
  });
});
