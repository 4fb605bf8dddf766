// EXPORTMI: the supported query subset (accepted and rejected queries), REPL output with separators
// and fixed width, the 984-character cut, headers, session company, the division-filter knob, row
// order per knob, and key-cursor paging that reproduces the table exactly.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseExportQuery, QueryError } from '../../../infra/local/emulators/cloudsuite/exportMi.ts';
import { DEFAULT_KNOBS, startCloudSuiteEmulator, type CloudSuiteEmulator, type M3Row, type TableInfo } from '../../../infra/local/emulators/cloudsuite/index.ts';
import { PLAIN, TestClient } from './testClient.ts';

let emulator: CloudSuiteEmulator;
let client: TestClient;

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 5 });
  client = new TestClient(emulator);
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.knobs = { ...DEFAULT_KNOBS };
});

function width(field: TableInfo['fields'][number]): number {
  if (field.type === 'A') return field.length;
  if (field.type === 'D') return 8;
  return field.length + (field.decimals > 0 ? 1 : 0) + 1;
}

/** The fixed-width line M3 would write for a row, before the 984 cut. */
function fixedWidth(info: TableInfo, row: M3Row, fields: string[]): string {
  return fields
    .map((name) => {
      const field = info.fields.find((f) => f.name === name)!;
      const value = row[name] ?? '';
      return field.type === 'A' ? value.padEnd(width(field)) : value.padStart(width(field));
    })
    .join('');
}

function fieldCount(table: string): number {
  return parseExportQuery(`* from ${table}`).table.fields.length;
}

describe('query parser', () => {
  it.each([
    ['IAPUNO, IASUNO, IALMDT from MPHEAD where IALMDT >= 20260101', 3, 1],
    ["iapuno FROM mphead WHERE ialmdt >= 20260101 AND iasuno = 'S00001'", 1, 2],
    ['* from CIDMAS', fieldCount('CIDMAS'), 0],
    ["IDSUNO from CIDMAS where IDSUNM = 'O''Brien'", 1, 1],
    ["IALMDT from MPHEAD where IALMDT >= '20260101'", 1, 1],
    ['EGACAM from FGLEDG where EGACAM < -1000.5 and EGACAM <> 0 and EGJRNO <= 5 and EGJSNO > 1 and EGYEA4 = 2026', 1, 5],
    ['  E5INBN,E5SINO   from   FAPIBH  ', 2, 0],
  ])('accepts %s', (query, columns, conditions) => {
    const parsed = parseExportQuery(query);
    expect(parsed.columns).toHaveLength(columns);
    expect(parsed.conditions).toHaveLength(conditions);
  });

  it('unescapes doubled quotes and normalises numbers', () => {
    expect(parseExportQuery("IDSUNO from CIDMAS where IDSUNM = 'O''Brien  '").conditions[0]!.value).toBe("O'Brien");
    expect(parseExportQuery('IALNAM from MPHEAD where IALNAM > 007.50').conditions[0]!.value).toBe('7.5');
  });

  it.each([
    ["IDSUNO from CIDMAS where IDSUNO = 'A' or IDSUNO = 'B'", /OR is not supported/],
    ['IDSUNO from CIDMAS order by IDSUNO', /ORDER BY/],
    ["IDSUNO from CIDMAS where (IDSUNO = 'A')", /parentheses/],
    ['max(IALMDT) from MPHEAD', /functions/],
    ['IAPUNO from MPHEAD, MPLINE', /joins/],
    ['IAPUNO from MPHEAD join MPLINE on IAPUNO = IBPUNO', /joins/],
    ['IAPUNO from MPHEAD where IACONO = 100', /company/],
    ['IAPUNO from NOTABLE', /table NOTABLE does not exist/],
    ['IBPUNO from MPHEAD', /IBPUNO does not exist/],
    ['IAXXXX from MPHEAD', /IAXXXX does not exist/],
    ['IAPUNO from MPHEAD where IASUNO = 100', /quoted/],
    ["IAPUNO from MPHEAD where IALMDT = 'yesterday'", /not a number/],
    ["IAPUNO from MPHEAD where IASUNO = 'open", /unterminated/],
    ['select IAPUNO from MPHEAD', /SELECT/],
    ['IAPUNO from MPHEAD where IALMDT != 1', /<>/],
    ["IAPUNO from MPHEAD where IASUNO like 'S%'", /LIKE/],
    ['IAPUNO from MPHEAD where IASUNO = IASUNO', /not a column/],
    ['IAPUNO MPHEAD', /FROM/],
    ['IAPUNO from MPHEAD where IALMDT >= 1;', /unexpected character/],
    ['IAPUNO, * from MPHEAD', /cannot be combined/],
    ['', /empty/],
  ])('rejects %s', (query, message) => {
    expect(() => parseExportQuery(query)).toThrow(QueryError);
    expect(() => parseExportQuery(query)).toThrow(message);
  });

  it('answers a rejected query as a NOK on QERY', async () => {
    const nok = await client.nok('EXPORTMI', 'Select', { ...PLAIN, QERY: 'IAPUNO from MPHEAD where IACONO = 100' });
    expect(nok).toMatchObject({ errorField: 'QERY', errorType: 'ServerReturnedNOK' });
    expect(nok.errorMessage).toMatch(/company/);
  });
});

