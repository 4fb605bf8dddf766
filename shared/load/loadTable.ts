// Loads the staged units of one entity into its two Delta tables: `<table>_history` (append-only, one
// row per distinct version) and `<table>` (current state, one MERGE per load). Every step is
// idempotent, so a retried Lambda or a rerun of a day changes nothing that is already there.
// Order: check manifests → schema and drift (fail before touching data) → stage the batches →
// check completeness → check vanished keys (refusing a unit that would lose too many) → MERGE current →
// MERGE history → soft deletes.
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import { logger } from '../observability/logger.ts';
import { Deadline } from '../runtime/deadline.ts';
import type { UnitManifest } from '../staging/manifest.ts';
import { readManifest, readStagedRecords } from '../staging/stagedUnitReader.ts';
import { StagedDataError } from '../staging/stagingErrors.ts';
import { validateTarget } from './identifiers.ts';
import {
  addColumnsSql, countVanishedSql, createCurrentTableSql, createHistoryTableSql, createSchemaSql, createStageSql,
  describeTableSql, dropStagedUnitSql, dropStageSql, HISTORY_SUFFIX, insertStageBatchSql, mergeCurrentSql, mergeHistorySql, softDeleteSql,
  stageCountsSql,
} from './loadSql.ts';
import type { LoadTableRequest, LoadTableResult, RefusedUnit, TargetTable, UnitLoadResult, WarehouseSession } from './loadTypes.ts';
import { LoadError, VanishedKeysError } from './loadErrors.ts';
import { encodeStagedRecord } from './stagedRowEncoder.ts';
import { normalizeType, tableColumns } from './tableColumns.ts';

/** Bound JSON per statement; with the SQL text this stays well under the 1 MiB statement limit. */
const MAX_BATCH_BYTES = 900_000;
const DEFAULT_MAX_VANISHED_SHARE = 0.05;

const count = (value: unknown): number => Number(value ?? 0);

async function ensureColumns(wh: WarehouseSession, entity: EntityDefinition, table: TargetTable, suffix: string, deadline: Deadline): Promise<number> {
  const rows = await wh.execute(describeTableSql(table, suffix), {}, { deadline });
  const existing = new Map<string, string>();
  for (const row of rows) {
    const name = String(row.col_name ?? '').trim();
    if (name === '' || name.startsWith('#')) break;
    existing.set(name.toLowerCase(), normalizeType(String(row.data_type ?? '')));
  }
  const wanted = tableColumns(entity);
  const conflicts = wanted.filter((c) => existing.has(c.name) && existing.get(c.name) !== normalizeType(c.type));
  if (conflicts.length) {
    throw new LoadError(
      `${table.catalog}.${table.schema}.${table.name}${suffix}: ` +
        conflicts.map((c) => `column ${c.name} is ${existing.get(c.name)} but entity ${entity.id} now needs ${normalizeType(c.type)}`).join('; ') +
        '; nothing was loaded or changed. Point the flow at a new table, or migrate the column in Databricks, then rerun',
    );
  }
  const missing = wanted.filter((c) => !existing.has(c.name));
  if (missing.length) await wh.execute(addColumnsSql(table, suffix, missing), {}, { deadline });
  return missing.length;
}

