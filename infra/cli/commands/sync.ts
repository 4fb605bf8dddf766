// `sync`: the main job on embedded defaults. Today it runs the extraction stage of a sync for every
// default entity and company against the bundled CloudSuite emulator (or a real tenant with
// --ionapi) and stages the result under the state folder; loading into the warehouse and the state
// machine arrive with the loading and pipeline work.
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { EntityCatalog } from '../../../shared/catalog/entityCatalog.ts';
import { connectCloudSuite } from '../../../shared/cloudsuite/cloudSuiteConnection.ts';
import { extractEntityForCompany } from '../../../shared/extract/extractEntity.ts';
import { loadIonApiFile, type IonApiConfig } from '../../../shared/ionapi/ionApiFile.ts';
import { newRunId } from '../../../shared/runtime/runId.ts';
import { joinKey } from '../../../shared/staging/blobStore.ts';
import { LocalFolderBlobStore } from '../../../shared/staging/localFolderBlobStore.ts';
import { startCloudSuiteEmulator } from '../../../test/emulators/cloudsuite/index.ts';
import { progress, result, UsageError } from '../output.ts';
import { parseDateOption } from './extract.ts';

export interface SyncOptions {
  ionapi?: string;
  companies?: string;
  entities?: string;
  since?: string;
  stateDir: string;
}

interface Row {
  entity: string;
  company: string;
  units: number;
  records: number;
  files: number;
  seconds: number;
}

export async function syncCommand(options: SyncOptions): Promise<number> {
  const catalog = EntityCatalog.withDefaults();
  const entities = (options.entities ? options.entities.split(',') : catalog.ids()).map((id) => catalog.get(id.trim()));
  const since = options.since ? parseDateOption(options.since, '--since') : null;
  const stateDir = path.resolve(options.stateDir);
  await mkdir(stateDir, { recursive: true });

  let config: IonApiConfig;
  let companies: string[];
  let stopEmulator: (() => Promise<void>) | undefined;
  if (options.ionapi) {
    config = await loadIonApiFile(options.ionapi);
    if (!options.companies) throw new UsageError('with --ionapi, name the companies to sync: --companies 100,200');
    companies = options.companies.split(',').map((c) => c.trim());
  } else {
    const emulator = await startCloudSuiteEmulator({ seed: 1 });
    stopEmulator = () => emulator.close();
    const ionapiPath = path.join(stateDir, 'emulator.ionapi');
    await emulator.writeIonApiFile(ionapiPath);
    await chmod(ionapiPath, 0o600);
    config = await loadIonApiFile(ionapiPath);
    companies = options.companies ? options.companies.split(',').map((c) => c.trim()) : ['100', '200', '300'];
    progress(`CloudSuite: bundled emulator at ${emulator.url} (tenant ${emulator.tenant})`);
  }

  const { mi, tokens } = connectCloudSuite(config);
  const store = new LocalFolderBlobStore(path.join(stateDir, 'staging'));
  const runStartedAt = new Date().toISOString();
  const runId = newRunId('local');
  const rows: Row[] = [];
  try {
    for (const entity of entities) {
      for (const company of companies) {
        const started = performance.now();
        const prefix = joinKey('runs', config.tenant, runId, entity.id, company);
        progress(`extracting ${entity.id} company ${company}${entity.strategy === 'incremental' ? (since ? ` since ${since}` : ' (full)') : ' (snapshot)'}`);
        const units = await extractEntityForCompany({
          tenant: config.tenant, entity, company, window: { since, until: null }, runId, runStartedAt, mi, store, prefix,
        });
        rows.push({
          entity: entity.id, company, units: units.length,
          records: units.reduce((n, u) => n + u.manifest.totalRecords, 0),
          files: units.reduce((n, u) => n + u.manifest.files.length, 0),
          seconds: (performance.now() - started) / 1000,
        });
      }
    }
  } finally {
    await tokens.revoke().catch(() => undefined);
    await stopEmulator?.();
  }
  printSummary(rows);
  result(`staged run ${runId} in ${store.describe(joinKey('runs', config.tenant, runId))}`);
  result(JSON.stringify({ runId, tenant: config.tenant, records: rows.reduce((n, r) => n + r.records, 0), units: rows.reduce((n, r) => n + r.units, 0) }));
  return 0;
}

function printSummary(rows: Row[]): void {
  const header = ['entity', 'company', 'units', 'records', 'files', 'seconds'];
  const table = rows.map((r) => [r.entity, r.company, String(r.units), String(r.records), String(r.files), r.seconds.toFixed(2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  result(line(header));
  for (const row of table) result(line(row));
}
