// One extraction in a fresh process, reporting records, seconds, calls and peak memory as JSON.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EntityCatalog } from '../shared/catalog/entityCatalog.ts';
import { connectCloudSuite } from '../shared/cloudsuite/cloudSuiteConnection.ts';
import { extractEntityForCompany } from '../shared/extract/extractEntity.ts';
import { parseIonApiFile } from '../shared/ionapi/ionApiFile.ts';
import { LocalFolderBlobStore } from '../shared/staging/localFolderBlobStore.ts';

interface Job {
  ionapi: Record<string, string>;
  entity: string;
  company: string;
  pageSize?: number;
  maxRequestsPerSecond?: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const entity = { ...EntityCatalog.withDefaults().get(job.entity), ...(job.pageSize ? { pageSize: job.pageSize } : {}) };
const { mi } = connectCloudSuite(parseIonApiFile(JSON.stringify(job.ionapi), 'bench.ionapi'), {
  ...(job.maxRequestsPerSecond ? { maxRequestsPerSecond: job.maxRequestsPerSecond } : {}),
});
const dir = await mkdtemp(path.join(tmpdir(), 'bench-extract-'));
let peakHeap = 0;
const sampler = setInterval(() => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
}, 20);
const started = performance.now();
const units = await extractEntityForCompany({
  tenant: job.ionapi.ti!, entity, company: job.company, window: { since: null, until: null }, runId: 'bench',
  runStartedAt: new Date().toISOString(), mi, store: new LocalFolderBlobStore(dir), prefix: 'u',
});
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
const records = units.reduce((n, u) => n + u.manifest.totalRecords, 0);
await rm(dir, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({ records, seconds, calls: mi.stats().calls, rateLimited: mi.stats().rateLimited, peakRssMb: process.resourceUsage().maxRSS / 1024, peakHeapMb: peakHeap / 1048576 })}\n`,
);
