// `npm run bench:load`: statements and bytes sent per 100k records, and rows per second, loading
// staged units into the warehouse emulator through the real @databricks/sql driver.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startCloudSuiteEmulator } from '../infra/local/emulators/cloudsuite/index.ts';
import { connectToEmulator, startWarehouseEmulator } from '../infra/local/emulators/databricks/index.ts';
import { EntityCatalog } from '../shared/catalog/entityCatalog.ts';
import { connectCloudSuite } from '../shared/cloudsuite/cloudSuiteConnection.ts';
import { extractEntityForCompany } from '../shared/extract/extractEntity.ts';
import { parseIonApiFile } from '../shared/ionapi/ionApiFile.ts';
import { DatabricksSession } from '../shared/load/databricksSession.ts';
import { expectLoaded, loadTable } from '../shared/load/loadTable.ts';
import { LocalFolderBlobStore } from '../shared/staging/localFolderBlobStore.ts';
import { machineLine } from './machine.ts';

export interface LoadRun {
  pass: 'first load' | 'reload (no-op)';
  entity: string;
  records: number;
  seconds: number;
  statements: number;
  bytesSent: number;
  currentInserted: number;
  currentUpdated: number;
  historyInserted: number;
}

/** Extracts `records` GL transactions (and 5,000 suppliers) from the emulator, then loads them twice. */
export async function measureLoad(records = 100_000): Promise<LoadRun[]> {
  const catalog = EntityCatalog.withDefaults();
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-load-'));
  const store = new LocalFolderBlobStore(path.join(dir, 'staging'));
  const cloudsuite = await startCloudSuiteEmulator({ seed: 4, volume: { companies: ['100'], glTransactions: records, suppliers: 5000 } });
  const { mi } = connectCloudSuite(parseIonApiFile(JSON.stringify(cloudsuite.ionapi), 'bench.ionapi'));
  const staged: Record<string, { unitId: string; unitPrefix: string }[]> = {};
  for (const id of ['gl_transactions', 'suppliers']) {
    const units = await extractEntityForCompany({
      tenant: cloudsuite.tenant, entity: { ...catalog.get(id), pageSize: 5000 }, company: '100', window: { since: null, until: null },
      runId: 'bench', runStartedAt: '2026-11-20T00:00:00.000Z', mi, store, prefix: id,
    });
    staged[id] = units.map((u) => ({ unitId: u.unitPrefix, unitPrefix: u.unitPrefix }));
  }
  await cloudsuite.close();

  const warehouse = await startWarehouseEmulator({ dbFile: path.join(dir, 'warehouse.duckdb') });
  const { client } = await connectToEmulator(warehouse);
  const session = new DatabricksSession({ client });
  const runs: LoadRun[] = [];
  try {
    for (const pass of ['first load', 'reload (no-op)'] as const) {
      for (const [id, units] of Object.entries(staged)) {
        const started = performance.now();
        const result = expectLoaded(await loadTable({
          tenant: 'ACME_PRD', entity: catalog.get(id), table: { catalog: 'main', schema: 'bench', name: id }, units, runId: 'bench', store, warehouse: session,
        }));
        runs.push({
          pass, entity: id, records: result.units.reduce((n, u) => n + u.records, 0), seconds: (performance.now() - started) / 1000,
          statements: result.statements, bytesSent: result.bytesSent, currentInserted: result.currentInserted,
          currentUpdated: result.currentUpdated, historyInserted: result.historyInserted,
        });
      }
    }
  } finally {
    await session.close();
    await client.close();
    await warehouse.close();
    await rm(dir, { recursive: true, force: true });
  }
  return runs;
}

export function describeLoad(r: LoadRun): string {
  const per100k = 100_000 / r.records;
  return (
    `${r.pass}: ${r.entity}: ${r.records} records in ${r.seconds.toFixed(1)} s = ${Math.round(r.records / r.seconds)} rows/s; ` +
    `${r.statements} statements (${(r.statements * per100k).toFixed(0)} per 100k records), ` +
    `${(r.bytesSent / 2 ** 20).toFixed(1)} MiB sent (${((r.bytesSent * per100k) / 2 ** 20).toFixed(1)} MiB per 100k); ` +
    `current +${r.currentInserted} ~${r.currentUpdated}, history +${r.historyInserted}`
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${machineLine()}\n`);
  for (const run of await measureLoad(Number(process.env.BENCH_LOAD_RECORDS ?? 100_000))) process.stdout.write(`${describeLoad(run)}\n`);
}
