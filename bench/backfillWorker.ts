// One backfill of company 100's GL transactions in a fresh process: as one unit, or as the sub-units Plan
// would make (the entity's split by accounting year), extracted concurrently, each MI client paced at the
// share of the tenant's budget Plan gives it. Reports records, seconds and calls as JSON.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EntityCatalog } from '../shared/catalog/entityCatalog.ts';
import { connectCloudSuite } from '../shared/cloudsuite/cloudSuiteConnection.ts';
import { extractUnit } from '../shared/extract/extractUnit.ts';
import { InMemoryTokenCache } from '../shared/ionapi/tokenCache.ts';
import { parseIonApiFile } from '../shared/ionapi/ionApiFile.ts';
import { keyRangesOf, splitBoundaries } from '../shared/pipeline/keyRanges.ts';
import { unitShare } from '../shared/pipeline/tenantCallOptions.ts';
import { LocalFolderBlobStore } from '../shared/staging/localFolderBlobStore.ts';

interface Job {
  ionapi: Record<string, string>;
  split: boolean;
  /** The tenant's budget of MI calls per second. */
  callsPerSecond: number;
  maxConcurrency: number;
  currentYear: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const entity = EntityCatalog.withDefaults().get('gl_transactions');
const ranges = job.split ? keyRangesOf(entity, entity.split!.field, splitBoundaries(entity.split!, { currentYear: job.currentYear })) : [undefined];
const share = unitShare(job.callsPerSecond, ranges.length, job.maxConcurrency);
const config = parseIonApiFile(JSON.stringify(job.ionapi), 'bench.ionapi');
// One token for the tenant, as the encrypted token cache shares it between Extract Lambdas.
const cache = new InMemoryTokenCache();
const dir = await mkdtemp(path.join(tmpdir(), 'bench-backfill-'));
const store = new LocalFolderBlobStore(dir);
const started = performance.now();
const results = await Promise.all(
  ranges.map(async (range, i) => {
    const { mi } = connectCloudSuite(config, { cache, maxRequestsPerSecond: share });
    const outcome = await extractUnit({
      tenant: config.tenant, entity, company: '100', division: '', window: { since: null, until: null }, runId: 'bench',
      runStartedAt: new Date().toISOString(), mi, store, unitPrefix: `u/${i}`, ...(range ? { range } : {}),
    });
    if (outcome.status !== 'complete') throw new Error('the extraction stopped before its end');
    return { records: outcome.manifest.totalRecords, calls: mi.stats().calls, rateLimited: mi.stats().rateLimited, seconds: (performance.now() - started) / 1000 };
  }),
);
const seconds = (performance.now() - started) / 1000;
await rm(dir, { recursive: true, force: true });
const sum = (f: (r: (typeof results)[number]) => number) => results.reduce((n, r) => n + f(r), 0);
process.stdout.write(
  `${JSON.stringify({
    units: ranges.length, share, seconds, records: sum((r) => r.records), calls: sum((r) => r.calls), rateLimited: sum((r) => r.rateLimited),
    perUnit: results.map((r) => ({ records: r.records, calls: r.calls, seconds: r.seconds })),
  })}\n`,
);
