// The load of a key sweep: units that hold the complete key set of their scope and nothing else (manifest
// keysOnly). They are never merged into `<table>` or `<table>_history` (their rows have no content); the keys
// are staged into the load's own working table, each unit passes the same vanished-keys guard as a reconcile,
// and the live keys of its scope it does not contain (read before the sweep began) are soft-deleted exactly as a
// reconcile soft-deletes them. Figures go to the data-quality record. Every statement is idempotent: a rerun of
// the same sweep finds the keys already deleted and changes nothing.
import { randomUUID } from 'node:crypto';
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import { logger } from '../observability/logger.ts';
import { Deadline, DeadlineExceededError } from '../runtime/deadline.ts';
import type { UnitManifest } from '../staging/manifest.ts';
import { validateTarget } from './identifiers.ts';
import {
  countVanishedSql, createQualityTableSql, createWorkingTableSql, dropStagedUnitSql, dropTableSql, heartbeatSql, recordQualitySql,
  showTablesSql, softDeleteSql, stageCountsSql,
} from './loadSql.ts';
import type { CompanyQuality, LoadCheckpoint, LoadOutcome, LoadTableRequest, LoadTableResult, RefusedUnit } from './loadTypes.ts';
import { LoadError, VanishedKeysError } from './loadErrors.ts';
import { STAGE_STEP_RESERVE_MS, stageUnit } from './stageUnit.ts';
import { workingTableOf } from './workingTable.ts';

/** The checks and soft deletes start only with this much left; otherwise the next invocation does them, whole. */
const DELETE_PHASE_RESERVE_MS = 300_000;

const count = (value: unknown): number => Number(value ?? 0);

class OutOfTime extends Error {}

/** True when the load's units are key sets (the caller dispatches here); a mix with content units is refused. */
export function isKeySweep(label: string, manifests: ReadonlyMap<string, UnitManifest>): boolean {
  const keySets = [...manifests].filter(([, m]) => m.keysOnly === true);
  if (keySets.length === 0) return false;
  const content = [...manifests].filter(([, m]) => m.keysOnly !== true).map(([unitId]) => unitId);
  const notWhole = keySets.filter(([, m]) => m.complete !== true || m.strategy !== 'incremental').map(([unitId]) => unitId);
  if (content.length > 0 || notWhole.length > 0) {
    throw new LoadError(
      `${label}: a key sweep's units (${keySets.map(([u]) => u).join(', ')}) hold keys only and load alone as complete key sets of an ` +
        `incremental entity; ${content.length > 0 ? `units ${content.join(', ')} hold content` : `units ${notWhole.join(', ')} are not complete key sets`}. ` +
        'Nothing was loaded: load them in separate runs',
    );
  }
  return true;
}

/** The entity as its key set has it: the key columns only (the working table holds nothing else). */
function keyColumnsOf(entity: EntityDefinition): EntityDefinition {
  return { ...entity, fields: entity.fields.filter((f) => entity.key.includes(f.name)) };
}

