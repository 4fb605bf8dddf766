// The MI REST v2 contract: response and NOK shapes, control parameters, strict inputs, company and
// division sessions, paging semantics per knob, value formatting, and each emulated transaction.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_KNOBS, startCloudSuiteEmulator, type CloudSuiteEmulator, type M3Row } from '../../../infra/local/emulators/cloudsuite/index.ts';
import { PLAIN, TestClient } from './testClient.ts';

let emulator: CloudSuiteEmulator;
let client: TestClient;

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 3 });
  client = new TestClient(emulator);
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.knobs = { ...DEFAULT_KNOBS };
});

const pick = (row: M3Row, fields: string[]) => Object.fromEntries(fields.map((f) => [f, row[f] ?? '']));
const bigOrder = () => {
  const counts = new Map<string, number>();
  for (const line of emulator.truth('MPLINE', '100')) counts.set(line.PUNO!, (counts.get(line.PUNO!) ?? 0) + 1);
  return [...counts].find(([, n]) => n === 1200)![0];
};

describe('response shapes', () => {
  it('answers a list in the v2 shape with string values only', async () => {
    const { body } = await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: '5' });
    expect(body).toMatchObject({ wasTerminated: false, nrOfSuccessfullTransactions: 1, nrOfFailedTransactions: 0 });
    expect(body.results).toHaveLength(1);
    expect(body.results[0]!.transaction).toBe('LstSuppliers');
    expect(body.results[0]!.records).toHaveLength(5);
    for (const record of body.results[0]!.records) for (const value of Object.values(record)) expect(typeof value).toBe('string');
  });

  it('answers a single-call NOK with HTTP 400 and the error at top level, message blank-padded', async () => {
    const nok = await client.nok('PPS200MI', 'GetHead', { ...PLAIN, PUNO: 'NOSUCHPO' });
    expect(nok).toMatchObject({ errorType: 'ServerReturnedNOK', errorCode: 'WPU0103', errorField: 'PUNO', errorCfg: '', nrOfFailedTransactions: 1 });
    expect(nok.errorMessage).toMatch(/^Purchase order number NOSUCHPO does not exist +$/);
    expect(nok.errorMessage.length).toBeGreaterThanOrEqual(60);
    expect(nok).not.toHaveProperty('results');
  });

  it.each([
    ['an unknown program', 'XXS999MI', 'LstSomething'],
    ['an unknown transaction', 'CRS620MI', 'LstEverything'],
  ])('answers %s with a NOK', async (_case, program, transaction) => {
    const nok = await client.nok(program, transaction, PLAIN);
    expect(nok.errorType).toBe('ServerReturnedNOK');
    expect(nok.errorMessage).toContain(program === 'XXS999MI' ? program : transaction);
  });

  it('pretty-prints with format=PRETTY', async () => {
    const answer = await client.raw('MNS150MI', 'GetUserData', { ...PLAIN, format: 'PRETTY' });
    expect(answer.text).toContain('\n  "results"');
  });
});

