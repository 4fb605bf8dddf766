// Change dates from the future, or malformed, through the whole pipeline (the real state machine run locally
// against a tenant whose answers a proxy damages, the real loader, the warehouse emulator). One invoice dated
// 20991231 used to move the watermark to 2099 (every later incremental run then read nothing, silently); one
// dated "9" sorted above every real date, loaded, and then failed Commit on every run. Now each fails its unit
// at extraction, naming the record's key and the value; the healthy company commits with a watermark no later
// than today; nothing of the damaged units lands.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalState } from '../../infra/local/localState.ts';
import { runLocalSync, type LocalSyncResult } from '../../infra/local/runLocalSync.ts';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { startWarehouseEmulator } from '#emulators/databricks/index.ts';
import { dateInZone } from '#shared/runtime/zonedDate.ts';
import { capturingLog } from '../support/cloudSuite.ts';
import { startMiProxy, withRecords, type MiProxy } from './support/hostile.ts';

/** The change date each company's first invoice gets (company 300 keeps M3's own). */
const DAMAGE: Record<string, string> = { '100': '20991231', '200': '9' };

let emulator: CloudSuiteEmulator;
let proxy: MiProxy;
let stateDir: string;
let result: LocalSyncResult;
/** The key (CONO, DIVI, INBN) of the invoice damaged per company. */
const damagedKey: Record<string, string> = {};

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 52 });
  proxy = await startMiProxy(emulator, (call, body) => {
    const query = call.url.searchParams.get('QERY') ?? '';
    const separator = call.url.searchParams.get('SEPC');
    const company = call.company ?? '';
    const value = DAMAGE[company];
    if (call.program !== 'EXPORTMI' || !query.includes(' from FAPIBH') || !separator || value === undefined) return undefined;
    const columns = query.split(' from ')[0]!.split(', ');
    const at = columns.indexOf('E5LMDT');
    // Only the column group that carries LMDT changes: the key and CHNO in every group still agree.
    if (at < 0) return undefined;
    return withRecords(body, (records) => {
      const first = records[0];
      if (!first) return;
      const values = first.REPL!.split(separator);
      damagedKey[company] ??= JSON.stringify(['E5CONO', 'E5DIVI', 'E5INBN'].map((c) => values[columns.indexOf(c)]));
      values[at] = value;
      first.REPL = values.join(separator);
    });
  });
  stateDir = await mkdtemp(path.join(tmpdir(), 'hostile-dates-'));
  const ionapiFile = path.join(stateDir, 'tenant.ionapi');
  await writeFile(ionapiFile, JSON.stringify(proxy.ionapi));
  result = await runLocalSync({ stateDir, ionapiFile, flows: ['supplier-invoices'], progress: () => undefined, log: capturingLog() });
}, 90_000);

afterAll(async () => {
  await proxy.close();
  await emulator.close();
});

describe('an incremental read meeting a change date from the future, and a malformed one', () => {
  it('fails exactly those units at extraction, naming the record key, the field and the value', () => {
    expect(damagedKey['100']).toBeDefined();
    expect(damagedKey['200']).toBeDefined();
    expect(Object.fromEntries(result.units.map((u) => [u.unitId, u.status]))).toEqual({
      'supplier-invoices/100': 'failed', 'supplier-invoices/200': 'failed', 'supplier-invoices/300': 'committed',
    });
    const errors = Object.fromEntries(result.units.map((u) => [u.unitId, u.error]));
    expect(errors['supplier-invoices/100']).toEqual({
      name: 'ChangeDateError',
      message: expect.stringMatching(
        new RegExp(
          `^supplier_invoices, company 100: record ${damagedKey['100']!.replace(/[[\]]/g, '\\$&')}: its change date LMDT is 20991231, after the run's date plus 1 day \\(\\d{8}\\) in the tenant's time zone; nothing was staged as complete and no watermark moved`,
        ),
      ),
    });
    expect(errors['supplier-invoices/200']).toEqual({
      name: 'ChangeDateError',
      message: expect.stringContaining(`supplier_invoices, company 200: record ${damagedKey['200']}: its change date LMDT is "9", which is not a yyyyMMdd calendar date`),
    });
    // Failed before anything was staged as complete: never loaded, so never a Commit to fail over and over.
    for (const unitId of ['supplier-invoices/100', 'supplier-invoices/200']) {
      expect(result.units.find((u) => u.unitId === unitId)!.recordsLoaded ?? 0).toBe(0);
    }
  });

  it('moves no watermark into the future: only company 300 has one, no later than today in the tenant\'s zone', async () => {
    const local = await openLocalState(stateDir, 'files', capturingLog());
    try {
      const marks = await local.state.watermarks.list('ACME_PRD');
      expect(marks.map((m) => `${m.entity}/${m.company}`)).toEqual(['supplier_invoices/300']);
      expect(marks[0]!.changeDate <= dateInZone(Date.now(), 'Europe/Stockholm')).toBe(true);
      const manifests = (await local.state.store.list('runs/')).filter((k) => k.endsWith('/manifest.json'));
      expect(manifests.map((k) => k.split('/').slice(3, -1).join('/'))).toEqual(['supplier-invoices/300']);
    } finally {
      await local.close();
    }
    const warehouse = await startWarehouseEmulator({ dbFile: path.join(stateDir, 'databricks', 'warehouse.duckdb') });
    try {
      expect(await warehouse.query("SELECT DISTINCT _company FROM main.cloudsuite.supplier_invoices")).toEqual([{ _company: '300' }]);
    } finally {
      await warehouse.close();
    }
  });
});