export async function sweepKeys(req: LoadTableRequest, manifests: Map<string, UnitManifest>): Promise<LoadOutcome> {
  const table = validateTarget(req.table);
  const { warehouse: wh, store } = req;
  const entity = keyColumnsOf(req.entity);
  const deadline = req.deadline ?? Deadline.none();
  const log = req.log ?? logger;
  const mode = req.mode ?? 'merge';
  const maxVanishedShare = req.maxVanishedShare ?? 0.05;
  const at = { statements: wh.stats.statements, bytes: wh.stats.bytesSent };
  const loadId = req.resume?.loadId ?? req.loadId ?? randomUUID();
  const loadedAt = req.resume?.loadedAt ?? new Date().toISOString();
  const label = `${table.catalog}.${table.schema}.${table.name}`;
  const working = workingTableOf(table, loadId);
  const divisional = entity.scope === 'division';
  if (req.resume && req.resume.mode !== mode) throw new LoadError(`${label}: the checkpoint of load ${loadId} is for ${req.resume.mode} mode, not ${mode}`);
  if (mode === 'copy' && !store.warehouseUrl) {
    throw new LoadError(`${label}: loadMode "copy" needs staged files the warehouse can read (S3 under an external location); ${store.describe('')} is not. Use loadMode "merge"`);
  }
  const checkpoint: LoadCheckpoint = {
    formatVersion: 1, loadId, mode, loadedAt, invocations: (req.resume?.invocations ?? 0) + 1,
    units: Object.fromEntries(req.units.map((u) => [u.unitId, { ...(req.resume?.units[u.unitId] ?? { files: 0, batches: 0 }) }])),
    ...(req.resume?.merge ? { merge: structuredClone(req.resume.merge) } : {}),
  };
  const result = (quality: CompanyQuality[], softDeleted: number, refused: RefusedUnit[]): LoadTableResult => ({
    status: 'loaded', table, historyInserted: 0, currentInserted: 0, currentUpdated: 0, currentSoftDeleted: softDeleted,
    quality: quality.filter((q) => q.softDeleted > 0).sort((a, b) => a.company.localeCompare(b.company)),
    statements: wh.stats.statements - at.statements, bytesSent: wh.stats.bytesSent - at.bytes,
    // A key set moves no watermark: no change stamp or date is reported for it.
    units: [...manifests].filter(([unitId]) => !refused.some((r) => r.unitId === unitId))
      .map(([unitId, m]) => ({ unitId, records: m.totalRecords, maxChangeStamp: null, maxChangeDate: null })),
    refused,
  });

  // Nothing loaded yet means nothing to delete: the sweep leaves the schema to the first content load.
  if (!req.resume) {
    const names = await wh.execute(showTablesSql(table), {}, { deadline }).then((rows) => rows.map((r) => String(r.tableName ?? r.tablename ?? '')), () => [] as string[]);
    if (!names.includes(table.name)) {
      log.info('key sweep: the table has no rows yet, nothing to delete', { table: label, units: manifests.size });
      return result([], 0, []);
    }
  }

  const heartbeat = new Date().toISOString();
  let stagingStarted = false;
  try {
    if (!req.resume) {
      await wh.execute(createWorkingTableSql(entity, working, { target: label, loadId, heartbeat }, true), {}, { deadline });
    } else if ((await wh.execute(showTablesSql(table), {}, { deadline })).some((r) => String(r.tableName ?? '') === working.name)) {
      await wh.execute(heartbeatSql(working, heartbeat), {}, { deadline });
    } else {
      log.warn('the working table of this key sweep is gone: staging again from the start', { table: label, loadId });
      for (const progress of Object.values(checkpoint.units)) Object.assign(progress, { files: 0, batches: 0 });
      delete checkpoint.merge;
      await wh.execute(createWorkingTableSql(entity, working, { target: label, loadId, heartbeat }), {}, { deadline });
    }
    stagingStarted = true;
    for (const unit of req.units) await stageKeys(unit.unitId, unit.unitPrefix, manifests.get(unit.unitId)!);
    if (deadline.remainingMs() < DELETE_PHASE_RESERVE_MS) throw new OutOfTime();
  } catch (error) {
    if (error instanceof OutOfTime || (error instanceof DeadlineExceededError && stagingStarted)) return continuation();
    await dropWorkingTable();
    throw error;
  }

  try {
    return await deletePhase();
  } catch (error) {
    if (error instanceof OutOfTime) return continuation();
    await dropWorkingTable();
    throw error;
  }

  function continuation(): LoadOutcome {
    log.info('key sweep continues in the next invocation', { table: label, loadId, invocation: checkpoint.invocations });
    let staged = 0;
    for (const [unitId, m] of manifests) staged += m.files.slice(0, checkpoint.units[unitId]?.files ?? 0).reduce((n, f) => n + f.records, 0);
    return { status: 'continue', table, checkpoint, stagedRecords: staged, statements: wh.stats.statements - at.statements, bytesSent: wh.stats.bytesSent - at.bytes };
  }

  async function dropWorkingTable(): Promise<void> {
    await wh.execute(dropTableSql(working), {}, { deadline: Deadline.none() }).catch(() => undefined);
  }

  /** The unit's keys into the working table, as a content load stages its records. */
  async function stageKeys(unitId: string, unitPrefix: string, manifest: UnitManifest): Promise<void> {
    const timeForAnotherStep = () => {
      if (deadline.remainingMs() < STAGE_STEP_RESERVE_MS) throw new OutOfTime();
    };
    await stageUnit({ wh, store, entity, working, mode, loadedAt, deadline, timeForAnotherStep }, unitId, unitPrefix, manifest, checkpoint.units[unitId]!);
  }

  /** Completeness, the vanished-keys guard per unit, the soft deletes and the data-quality record. */
  async function deletePhase(): Promise<LoadTableResult> {
    const progress = (checkpoint.merge ??= {
      checked: false, refused: [], steps: [], counts: { currentInserted: 0, currentUpdated: 0, historyInserted: 0, currentSoftDeleted: 0 },
    });
    const quality = (progress.quality ??= []);
    const scopeParams = (unitId: string, m: UnitManifest): Record<string, string> => ({
      tenant: m.tenant, company: m.company, ...(divisional ? { division: m.division } : {}), unit: unitId, read_started: m.startedAt,
    });
    if (!progress.checked) {
      await checkKeySets(scopeParams, progress.refused);
      progress.checked = true;
    }
    const swept = [...manifests].filter(([unitId]) => !progress.refused.some((r) => r.unitId === unitId));
    if (!progress.steps.includes('softDeletes')) {
      if (deadline.remainingMs() < STAGE_STEP_RESERVE_MS) throw new OutOfTime();
      let softDeleted = 0;
      for (const [unitId, m] of swept) {
        const [row] = await wh.execute(softDeleteSql(table, working, divisional, 'incremental'), {
          ...scopeParams(unitId, m), loaded_at: loadedAt, run_id: m.runId, read_completed: m.completedAt,
        }, { deadline });
        const deleted = count(row?.num_affected_rows);
        softDeleted += deleted;
        const entry = quality.find((q) => q.company === m.company);
        if (entry) entry.softDeleted += deleted;
        else quality.push({ company: m.company, changedWithoutNewStamp: 0, softDeleted: deleted });
      }
      progress.counts.currentSoftDeleted = softDeleted;
      progress.steps.push('softDeletes');
    }
    // Every sweep leaves its figures in _sync_quality, zeros included: "swept, nothing deleted" is news too.
    if (!progress.steps.includes('qualityRecord') && swept.length > 0) {
      const rows = [...new Set(swept.map(([, m]) => m.company))].sort().map((company) => ({
        company, changed: '0', deleted: String(quality.find((q) => q.company === company)?.softDeleted ?? 0),
      }));
      await wh.execute(createQualityTableSql(table), {}, { deadline });
      await wh.execute(recordQualitySql(table), {
        run_id: req.runId, load_id: loadId, tenant: req.tenant, entity: entity.id, target_table: label, loaded_at: loadedAt, rows: JSON.stringify(rows),
      }, { deadline });
      progress.steps.push('qualityRecord');
    }
    await wh.execute(dropTableSql(working), {}, { deadline });
    const outcome = result(quality, progress.counts.currentSoftDeleted, progress.refused);
    log.info('key sweep loaded', { table: label, units: outcome.units.length, refused: outcome.refused.length, softDeleted: outcome.currentSoftDeleted, statements: outcome.statements });
    return outcome;
  }

  /**
   * Every key set reached the warehouse whole, then the guard: a unit whose scope would lose more than the flow's
   * share of its live keys at once is refused (its keys out of the working table, its scope unchanged); when every
   * unit is refused the load fails.
   */
  async function checkKeySets(scopeParams: (unitId: string, m: UnitManifest) => Record<string, string>, refusedOut: RefusedUnit[]): Promise<void> {
    const staged = new Map((await wh.execute(stageCountsSql(working), {}, { deadline })).map((r) => [String(r.unit), count(r.row_count)]));
    for (const [unitId, manifest] of manifests) {
      const rows = staged.get(unitId) ?? 0;
      if (rows !== manifest.totalRecords) {
        throw new LoadError(`${label}: key sweep unit ${unitId} staged ${rows} keys but its manifest lists ${manifest.totalRecords}; nothing was deleted, rerun the load`);
      }
    }
    const tolerated = `tolerated: ${(maxVanishedShare * 100).toFixed(1)}%`;
    const advice = 'Check the source (a wrong company, or keys M3 did not return?) or raise the flow\'s maxVanishedShare, then rerun the sweep';
    const refused: (RefusedUnit & { scope: string })[] = [];
    for (const [unitId, m] of manifests) {
      const [row] = await wh.execute(countVanishedSql(table, working, divisional, 'incremental'), scopeParams(unitId, m), { deadline });
      const vanished = count(row?.vanished);
      const active = count(row?.active);
      if (vanished > 0 && vanished > maxVanishedShare * active) {
        const scope = `company ${m.company}${m.division ? ` division ${m.division}` : ''}: ${vanished} of ${active} keys (${((100 * vanished) / active).toFixed(1)}%)`;
        refused.push({ unitId, scope, reason: `${label}: the key sweep would mark too many keys deleted at once (${scope}; ${tolerated}). Nothing of this unit was changed. ${advice}` });
      }
    }
    if (refused.length > 0 && refused.length === manifests.size) {
      throw new VanishedKeysError(
        `${label}: the key sweep would mark too many keys deleted at once (${refused.map((r) => r.scope).join('; ')}; ${tolerated}). Nothing was changed. ${advice}`,
      );
    }
    for (const unit of refused) {
      await wh.execute(dropStagedUnitSql(working), { unit: unit.unitId }, { deadline });
      log.warn('key sweep unit refused: too many keys would vanish', { table: label, unitId: unit.unitId, scope: unit.scope });
      refusedOut.push({ unitId: unit.unitId, kind: 'vanished-keys', reason: unit.reason });
    }
  }
}