describe('control parameters', () => {
  it('pads alpha values to the field length unless righttrim=true; numerics never', async () => {
    const padded = (await client.mi('CRS620MI', 'LstSuppliers', { maxrecs: '3', excludeempty: 'false', returncols: 'CONO,SUNO,SUNM,CFI2' })).records;
    for (const r of padded) {
      expect(r.SUNO).toHaveLength(10);
      expect(r.SUNM).toHaveLength(36);
      expect(r.CONO).toBe('100');
      expect(r.CFI2).not.toMatch(/ /);
    }
    const trimmed = (await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: '3', returncols: 'SUNO,SUNM' })).records;
    expect(trimmed.map((r) => r.SUNM)).toEqual(padded.map((r) => r.SUNM!.replace(/ +$/, '')));
  });

  it('leaves empty fields out unless excludeempty=false', async () => {
    const all = (await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: '0' })).records;
    const sparse = (await client.mi('CRS620MI', 'LstSuppliers', { righttrim: 'true', maxrecs: '0' })).records;
    expect(all.every((r) => 'ECAR' in r)).toBe(true);
    const blank = all.findIndex((r) => r.ECAR === '');
    expect(blank).toBeGreaterThanOrEqual(0);
    expect(sparse[blank]).not.toHaveProperty('ECAR');
  });

  it('returns only returncols, and rejects an unknown output field', async () => {
    const { records } = await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: '2', returncols: 'SUNM,SUNO' });
    expect(Object.keys(records[0]!)).toEqual(['SUNM', 'SUNO']);
    const nok = await client.nok('CRS620MI', 'LstSuppliers', { ...PLAIN, returncols: 'SUNO,STAT' });
    expect(nok.errorField).toBe('STAT');
  });

  it('accepts control parameters as matrix parameters, as Infor\'s SDK sends them', async () => {
    const answer = await client.raw('CRS620MI', 'LstSuppliers', { _rid: '12345' }, { matrix: ';metadata=false;maxrecs=2;excludempty=false;righttrim=true;returncols=SUNO,ECAR' });
    expect(answer.status).toBe(200);
    const records = JSON.parse(answer.text).results[0].records as M3Row[];
    expect(records).toHaveLength(2);
    expect(Object.keys(records[0]!)).toEqual(['SUNO', 'ECAR']);
    expect((await client.raw('CRS620MI', 'LstSuppliers', {}, { matrix: ';colour=blue' })).status).toBe(400);
  });

  it.each([
    ['an input that is not a field of the transaction', { SUNO: 'S00001' }, 'SUNO'],
    ['a field name in lower case', { frsu: 'S00001' }, 'frsu'],
    ['a non-numeric numeric input', { CONO: 'abc' }, 'CONO'],
    ['an alpha input longer than its field', { FRSU: 'S000010000000' }, 'FRSU'],
  ])('rejects %s with a NOK naming the field', async (_case, inputs, field) => {
    const nok = await client.nok('CRS620MI', 'LstSuppliers', { ...PLAIN, ...inputs });
    expect(nok.errorField).toBe(field);
  });

  it('rejects a date format other than YMD8 and a bad maxrecs', async () => {
    await client.nok('CRS620MI', 'LstSuppliers', { ...PLAIN, dateformat: 'YMD6' });
    await client.nok('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: 'ten' });
  });

  it('sends 100 records without maxrecs, all with 0, and silently caps both at maxrecsCap', async () => {
    const puno = bigOrder();
    const lines = (q: Record<string, string>) => client.mi('PPS200MI', 'LstLine', { ...PLAIN, PUNO: puno, returncols: 'PNLI', ...q }).then((r) => r.records.length);
    expect(await lines({})).toBe(100);
    expect(await lines({ maxrecs: '0' })).toBe(1200);
    expect(await lines({ maxrecs: '7' })).toBe(7);
    emulator.knobs.maxrecsCap = 500;
    expect(await lines({ maxrecs: '0' })).toBe(500);
    expect(await lines({ maxrecs: '1000' })).toBe(500);
    expect(await lines({ maxrecs: '7' })).toBe(7);
  });
});

describe('company and division', () => {
  it('answers XAU0008 on CONO for a company the user may not see, as input or session', async () => {
    for (const query of [{ CONO: '999' }, { cono: '999' }] as Record<string, string>[]) {
      const nok = await client.nok('CRS620MI', 'LstSuppliers', { ...PLAIN, ...query });
      expect(nok).toMatchObject({ errorCode: 'XAU0008', errorField: 'CONO' });
    }
  });

  it('uses the CONO input, else the session company, else the user default (the first company)', async () => {
    const suppliersOf = async (q: Record<string, string>) => (await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: '0', returncols: 'CONO', ...q })).records.map((r) => r.CONO);
    expect(new Set(await suppliersOf({}))).toEqual(new Set(['100']));
    expect(new Set(await suppliersOf({ cono: '200' }))).toEqual(new Set(['200']));
    expect(new Set(await suppliersOf({ cono: '200', CONO: '300' }))).toEqual(new Set(['300']));
  });

  it('rejects a session division the company does not have', async () => {
    const nok = await client.nok('MNS150MI', 'GetUserData', { ...PLAIN, cono: '100', divi: 'ZZZ' });
    expect(nok.errorField).toBe('DIVI');
  });
});

