// `npm run bench:load`: statements and bytes sent per 100k records, and rows per second, loading
// staged units into the warehouse emulator through the real @databricks/sql driver.
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { startCloudSuiteEmulator } from '../test/emulators/cloudsuite/index.ts';
import { connectToEmulator, startWarehouseEmulator } from '../test/emulators/databricks/index.ts';
import { EntityCatalog } from '../shared/catalog/entityCatalog.ts';
import { connectCloudSuite } from '../shared/cloudsuite/cloudSuiteConnection.ts';
import { extractEntityForCompany } from '../shared/extract/extractEntity.ts';
import { parseIonApiFile } from '../shared/ionapi/ionApiFile.ts';
import { DatabricksSession } from '../shared/load/databricksSession.ts';
import { loadTable } from '../shared/load/loadTable.ts';
import { LocalFolderBlobStore } from '../shared/staging/localFolderBlobStore.ts';

const RECORDS = Number(process.env.BENCH_LOAD_RECORDS ?? 100_000);
const catalog = EntityCatalog.withDefaults();
const dir = await mkdtemp(path.join(tmpdir(), 'bench-load-'));
const store = new LocalFolderBlobStore(path.join(dir, 'staging'));

process.stdout.write(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}\n`);

// Stage real extracts: one incremental entity with many records and one snapshot entity.
const cloudsuite = await startCloudSuiteEmulator({ seed: 4, volume: { companies: ['100'], glTransactions: RECORDS, suppliers: 5000 } });
const { mi } = connectCloudSuite(parseIonApiFile(JSON.stringify(cloudsuite.ionapi), 'bench.ionapi'));
const staged: Record<string, { unitId: string; unitPrefix: string }[]> = {};
let total = 0;
for (const id of ['gl_transactions', 'suppliers']) {
  const units = await extractEntityForCompany({
    tenant: cloudsuite.tenant, entity: { ...catalog.get(id), pageSize: 5000 }, company: '100', window: { since: null, until: null },
    runId: 'bench', runStartedAt: '2026-11-20T00:00:00.000Z', mi, store, prefix: id,
  });
  staged[id] = units.map((u) => ({ unitId: u.unitPrefix, unitPrefix: u.unitPrefix }));
  total += units.reduce((n, u) => n + u.manifest.totalRecords, 0);
}
await cloudsuite.close();

const warehouse = await startWarehouseEmulator({ dbFile: path.join(dir, 'warehouse.duckdb') });
const { client } = await connectToEmulator(warehouse);
const session = new DatabricksSession({ client });
for (const pass of ['first load', 'reload (no-op)']) {
  for (const [id, units] of Object.entries(staged)) {
    const started = performance.now();
    const result = await loadTable({
      tenant: 'ACME_PRD', entity: catalog.get(id), table: { catalog: 'main', schema: 'bench', name: id }, units, runId: 'bench', store, warehouse: session,
    });
    const seconds = (performance.now() - started) / 1000;
    const records = result.units.reduce((n, u) => n + u.records, 0);
    const per100k = 100_000 / records;
    process.stdout.write(
      `${pass}: ${id}: ${records} records in ${seconds.toFixed(1)} s = ${Math.round(records / seconds)} rows/s; ` +
        `${result.statements} statements (${(result.statements * per100k).toFixed(0)} per 100k records), ` +
        `${(result.bytesSent / 2 ** 20).toFixed(1)} MiB sent (${((result.bytesSent * per100k) / 2 ** 20).toFixed(1)} MiB per 100k); ` +
        `current +${result.currentInserted} ~${result.currentUpdated}, history +${result.historyInserted}\n`,
    );
  }
}
process.stdout.write(`staged ${total} records in total\n`);
await session.close();
await client.close();
await warehouse.close();
await rm(dir, { recursive: true, force: true });