export async function loadTable(req: LoadTableRequest): Promise<LoadTableResult> {
  const table = validateTarget(req.table);
  const { entity, warehouse: wh, store } = req;
  const deadline = req.deadline ?? Deadline.none();
  const log = req.log ?? logger;
  const maxVanishedShare = req.maxVanishedShare ?? DEFAULT_MAX_VANISHED_SHARE;
  const statementsAtStart = wh.stats.statements;
  const bytesAtStart = wh.stats.bytesSent;
  const loadedAt = new Date().toISOString();
  const label = `${table.catalog}.${table.schema}.${table.name}`;

  // Manifests first: a missing or foreign unit fails the load before any SQL runs.
  const manifests = new Map<string, UnitManifest>();
  for (const unit of req.units) {
    const manifest = await readManifest(store, unit.unitPrefix);
    if (manifest.entity !== entity.id || manifest.tenant !== req.tenant) {
      throw new StagedDataError(`${store.describe(unit.unitPrefix)} holds ${manifest.tenant}/${manifest.entity}, not ${req.tenant}/${entity.id}`);
    }
    manifests.set(unit.unitId, manifest);
  }

  await wh.execute(createSchemaSql(table), {}, { deadline });
  await wh.execute(createCurrentTableSql(entity, table), {}, { deadline });
  await wh.execute(createHistoryTableSql(entity, table), {}, { deadline });
  const added = (await ensureColumns(wh, entity, table, '', deadline)) + (await ensureColumns(wh, entity, table, HISTORY_SUFFIX, deadline));
  if (added) log.info('schema drift: columns added', { table: label, columns: added });

  // Stage every unit's records in ~1 MiB JSON batches.
  await wh.execute(createStageSql(entity, table), {}, { deadline });
  const insert = insertStageBatchSql(entity, table);
  for (const unit of req.units) {
    const manifest = manifests.get(unit.unitId)!;
    let batch: string[] = [];
    let bytes = 2;
    const flush = async () => {
      if (!batch.length) return;
      await wh.execute(insert, { rows: `[${batch.join(',')}]`, loaded_at: loadedAt }, { deadline });
      batch = [];
      bytes = 2;
    };
    for await (const staged of readStagedRecords(store, unit.unitPrefix, manifest)) {
      const json = JSON.stringify(encodeStagedRecord(entity, unit.unitId, staged));
      const size = Buffer.byteLength(json) + 1;
      if (bytes + size > MAX_BATCH_BYTES) await flush();
      batch.push(json);
      bytes += size;
    }
    await flush();
  }

  // Completeness: what reached the warehouse is exactly what the manifests promised.
  const staged = new Map((await wh.execute(stageCountsSql(table), {}, { deadline })).map((r) => [String(r.unit), count(r.row_count)]));
  for (const [unitId, manifest] of manifests) {
    const rows = staged.get(unitId) ?? 0;
    if (rows !== manifest.totalRecords) {
      throw new LoadError(`${label}: unit ${unitId} staged ${rows} rows but its manifest lists ${manifest.totalRecords}; nothing was merged, rerun the load`);
    }
  }

  // Vanished keys of complete snapshots: a unit in which too many keys would go at once is refused (left
  // out, its scope unchanged) while the others load; when every unit is refused the load fails.
  const snapshots = [...manifests].filter(([, m]) => m.strategy === 'snapshot');
  const divisional = entity.scope === 'division';
  const scopeParams = (unitId: string, m: UnitManifest) => ({
    tenant: m.tenant, company: m.company, ...(divisional ? { division: m.division } : {}), stamp: m.runStartedAt, unit: unitId,
  });
  const tolerated = `tolerated: ${(maxVanishedShare * 100).toFixed(1)}%`;
  const advice = 'Check the source (a wrong company or filter?) or raise the flow\'s vanished-keys share, then rerun';
  const refused: (RefusedUnit & { scope: string })[] = [];
  for (const [unitId, m] of snapshots) {
    const [row] = await wh.execute(countVanishedSql(entity, table, divisional), scopeParams(unitId, m), { deadline });
    const vanished = count(row?.vanished);
    const active = count(row?.active);
    if (vanished > 0 && vanished > maxVanishedShare * active) {
      const scope = `company ${m.company}${m.division ? ` division ${m.division}` : ''}: ${vanished} of ${active} keys (${((100 * vanished) / active).toFixed(1)}%)`;
      refused.push({
        unitId, scope,
        reason: `${label}: too many keys would be marked deleted at once (${scope}; ${tolerated}). Nothing of this unit was loaded. ${advice}`,
      });
    }
  }
  if (refused.length > 0 && refused.length === manifests.size) {
    throw new VanishedKeysError(
      `${label}: too many keys would be marked deleted at once (${refused.map((r) => r.scope).join('; ')}; ${tolerated}). Nothing was changed. ${advice}`,
    );
  }
  for (const unit of refused) {
    await wh.execute(dropStagedUnitSql(table), { unit: unit.unitId }, { deadline });
    manifests.delete(unit.unitId);
    log.warn('unit refused: too many keys would vanish', { table: label, unitId: unit.unitId, scope: unit.scope });
  }

  const [current] = await wh.execute(mergeCurrentSql(entity, table), { loaded_at: loadedAt }, { deadline });
  const [history] = await wh.execute(mergeHistorySql(entity, table), { loaded_at: loadedAt }, { deadline });
  let softDeleted = 0;
  for (const [unitId, m] of snapshots.filter(([unitId]) => manifests.has(unitId))) {
    const [row] = await wh.execute(softDeleteSql(entity, table, divisional), { ...scopeParams(unitId, m), loaded_at: loadedAt, run_id: m.runId }, { deadline });
    softDeleted += count(row?.num_affected_rows);
  }
  await wh.execute(dropStageSql(table), {}, { deadline });

  const units: UnitLoadResult[] = [...manifests].map(([unitId, m]) => ({
    unitId, records: m.totalRecords, maxChangeStamp: m.maxChangeStamp, maxChangeDate: m.maxChangeDate,
  }));
  const result: LoadTableResult = {
    table,
    historyInserted: count(history?.num_inserted_rows),
    currentInserted: count(current?.num_inserted_rows),
    currentUpdated: count(current?.num_updated_rows),
    currentSoftDeleted: softDeleted,
    statements: wh.stats.statements - statementsAtStart,
    bytesSent: wh.stats.bytesSent - bytesAtStart,
    units,
    refused: refused.map(({ unitId, reason }) => ({ unitId, reason })),
  };
  log.info('table loaded', { ...result, units: units.length, refused: refused.length });
  return result;
}