describe('list paging semantics', () => {
  const sunos = (records: M3Row[]) => records.map((r) => r.SUNO);

  it('lists suppliers in code-unit order of SUNO (not numeric order)', async () => {
    const all = sunos((await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: '0', returncols: 'SUNO' })).records);
    expect(all).toEqual(emulator.truth('CIDMAS', '100').map((r) => r.SUNO));
    expect(all.indexOf('10')).toBeLessThan(all.indexOf('9'));
    expect(all.indexOf('100')).toBeLessThan(all.indexOf('9'));
  });

  it('returns the start-key row again when startRowInclusive (M3), not when off', async () => {
    const truth = emulator.truth('CIDMAS', '100').map((r) => r.SUNO!);
    const start = truth[10]!;
    const inclusive = sunos((await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: '3', FRSU: start })).records);
    expect(inclusive).toEqual(truth.slice(10, 13));
    emulator.knobs.startRowInclusive = false;
    const exclusive = sunos((await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: '3', FRSU: start })).records);
    expect(exclusive).toEqual(truth.slice(11, 14));
  });

  it.each([true, false])('pages through every supplier by start key (startRowInclusive %s)', async (inclusive) => {
    emulator.knobs.startRowInclusive = inclusive;
    const seen: string[] = [];
    let from: string | undefined;
    for (;;) {
      const page = sunos((await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: '7', ...(from ? { FRSU: from } : {}) })).records) as string[];
      const fresh = from !== undefined && inclusive ? page.slice(1) : page;
      seen.push(...fresh);
      if (page.length < 7) break;
      from = page[page.length - 1];
    }
    expect(seen).toEqual(emulator.truth('CIDMAS', '100').map((r) => r.SUNO));
  });

  it('stops at TOSU and filters on LMTS (changed after the last import)', async () => {
    const truth = emulator.truth('CIDMAS', '100');
    const ranged = sunos((await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: '0', FRSU: truth[2]!.SUNO!, TOSU: truth[5]!.SUNO! })).records);
    expect(ranged).toEqual(truth.slice(2, 6).map((r) => r.SUNO));
    const since = [...truth].map((r) => BigInt(r.LMTS!)).sort((a, b) => (a < b ? -1 : 1))[20]!;
    const changed = sunos((await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: '0', LMTS: String(since) })).records);
    expect(changed).toEqual(truth.filter((r) => BigInt(r.LMTS!) > since).map((r) => r.SUNO));
  });
});

