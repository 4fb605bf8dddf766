// The ways real tenants differ from the bundled defaults, each behind a knob: tables whose field sets
// differ (missing, extra, other lengths), a table that does not exist, the 10,000-record list cap, slow
// EXPORTMI pages, CHNO wrapping after 999, client-credentials apps, and an empty `divi=` query parameter
// that does not select the blank division.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_KNOBS, startCloudSuiteEmulator, type CloudSuiteEmulator } from '../../../infra/local/emulators/cloudsuite/index.ts';
import { PLAIN, TestClient } from './testClient.ts';

let emulator: CloudSuiteEmulator;
let client: TestClient;

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 11 });
  client = new TestClient(emulator);
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.knobs = { ...DEFAULT_KNOBS };
  emulator.clearFaults();
});

describe('tableFields: a tenant whose table differs from the defaults', () => {
  const drift = () => {
    emulator.knobs.tableFields = {
      MPHEAD: { missing: ['REMK', 'PUSL'], extra: ['ZZRF A20 Modification reference'], lengths: { YRE1: 'A5' } },
      CIDMAS: { missing: ['TINO'] },
    };
  };

  it('LstFields lists the tenant\'s columns: without the missing ones, with extras and other lengths', async () => {
    drift();
    const { records } = await client.mi('EXPORTMI', 'LstFields', { ...PLAIN, maxrecs: '0', FILE: 'MPHEAD' });
    const names = records.map((r) => r.FLDN);
    expect(names).not.toContain('IAREMK');
    expect(names).not.toContain('IAPUSL');
    expect(names.at(-1)).toBe('IAZZRF');
    expect(records.find((r) => r.FLDN === 'IAYRE1')).toMatchObject({ FLTY: 'A', FLLE: '5' });
    expect(records.find((r) => r.FLDN === 'IACHNO')).toMatchObject({ FLTY: 'N', FLLE: '3' });
  });

  it('a Select naming a missing column is a NOK for the whole call; other columns read as the tenant holds them', async () => {
    drift();
    const nok = await client.nok('EXPORTMI', 'Select', { ...PLAIN, QERY: 'IAPUNO, IAREMK from MPHEAD', SEPC: '¤' });
    expect(nok.errorField).toBe('QERY');
    expect(nok.errorMessage).toMatch(/IAREMK does not exist in table MPHEAD/);
    const rows = await client.select('IAPUNO, IAYRE1, IAZZRF from MPHEAD', { SEPC: '¤' });
    const truth = emulator.truth('MPHEAD', '100');
    expect(rows).toEqual(truth.map((r) => [r.PUNO, r.YRE1, r.ZZRF].join('¤')));
    expect(truth.every((r) => r.YRE1!.length <= 5 && !('REMK' in r) && r.ZZRF === '')).toBe(true);
    expect(truth.some((r) => r.YRE1 !== '')).toBe(true);
  });

  it('MI outputs and their metadata lose the column too; returncols naming it is a NOK', async () => {
    drift();
    const { records } = await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, CONO: '100', maxrecs: '3' });
    expect(records[0]).not.toHaveProperty('TINO');
    expect(records[0]).toHaveProperty('SUNM');
    const nok = await client.nok('CRS620MI', 'LstSuppliers', { ...PLAIN, CONO: '100', returncols: 'SUNO,TINO' });
    expect(nok).toMatchObject({ errorCode: 'XFL0104', errorField: 'TINO' });
    const meta = await client.mi('MRS001MI', 'LstAdtFieldInf', { ...PLAIN, maxrecs: '0', MINM: 'CRS620MI', TRNM: 'LstSuppliers', TRTP: 'O' });
    expect(meta.records.map((r) => r.FLNM)).not.toContain('TINO');
    expect(meta.records.map((r) => r.FLNM)).toContain('SUNM');
  });

  it('the defaults have every column (the knob is what removes them)', async () => {
    const rows = await client.select('IAPUNO, IAREMK from MPHEAD', { SEPC: '¤', maxrecs: '1' });
    expect(rows).toHaveLength(1);
  });
});

describe('missingTables', () => {
  it('makes Select and LstFields answer NOK for that table only', async () => {
    emulator.knobs.missingTables = ['FPLEDG'];
    expect((await client.nok('EXPORTMI', 'Select', { ...PLAIN, QERY: 'EPJRNO from FPLEDG' })).errorMessage).toMatch(/table FPLEDG does not exist/);
    expect(await client.nok('EXPORTMI', 'LstFields', { ...PLAIN, FILE: 'FPLEDG' })).toMatchObject({ errorCode: 'WFI0103', errorField: 'FILE' });
    expect(await client.select('EGJRNO from FGLEDG', { SEPC: '¤', maxrecs: '1' })).toHaveLength(1);
  });
});

describe('listCap', () => {
  it('stops list transactions at the cap even with maxrecs=0, and leaves EXPORTMI alone', async () => {
    emulator.knobs.listCap = 7;
    expect((await client.mi('CRS620MI', 'LstSuppliers', { ...PLAIN, CONO: '100', maxrecs: '0' })).records).toHaveLength(7);
    expect((await client.mi('PPS100MI', 'LstAgrHead', { ...PLAIN, CONO: '100', maxrecs: '0' })).records).toHaveLength(7);
    expect((await client.select('IDSUNO from CIDMAS', { SEPC: '¤' })).length).toBe(emulator.truth('CIDMAS', '100').length);
  });

  it('is 10,000 by default, as M3 caps several list transactions', () => {
    expect(DEFAULT_KNOBS.listCap).toBe(10_000);
  });
});

