// One read of company 100's purchase order lines in a fresh process: a key sweep (the key columns only, staged
// as a complete key set) or a reconcile's complete read (every field), as Extract runs them. Reports records,
// seconds and MI calls as JSON.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EntityCatalog } from '../shared/catalog/entityCatalog.ts';
import { connectCloudSuite } from '../shared/cloudsuite/cloudSuiteConnection.ts';
import { extractUnit } from '../shared/extract/extractUnit.ts';
import { InMemoryTokenCache } from '../shared/ionapi/tokenCache.ts';
import { parseIonApiFile } from '../shared/ionapi/ionApiFile.ts';
import { unitShare } from '../shared/pipeline/tenantCallOptions.ts';
import { LocalFolderBlobStore } from '../shared/staging/localFolderBlobStore.ts';

interface Job {
  ionapi: Record<string, string>;
  keysOnly: boolean;
  callsPerSecond: number;
  maxConcurrency: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const entity = EntityCatalog.withDefaults().get('purchase_order_lines');
const config = parseIonApiFile(JSON.stringify(job.ionapi), 'bench.ionapi');
const dir = await mkdtemp(path.join(tmpdir(), 'bench-sweep-'));
const store = new LocalFolderBlobStore(dir);
// Paced at the share Plan gives one unit of a run of one unit.
const { mi } = connectCloudSuite(config, { cache: new InMemoryTokenCache(), maxRequestsPerSecond: unitShare(job.callsPerSecond, 1, job.maxConcurrency) });
const started = performance.now();
const outcome = await extractUnit({
  tenant: config.tenant, entity, company: '100', division: '', window: { since: null, until: null }, complete: true, keysOnly: job.keysOnly,
  runId: 'bench', runStartedAt: new Date().toISOString(), mi, store, unitPrefix: 'u',
});
const seconds = (performance.now() - started) / 1000;
if (outcome.status !== 'complete') throw new Error('the extraction stopped before its end');
const bytes = outcome.manifest.files.reduce((n, f) => n + f.bytes, 0);
await rm(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ seconds, records: outcome.manifest.totalRecords, calls: mi.stats().calls, stagedBytes: bytes })}\n`);