describe('transactions', () => {
  it('CRS620MI/LstSuppliers returns exactly the stored suppliers, projected on its outputs', async () => {
    const { records } = await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, maxrecs: '0', CONO: '200' });
    const fields = Object.keys(records[0]!);
    expect(fields).not.toContain('STAT');
    expect(fields).not.toContain('LMDT');
    expect(records).toEqual(emulator.truth('CIDMAS', '200').map((r) => pick(r, fields)));
  });

  it('CRS630MI/LstAccountID needs AITP, lists one division of the session company from AITM', async () => {
    expect((await client.nok('CRS630MI', 'LstAccountID', { ...PLAIN, DIVI: 'A01' })).errorField).toBe('AITP');
    expect((await client.nok('CRS630MI', 'LstAccountID', { ...PLAIN, AITP: '1', CONO: '100' })).errorField).toBe('CONO');
    expect((await client.nok('CRS630MI', 'LstAccountID', { ...PLAIN, AITP: '1', DIVI: 'Q99' })).errorField).toBe('DIVI');
    const truth = emulator.truth('FCHACC', '200').filter((r) => r.DIVI === 'C02' && r.AITP === '1');
    const { records } = await client.mi('CRS630MI', 'LstAccountID', { ...PLAIN, maxrecs: '0', cono: '200', AITP: '1', DIVI: 'C02' });
    expect(records.map((r) => pick(r, ['CONO', 'DIVI', 'AITP', 'AITM', 'TX40', 'LMDT', 'CHNO', 'LMTS']))).toEqual(
      truth.map((r) => pick(r, ['CONO', 'DIVI', 'AITP', 'AITM', 'TX40', 'LMDT', 'CHNO', 'LMTS'])),
    );
    const bySession = await client.mi('CRS630MI', 'LstAccountID', { ...PLAIN, maxrecs: '0', cono: '200', divi: 'C02', AITP: '1' });
    expect(bySession.records).toEqual(records);
    const from = await client.mi('CRS630MI', 'LstAccountID', { ...PLAIN, maxrecs: '2', cono: '200', AITP: '1', DIVI: 'C02', AITM: truth[4]!.AITM! });
    expect(from.records.map((r) => r.AITM)).toEqual([truth[4]!.AITM, truth[5]!.AITM]);
  });

  it('PPS100MI/LstAgrHead lists agreements in key order and takes no start key', async () => {
    const { records } = await client.mi('PPS100MI', 'LstAgrHead', { ...PLAIN, maxrecs: '0', CONO: '300' });
    expect(records).toEqual(emulator.truth('MPAGRH', '300').map((r) => pick(r, ['SUNO', 'AGNB', 'AGTP', 'FVDT', 'UVDT', 'PAST', 'TX30', 'VAGN', 'FACI', 'ACGR'])));
    expect((await client.nok('PPS100MI', 'LstAgrHead', { ...PLAIN, SUNO: 'S00001' })).errorField).toBe('SUNO');
  });

  it('PPS200MI/GetHead answers one order with joined names; LstLine its lines in line order', async () => {
    const head = emulator.truth('MPHEAD', '100')[3]!;
    const { records } = await client.mi('PPS200MI', 'GetHead', { ...PLAIN, PUNO: head.PUNO! });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ PUNO: head.PUNO, SUNO: head.SUNO, NTAM: head.NTAM, DATE: head.RGDT, CONM: 'ACME Nordic AB' });
    const lines = await client.mi('PPS200MI', 'LstLine', { ...PLAIN, maxrecs: '0', PUNO: head.PUNO! });
    expect(lines.records.map((r) => [r.PNLI, r.PNLS, r.LNAM])).toEqual(
      emulator.truth('MPLINE', '100').filter((l) => l.PUNO === head.PUNO).map((l) => [l.PNLI, l.PNLS, l.LNAM]),
    );
    expect((await client.nok('PPS200MI', 'LstLine', { ...PLAIN })).errorField).toBe('PUNO');
    expect((await client.nok('PPS200MI', 'LstLine', { ...PLAIN, PUNO: 'X' })).errorCode).toBe('WPU0103');
  });

  it('MNS100MI/LstDivisions lists the real divisions, not the blank company row', async () => {
    const { records } = await client.mi('MNS100MI', 'LstDivisions', { ...PLAIN, CONO: '100' });
    expect(records.map((r) => r.DIVI)).toEqual(['A01', 'A02', 'B10']);
    expect(emulator.truth('CMNDIV', '100').map((r) => r.DIVI)).toEqual(['', 'A01', 'A02', 'B10']);
    expect((await client.nok('MNS100MI', 'LstDivisions', PLAIN)).errorField).toBe('CONO');
  });

  it('MNS150MI/GetUserData answers the service user and the session company and division', async () => {
    const defaults = (await client.mi('MNS150MI', 'GetUserData', PLAIN)).records[0]!;
    expect(defaults).toMatchObject({ USID: 'M3SRVSYNC', CONO: '100', DIVI: '', DTFM: 'YMD', LANC: 'GB' });
    const session = (await client.mi('MNS150MI', 'GetUserData', { ...PLAIN, cono: '200', divi: 'C01' })).records[0]!;
    expect(session).toMatchObject({ CONO: '200', DIVI: 'C01' });
  });

  it('MRS001MI/LstAdtFieldInf describes exactly the fields each transaction answers', async () => {
    const cases: [string, string, Record<string, string>][] = [
      ['CRS620MI', 'LstSuppliers', {}],
      ['CRS630MI', 'LstAccountID', { AITP: '1', DIVI: 'A01' }],
      ['PPS100MI', 'LstAgrHead', {}],
      ['PPS200MI', 'GetHead', { PUNO: emulator.truth('MPHEAD', '100')[0]!.PUNO! }],
      ['PPS200MI', 'LstLine', { PUNO: emulator.truth('MPHEAD', '100')[0]!.PUNO! }],
      ['MNS100MI', 'LstDivisions', { CONO: '100' }],
      ['MNS150MI', 'GetUserData', {}],
      ['EXPORTMI', 'LstFields', { FILE: 'CIDMAS' }],
    ];
    for (const [program, transaction, inputs] of cases) {
      const meta = (await client.mi('MRS001MI', 'LstAdtFieldInf', { ...PLAIN, maxrecs: '0', MINM: program, TRNM: transaction, TRTP: 'O' })).records;
      const answer = (await client.mi(program, transaction, { ...PLAIN, maxrecs: '1', ...inputs })).records[0]!;
      expect(meta.map((m) => m.FLNM), `${program}/${transaction}`).toEqual(Object.keys(answer));
    }
    const lineMeta = (await client.mi('MRS001MI', 'LstAdtFieldInf', { ...PLAIN, maxrecs: '0', MINM: 'PPS200MI', TRNM: 'LstLine', TRTP: 'O' })).records;
    expect(lineMeta.find((m) => m.FLNM === 'ORQA')).toMatchObject({ TYPE: 'N', LENG: '15', FLDP: '6', FLDS: 'Ordered quantity - alternate U/M' });
    expect(lineMeta.find((m) => m.FLNM === 'DWDT')).toMatchObject({ TYPE: 'D', LENG: '8' });
    const input = (await client.mi('MRS001MI', 'LstAdtFieldInf', { ...PLAIN, MINM: 'PPS200MI', TRNM: 'LstLine', TRTP: 'I' })).records;
    expect(input.map((m) => [m.FLNM, m.MAND])).toEqual([['PUNO', '1'], ['CONO', '0']]);
    expect((await client.nok('MRS001MI', 'LstAdtFieldInf', { ...PLAIN, MINM: 'CRS620MI', TRNM: 'LstSuppliers', TRTP: 'X' })).errorField).toBe('TRTP');
    expect((await client.nok('MRS001MI', 'LstAdtFieldInf', { ...PLAIN, MINM: 'NOPE', TRNM: 'Lst', TRTP: 'O' })).errorField).toBe('MINM');
  });

  it('EXPORTMI/LstFields lists prefixed columns with type, length and decimals', async () => {
    const info = emulator.tableInfo('MPLINE');
    const { records } = await client.mi('EXPORTMI', 'LstFields', { ...PLAIN, maxrecs: '0', FILE: 'MPLINE' });
    expect(records.map((r) => r.FLDN)).toEqual(info.fields.map((f) => `IB${f.name}`));
    expect(records.find((r) => r.FLDN === 'IBPUPR')).toMatchObject({ FLTY: 'N', FLLE: '17', FLDP: '6' });
    expect(records.every((r) => r.FLDS!.length <= 15)).toBe(true);
    // A table wider than the default maxrecs: metadata needs maxrecs=0 too.
    expect(info.fields.length).toBeGreaterThan(100);
    expect((await client.mi('EXPORTMI', 'LstFields', { ...PLAIN, FILE: 'MPLINE' })).records).toHaveLength(100);
    expect((await client.nok('EXPORTMI', 'LstFields', { ...PLAIN, FILE: 'NOTABLE' })).errorField).toBe('FILE');
  });
});
