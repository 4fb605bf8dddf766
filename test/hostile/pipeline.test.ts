// Hostile CloudSuite data through the whole pipeline: the real state machine run locally (runLocalSync) with
// the real loader into the warehouse emulator, against a tenant whose answers are damaged by a proxy, one
// damage per unit. Each damaged unit fails with its own clear cause while the healthy table still commits;
// nothing of a failed unit lands: no manifest, no row in the warehouse, no watermark.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalState } from '../../infra/local/localState.ts';
import { runLocalSync, type LocalSyncResult } from '../../infra/local/runLocalSync.ts';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { startWarehouseEmulator } from '#emulators/databricks/index.ts';
import { capturingLog } from '../support/cloudSuite.ts';
import { LATIN1_MALMO, spliceBytes, startMiProxy, withRecords, type MiProxy } from './support/hostile.ts';

const TEN_K = ('Lång "text" ; | 株式会社 😀 ').repeat(500).slice(0, 10_000);

let emulator: CloudSuiteEmulator;
let proxy: MiProxy;
let stateDir: string;
let result: LocalSyncResult;
let longAgreement: { SUNO: string; AGNB: string } | undefined;
let badSupplier: string | undefined;

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 51 });
  proxy = await startMiProxy(emulator, (call, body) => {
    const { company } = call;
    if (call.transaction === 'LstSuppliers' && company === '100') {
      // A numeric field arriving with text (CRTP is N2): extraction stages it as M3 sent it; the load refuses it.
      return withRecords(body, (records) => {
        badSupplier ??= records[0]!.SUNO;
        if (records[0]!.SUNO === badSupplier) records[0]!.CRTP = 'X1';
      });
    }
    if (call.transaction === 'LstSuppliers' && company === '200') return withRecords(body, (records) => (records[0]!.SUNO = ''));
    if (call.transaction === 'LstSuppliers' && company === '300') {
      return spliceBytes(withRecords(body, (records) => (records[0]!.SUNM = 'NAME-TO-REENCODE')), 'NAME-TO-REENCODE', LATIN1_MALMO);
    }
    if (call.transaction === 'LstAgrHead' && company === '100') {
      return withRecords(body, (records) => {
        longAgreement = { SUNO: records[0]!.SUNO!, AGNB: records[0]!.AGNB! };
        records[0]!.TX30 = TEN_K;
      });
    }
    return undefined;
  });
  stateDir = await mkdtemp(path.join(tmpdir(), 'hostile-pipeline-'));
  const ionapiFile = path.join(stateDir, 'tenant.ionapi');
  await writeFile(ionapiFile, JSON.stringify(proxy.ionapi));
  result = await runLocalSync({ stateDir, ionapiFile, flows: ['suppliers', 'purchase-agreements'], progress: () => undefined, log: capturingLog() });
}, 60_000);

afterAll(async () => {
  await proxy.close();
  await emulator.close();
});

async function warehouse<T>(fn: (query: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
  const wh = await startWarehouseEmulator({ dbFile: path.join(stateDir, 'databricks', 'warehouse.duckdb') });
  try {
    return await fn((sql) => wh.query(sql));
  } finally {
    await wh.close();
  }
}

describe('a run over damaged CloudSuite answers', () => {
  it('fails exactly the damaged units, each with a cause naming entity, company, call or key and field', () => {
    expect(result.status).toBe('failed');
    expect(result.error).toBe('UnitsFailed');
    expect(result.cause).toMatch(/^3 of 6 units failed: /);
    expect(result.cause).toContain(`suppliers/100 (RecordValueError: suppliers ["100","${badSupplier}"]: field CRTP has value "X1", which is not a valid number for N2`);
    expect(result.cause).toContain('suppliers/200 (BlankKeyError: suppliers, company 200: CRS620MI/LstSuppliers returned a record whose key field SUNO is blank');
    expect(result.cause).toContain('suppliers/300 (MiProtocolError: CRS620MI/LstSuppliers: unexpected response from the M3 MI API: the body is not valid UTF-8');
    expect(result.cause).toContain(`{"rerunOf": "${result.executionName}"}`);
    const statuses = Object.fromEntries(result.units.map((u) => [u.unitId, u.status]));
    expect(statuses).toEqual({
      'suppliers/100': 'failed', 'suppliers/200': 'failed', 'suppliers/300': 'failed',
      'purchase-agreements/100': 'committed', 'purchase-agreements/200': 'committed', 'purchase-agreements/300': 'committed',
    });
    for (const secret of [emulator.ionapi.cs!, emulator.ionapi.sask!, emulator.ionapi.saak!]) {
      expect(JSON.stringify(result.units) + result.cause).not.toContain(secret);
    }
  });

  it('lands nothing of the failed units: no staged manifest where extraction failed, no warehouse row, no watermark', async () => {
    // A real tenant: the run kept its state and staged files in the state folder (no dynalite, no s3rver).
    const local = await openLocalState(stateDir, 'files', capturingLog());
    try {
      const keys = await local.state.store.list('runs/');
      const manifests = keys.filter((k) => k.endsWith('/manifest.json')).map((k) => k.split('/').slice(3, -1).join('/')).sort();
      // suppliers/100 extracted (its bad value is only found at load); 200 and 300 never completed.
      expect(manifests).toEqual(['purchase-agreements/100', 'purchase-agreements/200', 'purchase-agreements/300', 'suppliers/100']);
      expect(keys.filter((k) => /\/suppliers\/(200|300)\//.test(k))).toEqual([]);

      const marks = await local.state.watermarks.list('ACME_PRD');
      expect(marks.map((m) => `${m.entity}/${m.company}`).sort()).toEqual(['purchase_agreements/100', 'purchase_agreements/200', 'purchase_agreements/300']);
    } finally {
      await local.close();
    }
    await warehouse(async (query) => {
      expect(await query('SELECT count(*) AS n FROM main.cloudsuite.suppliers')).toEqual([{ n: 0n }]);
      expect(await query('SELECT count(*) AS n FROM main.cloudsuite.suppliers_history')).toEqual([{ n: 0n }]);
    });
  });

  it('commits the healthy table, with the 10,000-character text exactly as M3 sent it', async () => {
    expect(longAgreement).toBeDefined();
    const truth = (['100', '200', '300'] as const).reduce((n, c) => n + emulator.truth('MPAGRH', c).length, 0);
    await warehouse(async (query) => {
      expect(await query('SELECT count(*) AS n FROM main.cloudsuite.purchase_agreements')).toEqual([{ n: BigInt(truth) }]);
      const [row] = await query(
        `SELECT tx30, _record FROM main.cloudsuite.purchase_agreements WHERE _company = '100' AND suno = '${longAgreement!.SUNO}' AND agnb = '${longAgreement!.AGNB}'`,
      );
      expect(row!.tx30).toBe(TEN_K);
      expect(JSON.parse(String(row!._record)).TX30).toBe(TEN_K);
    });
  });
});