describe('REPL output', () => {
  it('joins right-trimmed values with the separator, numerics as MI writes them', async () => {
    const repl = await client.select('IDSUNO, IDSUNM, IDCFI2, IDLMTS, IDLIDT from CIDMAS', { SEPC: '~' });
    const truth = emulator.truth('CIDMAS', '100');
    expect(repl).toEqual(truth.map((r) => [r.SUNO, r.SUNM, r.CFI2, r.LMTS, r.LIDT].join('~')));
  });

  it('does not escape separators that occur in the data', async () => {
    const repl = await client.select('IDSUNO, IDSUNM from CIDMAS', { SEPC: '|' });
    expect(repl.some((line) => line.split('|').length > 2)).toBe(true);
  });

  it('prefixes values with the column name after a * or # separator', async () => {
    const repl = await client.select('IDSUNO, IDCSCD from CIDMAS', { SEPC: '*', maxrecs: '1' });
    const first = emulator.truth('CIDMAS', '100')[0]!;
    expect(repl).toEqual([`IDSUNO ${first.SUNO}*IDCSCD ${first.CSCD}`]);
  });

  it('writes fixed-width values without a separator when SEPC is blank', async () => {
    const fields = ['PUNO', 'PNLI', 'PNLS', 'ORQA', 'RVQA', 'PITD', 'LMDT', 'LMTS'];
    const info = emulator.tableInfo('MPLINE');
    const { records } = await client.mi('EXPORTMI', 'Select', { excludeempty: 'false', maxrecs: '50', QERY: `${fields.map((f) => `IB${f}`).join(', ')} from MPLINE` });
    const truth = emulator.truth('MPLINE', '100').slice(0, 50);
    // REPL is an A984 output field: without righttrim it comes padded to 984.
    expect(records.map((r) => r.REPL)).toEqual(truth.map((row) => fixedWidth(info, row, fields).padEnd(984)));
    const widths = fields.map((f) => width(info.fields.find((x) => x.name === f)!));
    expect(widths).toEqual([10, 6, 4, 17, 17, 30, 8, 19]);
  });

  it('cuts REPL at 984 characters: a table wider than that needs column groups', async () => {
    const info = emulator.tableInfo('CIDMAS');
    const all = info.fields.map((f) => f.name);
    expect(info.fields.reduce((sum, f) => sum + width(f), 0)).toBeGreaterThan(984);
    const { records } = await client.mi('EXPORTMI', 'Select', { excludeempty: 'false', maxrecs: '5', QERY: '* from CIDMAS' });
    const truth = emulator.truth('CIDMAS', '100').slice(0, 5);
    expect(records.map((r) => r.REPL)).toEqual(truth.map((row) => fixedWidth(info, row, all).slice(0, 984)));
    const separated = await client.select('* from CIDMAS', { SEPC: ';', maxrecs: '5' });
    separated.forEach((line, i) => {
      expect(line).toBe(all.map((f) => truth[i]![f]).join(';').slice(0, 984));
    });
  });

  it('puts column names first with HDRS=1; maxrecs counts data rows only', async () => {
    const repl = await client.select('IAPUNO, IASUNO, IALMDT from MPHEAD', { SEPC: ';', HDRS: '1', maxrecs: '4' });
    expect(repl).toHaveLength(5);
    expect(repl[0]).toBe('IAPUNO;IASUNO;IALMDT');
    const fixed = await client.select('IAPUNO, IALMDT from MPHEAD', { HDRS: '1', maxrecs: '1' });
    expect(fixed[0]).toBe(`${'IAPUNO'.padEnd(10)}IALMDT`);
  });

  it('applies maxrecsCap to EXPORTMI as well', async () => {
    emulator.knobs.maxrecsCap = 25;
    expect(await client.select('IBPUNO from MPLINE', { SEPC: ';' })).toHaveLength(25);
  });
});