describe('slowExport', () => {
  it('answers 504 after the delay to pages above the size, and normally to small pages', async () => {
    emulator.knobs.slowExport = { aboveRows: 50, delayMs: 30, answer: 504 };
    const big = await client.raw('EXPORTMI', 'Select', { ...PLAIN, QERY: 'IAPUNO from MPHEAD', SEPC: '¤', maxrecs: '51' });
    expect(big.status).toBe(504);
    const all = await client.raw('EXPORTMI', 'Select', { ...PLAIN, QERY: 'IAPUNO from MPHEAD', SEPC: '¤', maxrecs: '0' });
    expect(all.status).toBe(504);
    expect(await client.select('IAPUNO from MPHEAD', { SEPC: '¤', maxrecs: '50' })).toHaveLength(50);
  });

  it("'late' answers the rows after the delay", async () => {
    emulator.knobs.slowExport = { aboveRows: 10, delayMs: 40, answer: 'late' };
    const started = performance.now();
    expect(await client.select('IAPUNO from MPHEAD', { SEPC: '¤', maxrecs: '20' })).toHaveLength(20);
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
  });
});

describe('chnoStep: CHNO is N3 and wraps after 999', () => {
  it('wraps a record\'s change number to below its old value while LMTS keeps growing', () => {
    emulator.knobs.chnoStep = 600;
    const before = new Map(emulator.truth('FAPIBH', '100').map((r) => [r.INBN, r]));
    emulator.mutate({ table: 'FAPIBH', company: '100', updates: 6 });
    emulator.mutate({ table: 'FAPIBH', company: '100', updates: 6 });
    const wrapped = emulator.truth('FAPIBH', '100').filter((r) => {
      const old = before.get(r.INBN!);
      return old && Number(r.CHNO) < Number(old.CHNO) && r.LMTS! > old.LMTS!;
    });
    expect(wrapped.length).toBeGreaterThan(0);
    expect(emulator.truth('FAPIBH', '100').every((r) => Number(r.CHNO) <= 999)).toBe(true);
  });
});

describe('backendApp: client-credentials apps', () => {
  it('writes a .ionapi without saak/sask, grants client_credentials without a refresh token and refuses the password grant', async () => {
    emulator.knobs.backendApp = 'client-credentials';
    const io = emulator.ionapi;
    expect(io).not.toHaveProperty('saak');
    expect(io).not.toHaveProperty('sask');
    expect(io).toMatchObject({ cn: expect.any(String), ci: expect.any(String), cs: expect.any(String), pu: expect.any(String), ot: 'token.oauth2' });
    const granted = await client.post(client.tokenUrl, { grant_type: 'client_credentials', client_id: io.ci!, client_secret: io.cs! });
    expect(granted.status).toBe(200);
    const body = JSON.parse(granted.text) as Record<string, unknown>;
    expect(body.access_token).toEqual(expect.any(String));
    expect(body).not.toHaveProperty('refresh_token');
    expect(emulator.counters.clientCredentialsGrants).toBeGreaterThan(0);
    const password = await client.post(client.tokenUrl, { grant_type: 'password', username: 'x', password: 'y', client_id: io.ci!, client_secret: io.cs! });
    expect(JSON.parse(password.text)).toMatchObject({ error: 'unauthorized_client' });
    const wrongSecret = await client.post(client.tokenUrl, { grant_type: 'client_credentials', client_id: io.ci!, client_secret: 'nope' });
    expect(wrongSecret.status).toBe(401);
  });
});

describe('the session division: emptyDiviQueryParameter and userDefaultDivision', () => {
  const division = async (how: { query?: Record<string, string>; matrix?: string }) => {
    const answer = await client.raw('MNS150MI', 'GetUserData', { ...PLAIN, cono: '100', ...how.query }, how.matrix === undefined ? {} : { matrix: how.matrix });
    return (JSON.parse(answer.text) as { results: { records: Record<string, string>[] }[] }).results[0]!.records[0]!.DIVI;
  };

  it('by default a blank divi= in the query and in the matrix both give the blank division', async () => {
    expect(await division({ query: { divi: '' } })).toBe('');
    expect(await division({ matrix: ';divi=' })).toBe('');
  });

  it('when the query form is ignored, only the matrix form selects the blank division', async () => {
    emulator.knobs.userDefaultDivision = 'first';
    emulator.knobs.emptyDiviQueryParameter = 'ignored';
    expect(await division({})).toBe('A01');
    expect(await division({ query: { divi: '' } })).toBe('A01');
    expect(await division({ matrix: ';divi=' })).toBe('');
    expect(await division({ query: { divi: 'A02' } })).toBe('A02');
  });

  it('decides whether EXPORTMI division conditions apply', async () => {
    emulator.knobs.userDefaultDivision = 'first';
    emulator.knobs.emptyDiviQueryParameter = 'ignored';
    const query = "EADIVI from FCHACC where EADIVI = 'B10'";
    const viaQuery = await client.select(query, { SEPC: '¤', maxrecs: '5', cono: '100', divi: '' });
    expect(viaQuery.some((d) => d !== 'B10')).toBe(true);
    const answer = await client.raw('EXPORTMI', 'Select', { ...PLAIN, QERY: query, SEPC: '¤', maxrecs: '5' }, { matrix: ';cono=100;divi=' });
    const rows = (JSON.parse(answer.text) as { results: { records: { REPL: string }[] }[] }).results[0]!.records.map((r) => r.REPL);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((d) => d === 'B10')).toBe(true);
  });
});
