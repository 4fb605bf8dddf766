// `extract`: one entity for one company (every division, or one) into a folder of staged files.
import path from 'node:path';
import { EntityCatalog } from '../../../shared/catalog/entityCatalog.ts';
import { connectCloudSuite } from '../../../shared/cloudsuite/cloudSuiteConnection.ts';
import { extractEntityForCompany } from '../../../shared/extract/extractEntity.ts';
import { TenantSchemaError } from '../../../shared/catalog/tenantSchemaError.ts';
import { resolveEntity } from '../../../shared/extract/resolveEntity.ts';
import { readCheckedEntityFields } from '../../../shared/extract/checkedTenantFields.ts';
import { loadIonApiFile } from '../../../shared/ionapi/ionApiFile.ts';
import { LocalFolderBlobStore } from '../../../shared/staging/localFolderBlobStore.ts';
import { newRunId } from '../../../shared/runtime/runId.ts';
import { progress, result, UsageError } from '../output.ts';

export interface ExtractOptions {
  ionapi: string;
  entity: string;
  company: string;
  division?: string;
  since?: string;
  full?: boolean;
  out: string;
}

/** YYYY-MM-DD (as a user types it) to M3's yyyyMMdd. */
export function parseDateOption(value: string, option: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const date = m ? new Date(`${value}T00:00:00Z`) : undefined;
  if (!m || !date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    throw new UsageError(`${option} must be a date like 2026-11-01, got "${value}"`);
  }
  return `${m[1]}${m[2]}${m[3]}`;
}

export async function extractCommand(options: ExtractOptions): Promise<number> {
  const entity = EntityCatalog.withDefaults().get(options.entity);
  if (!/^\d{1,3}$/.test(options.company)) throw new UsageError(`--company must be an M3 company number such as 100, got "${options.company}"`);
  if (options.since && options.full) throw new UsageError('give either --since or --full, not both');
  let since: string | null = null;
  if (entity.strategy === 'incremental') {
    if (!options.since && !options.full) {
      throw new UsageError(`${entity.id} is incremental: give --since YYYY-MM-DD (changes on or after that day) or --full (everything)`);
    }
    if (options.since) since = parseDateOption(options.since, '--since');
  } else {
    progress(`${entity.id} is a snapshot entity: it is always read in full${options.since ? ' (--since ignored)' : ''}`);
  }
  if (options.division !== undefined && entity.scope !== 'division') {
    throw new UsageError(`${entity.id} is not divided by division; drop --division`);
  }

  const config = await loadIonApiFile(options.ionapi);
  const { mi, tokens } = connectCloudSuite(config);
  const out = path.resolve(options.out);
  const store = new LocalFolderBlobStore(out);
  const startedAt = new Date().toISOString();
  try {
    // As the pipeline's Plan does: the entity as this tenant has it, before any data call.
    const resolution = resolveEntity(entity, await readCheckedEntityFields(mi, entity, options.company));
    if (resolution.status === 'unusable') throw new TenantSchemaError(resolution.problem);
    for (const warning of resolution.warnings) progress(`warning: ${warning}`);
    const tenantEntity = resolution.entity;
    const units = await extractEntityForCompany({
      tenant: config.tenant, entity: tenantEntity, company: options.company, division: options.division, warnings: resolution.warnings,
      window: { since, until: null }, runId: newRunId('cli'), runStartedAt: startedAt, mi, store, prefix: '',
      onUnit: ({ division }) => progress(`extracting ${entity.id} company ${options.company}${division ? ` division ${division}` : ''} → ${division && options.division === undefined ? path.join(out, division) : out}`),
      onProgress: ({ records, files }) => progress(`  ${records} records in ${files} file(s)`),
    });
    const files = units.flatMap((u) => u.manifest.files.map((f) => (u.unitPrefix ? `${u.unitPrefix}/${f.name}` : f.name)));
    const records = units.reduce((n, u) => n + u.manifest.totalRecords, 0);
    result(
      JSON.stringify({
        entity: entity.id, company: options.company, ...(entity.scope === 'division' ? { divisions: units.map((u) => u.division) } : {}), records, files,
        ...(resolution.warnings.length > 0 ? { warnings: resolution.warnings } : {}),
      }),
    );
    return 0;
  } finally {
    await tokens.revoke().catch(() => undefined);
  }
}