describe('rows selected', () => {
  it('reads the session company only', async () => {
    const repl = await client.select('IACONO, IAPUNO from MPHEAD', { SEPC: ';', cono: '200' });
    expect(repl).toEqual(emulator.truth('MPHEAD', '200').map((r) => `200;${r.PUNO}`));
  });

  it('honours every condition, with quotes in literals and numeric comparison', async () => {
    const truth = emulator.truth('MPLINE', '100');
    const repl = await client.select("IBPUNO, IBPNLI from MPLINE where IBPNLI > 90 and IBPNLI <= 200 and IBPUST <> '85'", { SEPC: ';' });
    expect(repl).toEqual(truth.filter((r) => Number(r.PNLI) > 90 && Number(r.PNLI) <= 200 && r.PUST !== '85').map((r) => `${r.PUNO};${r.PNLI}`));
    const obrien = await client.select("IDSUNO from CIDMAS where IDSUNM = 'O''Brien Industrial Supply'", { SEPC: ';' });
    expect(obrien).toEqual(emulator.truth('CIDMAS', '100').filter((r) => r.SUNM === "O'Brien Industrial Supply").map((r) => r.SUNO));
    expect(obrien).toHaveLength(1);
  });

  it.each([
    ['blank-session-only', '', true],
    ['blank-session-only', 'A01', false],
    ['always', 'A01', true],
    ['ignored', '', false],
  ] as const)('exportDivisionFilter %s with session division "%s": DIVI condition honoured = %s', async (mode, divi, honoured) => {
    emulator.knobs.exportDivisionFilter = mode;
    const repl = await client.select("IAPUNO, IADIVI from MPHEAD where IADIVI = 'A02'", { SEPC: ';', cono: '100', divi });
    const truth = emulator.truth('MPHEAD', '100');
    const expected = honoured ? truth.filter((r) => r.DIVI === 'A02') : truth;
    expect(repl).toEqual(expected.map((r) => `${r.PUNO};${r.DIVI}`));
  });

  it('orders by primary key, or in a stable shuffled order when exportRowOrder is unordered', async () => {
    const keyOrder = await client.select('IBPUNO, IBPNLI, IBPNLS from MPLINE', { SEPC: ';' });
    expect(keyOrder).toEqual(emulator.truth('MPLINE', '100').map((r) => `${r.PUNO};${r.PNLI};${r.PNLS}`));
    emulator.knobs.exportRowOrder = 'unordered';
    const shuffled = await client.select('IBPUNO, IBPNLI, IBPNLS from MPLINE', { SEPC: ';' });
    expect(shuffled).not.toEqual(keyOrder);
    expect([...shuffled].sort()).toEqual([...keyOrder].sort());
    expect(await client.select('IBPUNO, IBPNLI, IBPNLS from MPLINE', { SEPC: ';' })).toEqual(shuffled);
  });

  it('can be paged completely with a key cursor of AND-joined conditions', async () => {
    const key = ['PUNO', 'PNLI', 'PNLS'];
    const quote = (field: string, value: string) => (field === 'PUNO' ? `'${value}'` : value);
    const pageSize = 400;
    const seen: string[] = [];
    let cursor: string[] | undefined;
    for (let calls = 0; calls < 50; calls++) {
      const page: string[] = [];
      // Rows after the cursor: same leading key and a larger next field, from the deepest level up.
      const levels = cursor ? key.map((_, i) => key.length - 1 - i) : [-1];
      for (const depth of levels) {
        const conditions = cursor && depth >= 0 ? [...key.slice(0, depth).map((f, i) => `IB${f} = ${quote(f, cursor![i]!)}`), `IB${key[depth]} > ${quote(key[depth]!, cursor[depth]!)}`] : [];
        const where = conditions.length > 0 ? ` where ${conditions.join(' and ')}` : '';
        page.push(...(await client.select(`IBPUNO, IBPNLI, IBPNLS from MPLINE${where}`, { SEPC: ';', maxrecs: String(pageSize - page.length) })));
        if (page.length >= pageSize) break;
      }
      seen.push(...page);
      if (page.length < pageSize) break;
      cursor = page[page.length - 1]!.split(';');
    }
    expect(seen).toEqual(emulator.truth('MPLINE', '100').map((r) => `${r.PUNO};${r.PNLI};${r.PNLS}`));
  });
});
