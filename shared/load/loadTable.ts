// Loads the staged units of one entity into its two Delta tables: `<table>_history` (append-only, one row per
// distinct version) and `<table>` (current state, one MERGE per load). Every statement is idempotent, so a retry
// after a lost answer or a Delta conflict, a retried Lambda or a rerun of a day changes nothing already there.
// Order: check manifests → look at the schema unless a look made today for this shape of the entity is
// remembered (rememberedLook.ts; create only what is missing, fail a type conflict before any change, bring the
// layout in line) → the load's own working table → stage the units (merge: ~1 MiB JSON batches; copy: COPY INTO
// from the staged files) → one check statement (completeness, control totals, silent changes, vanished keys:
// refusing a unit that differs or would lose too many) → MERGE current → MERGE history → soft deletes → drop
// the working table.
// Staging stops before the deadline and answers a checkpoint instead; the next invocation continues it.
import { randomUUID } from 'node:crypto';
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import { logger, type Log } from '../observability/logger.ts';
import { Deadline, DeadlineExceededError } from '../runtime/deadline.ts';
import type { UnitManifest } from '../staging/manifest.ts';
import { readManifest } from '../staging/stagedUnitReader.ts';
import { StagedDataError } from '../staging/stagingErrors.ts';
import { businessViewSql, viewFingerprint, viewOf, VIEW_PROPERTY } from './businessView.ts';
import { completeUnitParam, stagedCheckSql } from './stagedCheckSql.ts';
import {
  CONTROL_TOTALS_TABLE, createControlTotalsTableSql,
} from './controlTotalsSql.ts';
import { groupTotals, leaveFinishedLoad, writeControlTotals, type FinishedLoad } from './controlTotalsWriter.ts';
import { amountFields, canonicalTotalOf, type ControlTotals } from '../staging/controlTotals.ts';
import { validateTarget } from './identifiers.ts';
import {
  addColumnsSql, alterColumnCommentSql, commentOnTableSql, createCurrentTableSql, createQualityTableSql, recordQualitySql,
  createHistoryTableSql, createSchemaSql, createWorkingTableSql, describeTableSql,
  dropStagedUnitSql, dropTableSql, heartbeatSql, HISTORY_SUFFIX, mergeCurrentSql, mergeHistorySql, setTablePropertiesSql,
  showTablePropertiesSql, showTablesSql, softDeleteSql, type VanishedGuard,
} from './loadSql.ts';
import type {
  CompanyQuality, LoadCheckpoint, LoadContinuation, LoadOutcome, LoadTableRequest, LoadTableResult, MergeProgress, MergeStep, RefusedUnit, TargetTable, UnitLoadResult,
  WarehouseSession,
} from './loadTypes.ts';
import { ControlTotalError, LoadError, TableChangedError, VanishedKeysError } from './loadErrors.ts';
import { forgetLook, isShapeChanged, lookFingerprint, lookIsRemembered, rememberedLookKey, rememberLook } from './rememberedLook.ts';
import { STAGE_STEP_RESERVE_MS, stageUnit, type UnitStaging } from './stageUnit.ts';
import { isKeySweep, sweepKeys } from './sweepKeys.ts';
import { normalizeType, tableColumns } from './tableColumns.ts';
import { TABLE_COMMENT_PROPERTY, tableComment, tableCommentFingerprint } from './tableDescriptions.ts';
import { STATS_COLUMNS_PROPERTY, statsColumns } from './tableLayout.ts';
import { isAbandoned, isWorkingTableName, workingTableOf } from './workingTable.ts';

export const DEFAULT_MAX_VANISHED_SHARE = 0.05;
/** The checks and MERGEs start only with this much left; otherwise the next invocation does them, whole. */
export const MERGE_PHASE_RESERVE_MS = 300_000;
/** What a MERGE step is assumed to take until one is timed (and the most any estimate asks for): a fresh Load invocation has it. */
export const MAX_STEP_ESTIMATE_MS = 600_000;


const count = (value: unknown): number => Number(value ?? 0);

const CONTROL_TOTALS_ADVICE =
  "What the warehouse holds differs from what was staged from CloudSuite (a value the warehouse rounded or could not read, or a lost row): " +
  "compare the unit's staged files with the table's column types, then rerun the load";

/** Stops staging: the load answers a checkpoint. */
class OutOfTime extends Error {}

function isSchemaNotFound(error: unknown): boolean {
  return /SCHEMA_NOT_FOUND|42704/.test(`${(error as { sqlState?: string }).sqlState ?? ''} ${(error as Error).message}`) && !/CATALOG/.test((error as Error).message);
}

interface DescribedColumn {
  type: string;
  comment: string | null;
}

async function describeColumns(wh: WarehouseSession, table: TargetTable, suffix: string, deadline: Deadline): Promise<Map<string, DescribedColumn>> {
  const rows = await wh.execute(describeTableSql(table, suffix), {}, { deadline });
  const existing = new Map<string, DescribedColumn>();
  for (const row of rows) {
    const name = String(row.col_name ?? '').trim();
    if (name === '' || name.startsWith('#')) break;
    existing.set(name.toLowerCase(), { type: normalizeType(String(row.data_type ?? '')), comment: typeof row.comment === 'string' ? row.comment : null });
  }
  return existing;
}

/** Sets the comment of every column whose comment differs from the entity's (DESCRIBE shows them); rewrites no data. */
async function syncColumnComments(
  wh: WarehouseSession, entity: EntityDefinition, table: TargetTable, suffix: string, existing: Map<string, DescribedColumn>, deadline: Deadline,
): Promise<number> {
  let changed = 0;
  for (const column of tableColumns(entity)) {
    const found = existing.get(column.name);
    if (!column.comment || !found || found.comment === column.comment) continue;
    await wh.execute(alterColumnCommentSql(table, suffix, column.name, column.comment), {}, { deadline });
    changed += 1;
  }
  return changed;
}

/**
 * Adds the entity's new fields as columns, failing a type conflict before any change. ADD COLUMNS is not
 * idempotent (FIELDS_ALREADY_EXISTS when sent again after a lost answer), so a failure is checked against the
 * table: if every column is there now, the earlier attempt did it.
 */
async function ensureColumns(wh: WarehouseSession, entity: EntityDefinition, table: TargetTable, suffix: string, deadline: Deadline, log: Log): Promise<number> {
  const existing = await describeColumns(wh, table, suffix, deadline);
  const wanted = tableColumns(entity);
  const conflicts = wanted.filter((c) => existing.has(c.name) && existing.get(c.name)!.type !== normalizeType(c.type));
  if (conflicts.length) {
    throw new LoadError(
      `${table.catalog}.${table.schema}.${table.name}${suffix}: ` +
        conflicts.map((c) => `column ${c.name} is ${existing.get(c.name)!.type} but entity ${entity.id} now needs ${normalizeType(c.type)}`).join('; ') +
        '; nothing was loaded or changed. Point the flow at a new table, or migrate the column in Databricks, then rerun',
    );
  }
  // Columns made before comments existed, or whose M3 text changed, get today's comment; added ones come with it.
  const recommented = await syncColumnComments(wh, entity, table, suffix, existing, deadline);
  if (recommented) log.info('column comments brought in line', { table: `${table.catalog}.${table.schema}.${table.name}${suffix}`, columns: recommented });
  const missing = wanted.filter((c) => !existing.has(c.name));
  if (missing.length === 0) return 0;
  try {
    await wh.execute(addColumnsSql(table, suffix, missing), {}, { deadline });
  } catch (error) {
    const after = await describeColumns(wh, table, suffix, deadline);
    if (!missing.every((c) => after.get(c.name)?.type === normalizeType(c.type))) throw error;
  }
  return missing.length;
}

async function tableProperties(wh: WarehouseSession, table: TargetTable, suffix: string, deadline: Deadline): Promise<Map<string, string>> {
  const rows = await wh.execute(showTablePropertiesSql(table, suffix), {}, { deadline });
  return new Map(rows.map((r) => [String(r.key), String(r.value)]));
}

/**
 * Creates what is missing (the schema only after looking: a principal granted USE SCHEMA and CREATE TABLE but not
 * CREATE SCHEMA loads into an existing schema), adds drifted columns, brings the statistics columns in line,
 * and answers the names of working tables found beside the target.
 */
async function prepareTables(wh: WarehouseSession, entity: EntityDefinition, table: TargetTable, deadline: Deadline, log: Log): Promise<string[]> {
  let names: string[];
  try {
    names = (await wh.execute(showTablesSql(table), {}, { deadline })).map((r) => String(r.tableName ?? r.tablename ?? ''));
  } catch (error) {
    if (!isSchemaNotFound(error)) throw error;
    try {
      await wh.execute(createSchemaSql(table), {}, { deadline });
    } catch (cause) {
      throw new LoadError(
        `${table.catalog}.${table.schema} does not exist (or the principal cannot see it: grant USE SCHEMA on it) and creating it failed ` +
          `(${(cause as Error).message.slice(0, 300)}); create the schema and grant USE SCHEMA and CREATE TABLE on it, or grant CREATE SCHEMA on the catalog`,
        { cause },
      );
    }
    names = [];
  }
  const label = `${table.catalog}.${table.schema}.${table.name}`;
  const wantedStats = statsColumns(entity).join(',');
  let added = 0;
  let viewProperty: string | undefined;
  for (const [suffix, create] of [['', createCurrentTableSql], [HISTORY_SUFFIX, createHistoryTableSql]] as const) {
    if (!names.includes(`${table.name}${suffix}`)) {
      // A new current table carries the fingerprint of the view made right after it (saves a metadata commit).
      await wh.execute(create(entity, table, suffix === '' ? { [VIEW_PROPERTY]: viewFingerprint(entity, table) } : {}), {}, { deadline });
      if (suffix === '') viewProperty = viewFingerprint(entity, table);
      added += await ensureColumns(wh, entity, table, suffix, deadline, log);
      continue;
    }
    const properties = await tableProperties(wh, table, suffix, deadline);
    if (suffix === '') viewProperty = properties.get(VIEW_PROPERTY);
    added += await ensureColumns(wh, entity, table, suffix, deadline, log);
    const update: Record<string, string> = {};
    // Tables from earlier versions (or drift) get the statistics columns of today's layout.
    if (properties.get(STATS_COLUMNS_PROPERTY) !== wantedStats) {
      update[STATS_COLUMNS_PROPERTY] = wantedStats;
      log.info('table layout brought in line: statistics columns set', { table: `${label}${suffix}` });
    }
    // DESCRIBE does not show the table's comment: a fingerprint of it on the table says whether it is today's.
    const wantedComment = tableCommentFingerprint(entity, table.name, suffix);
    if (properties.get(TABLE_COMMENT_PROPERTY) !== wantedComment) {
      await wh.execute(commentOnTableSql(table, suffix, tableComment(entity, table.name, suffix)), {}, { deadline });
      update[TABLE_COMMENT_PROPERTY] = wantedComment;
      log.info('table comment brought in line', { table: `${label}${suffix}` });
    }
    if (Object.keys(update).length > 0) await wh.execute(setTablePropertiesSql(table, suffix, update), {}, { deadline });
  }
  await ensureBusinessView(wh, entity, table, names.includes(viewOf(table).name) ? viewProperty : undefined, viewProperty, deadline, log);
  if (!names.includes(CONTROL_TOTALS_TABLE)) await wh.execute(createControlTotalsTableSql(table), {}, { deadline });
  if (added) log.info('schema drift: columns added', { table: label, columns: added });
  return names.filter((n) => isWorkingTableName(table, n));
}

/**
 * Creates or replaces the entity's business-named view when it is missing or its definition changed (`existing`:
 * the fingerprint of the view there, undefined when there is none; `recorded`: the fingerprint the current table
 * carries), so reruns issue no DDL.
 */
async function ensureBusinessView(
  wh: WarehouseSession, entity: EntityDefinition, table: TargetTable, existing: string | undefined, recorded: string | undefined, deadline: Deadline, log: Log,
): Promise<void> {
  const view = viewOf(table);
  const wanted = viewFingerprint(entity, table);
  if (existing === wanted) return;
  await wh.execute(businessViewSql(entity, table), {}, { deadline });
  if (recorded !== wanted) await wh.execute(setTablePropertiesSql(table, '', { [VIEW_PROPERTY]: wanted }), {}, { deadline });
  log.info('business-named view created or replaced', { view: `${view.catalog}.${view.schema}.${view.name}` });
}

/** Drops working tables of earlier loads of this table whose load is over (see workingTable.ts). */
async function dropAbandonedWorkingTables(wh: WarehouseSession, table: TargetTable, names: string[], own: string, deadline: Deadline, log: Log): Promise<void> {
  const target = `${table.catalog}.${table.schema}.${table.name}`;
  for (const name of names.filter((n) => n !== own)) {
    const other = { ...table, name };
    const properties = await tableProperties(wh, other, '', deadline).catch(() => new Map<string, string>());
    if (isAbandoned(properties, target, Date.now())) {
      await wh.execute(dropTableSql(other), {}, { deadline });
      log.info('dropped the working table of an earlier load that did not finish', { table: target, workingTable: name });
    }
  }
}

function continuation(table: TargetTable, checkpoint: LoadCheckpoint, manifests: Map<string, UnitManifest>, wh: WarehouseSession, at: { statements: number; bytes: number }): LoadContinuation {
  let staged = 0;
  for (const [unitId, m] of manifests) {
    const progress = checkpoint.units[unitId] ?? { files: 0, batches: 0 };
    staged += m.files.slice(0, progress.files).reduce((n, f) => n + f.records, 0);
  }
  return { status: 'continue', table, checkpoint, stagedRecords: staged, statements: wh.stats.statements - at.statements, bytesSent: wh.stats.bytesSent - at.bytes };
}

export async function loadTable(req: LoadTableRequest): Promise<LoadOutcome> {
  const table = validateTarget(req.table);
  const { entity, warehouse: wh, store } = req;
  const deadline = req.deadline ?? Deadline.none();
  const log = req.log ?? logger;
  const mode = req.mode ?? 'merge';
  const maxVanishedShare = req.maxVanishedShare ?? DEFAULT_MAX_VANISHED_SHARE;
  const at = { statements: wh.stats.statements, bytes: wh.stats.bytesSent };
  const loadId = req.resume?.loadId ?? req.loadId ?? randomUUID();
  const loadedAt = req.resume?.loadedAt ?? new Date().toISOString();
  const label = `${table.catalog}.${table.schema}.${table.name}`;
  const working = workingTableOf(table, loadId);
  const lookKey = wh.workspace ? rememberedLookKey(wh.workspace, table) : undefined;
  const fingerprint = lookFingerprint(entity, table);
  if (req.resume && req.resume.mode !== mode) throw new LoadError(`${label}: the checkpoint of load ${loadId} is for ${req.resume.mode} mode, not ${mode}`);
  if (mode === 'copy' && !store.warehouseUrl) {
    throw new LoadError(`${label}: loadMode "copy" needs staged files the warehouse can read (S3 under an external location); ${store.describe('')} is not. Use loadMode "merge"`);
  }

  // Manifests first: a missing or foreign unit fails the load before any SQL runs.
  const manifests = new Map<string, UnitManifest>();
  for (const unit of req.units) {
    const manifest = await readManifest(store, unit.unitPrefix);
    if (manifest.entity !== entity.id || manifest.tenant !== req.tenant) {
      throw new StagedDataError(`${store.describe(unit.unitPrefix)} holds ${manifest.tenant}/${manifest.entity}, not ${req.tenant}/${entity.id}`);
    }
    manifests.set(unit.unitId, manifest);
  }
  // A key sweep's units hold keys only: they are never merged as content (shared/load/sweepKeys.ts).
  if (isKeySweep(label, manifests)) return sweepKeys(req, manifests);

  const checkpoint: LoadCheckpoint = {
    formatVersion: 1, loadId, mode, loadedAt, invocations: (req.resume?.invocations ?? 0) + 1,
    units: Object.fromEntries(req.units.map((u) => [u.unitId, { ...(req.resume?.units[u.unitId] ?? { files: 0, batches: 0 }) }])),
    ...(req.resume?.merge ? { merge: structuredClone(req.resume.merge) } : {}),
  };
  /** A staging statement: this invocation has sent work, so a MERGE step must fit the time that is left. */
  let stagedHere = false;
  const heartbeat = new Date().toISOString();
  let stagingStarted = false;
  try {
    if (!req.resume) {
      // Steady state sends no SHOW/DESCRIBE: a look made today for this shape of the entity is trusted.
      const remembered = lookKey !== undefined && (await lookIsRemembered(store, lookKey, fingerprint, Date.now()));
      if (!remembered) {
        const workingTables = await prepareTables(wh, entity, table, deadline, log);
        await dropAbandonedWorkingTables(wh, table, workingTables, working.name, deadline, log);
        if (lookKey) await rememberLook(store, lookKey, fingerprint, new Date());
      }
      // A first invocation starts from nothing, even if an attempt of the same load left its working table.
      await wh.execute(createWorkingTableSql(entity, working, { target: label, loadId, heartbeat }, true), {}, { deadline });
    } else {
      const exists = (await wh.execute(showTablesSql(table), {}, { deadline })).some((r) => String(r.tableName ?? '') === working.name);
      if (exists) await wh.execute(heartbeatSql(working, heartbeat), {}, { deadline });
      else {
        // Dropped meanwhile (an hour without this load): stage again from the start.
        log.warn('the working table of this load is gone: staging again from the start', { table: label, loadId });
        for (const progress of Object.values(checkpoint.units)) Object.assign(progress, { files: 0, batches: 0 });
        delete checkpoint.merge;
        await wh.execute(createWorkingTableSql(entity, working, { target: label, loadId, heartbeat }), {}, { deadline });
      }
    }
    stagingStarted = true;

    const unitStaging: UnitStaging = {
      wh, store, entity, working, mode, loadedAt, deadline,
      timeForAnotherStep: () => {
        if (deadline.remainingMs() < STAGE_STEP_RESERVE_MS) throw new OutOfTime();
      },
      sending: () => {
        stagedHere = true;
      },
    };
    for (const unit of req.units) {
      const manifest = manifests.get(unit.unitId)!;
      const progress = checkpoint.units[unit.unitId]!;
      await stageUnit(unitStaging, unit.unitId, unit.unitPrefix, manifest, progress);
    }
    if (deadline.remainingMs() < MERGE_PHASE_RESERVE_MS) throw new OutOfTime();
  } catch (error) {
    if (error instanceof OutOfTime || (error instanceof DeadlineExceededError && stagingStarted)) {
      log.info('load continues in the next invocation', { table: label, loadId, invocation: checkpoint.invocations });
      return continuation(table, checkpoint, manifests, wh, at);
    }
    await dropOwnWorkingTable(error);
    throw await afterShapeChange(error);
  }

  try {
    return await mergePhase();
  } catch (error) {
    if (error instanceof OutOfTime) {
      log.info('load continues in the next invocation (merging)', { table: label, loadId, invocation: checkpoint.invocations, done: checkpoint.merge?.steps });
      return continuation(table, checkpoint, manifests, wh, at);
    }
    await dropOwnWorkingTable(error);
    throw await afterShapeChange(error);
  }

  /**
   * A table or column not as remembered (dropped or altered behind the loader's back): the remembered look is
   * forgotten and the error becomes transient, so the retried load looks at the schema again and repairs it.
   */
  async function afterShapeChange(error: unknown): Promise<unknown> {
    if (!lookKey || !isShapeChanged(error)) return error;
    await forgetLook(store, lookKey, new Date()).catch((cause) => log.warn('could not forget the remembered look', { table: label, error: String(cause) }));
    log.warn('a table or column changed behind the loader: the next attempt looks at the schema again', { table: label, error: (error as Error).message?.slice(0, 300) });
    return new TableChangedError(
      `${label}: a table or column is not what the load expected (dropped or altered outside the sync?): ${(error as Error).message?.slice(0, 400)}. ` +
        'The remembered look at the schema was forgotten: the retried load looks again, recreates what is missing and continues',
      { cause: error },
    );
  }

  /** A failed load removes its working table (best effort: the next load of the table cleans up otherwise). */
  async function dropOwnWorkingTable(error: unknown): Promise<void> {
    if ((error as Error)?.name === 'LeaseLostError' || (error as Error)?.name === 'AbortError') return; // no statement may go out any more
    await wh.execute(dropTableSql(working), {}, { deadline: Deadline.none() }).catch(() => undefined);
  }

  /**
   * Checks, MERGEs and soft deletes. Each step is idempotent and recorded in the checkpoint, and a step starts
   * only if the invocation has time for it (at least the reserve, and what the previous MERGE took): a MERGE
   * of a big first backfill may need an invocation of its own.
   */
  async function mergePhase(): Promise<LoadTableResult> {
    const progress = (checkpoint.merge ??= {
      checked: false, refused: [], steps: [], counts: { currentInserted: 0, currentUpdated: 0, historyInserted: 0, currentSoftDeleted: 0 },
    });
    // Complete reads: snapshots, and incremental entities read whole by a full or reconcile run.
    const snapshots = [...manifests].filter(([, m]) => m.strategy === 'snapshot' || m.complete === true);
    const divisional = entity.scope === 'division';
    const guard: VanishedGuard = entity.strategy === 'snapshot' ? 'snapshot' : 'incremental';
    const scopeParams = (unitId: string, m: UnitManifest): Record<string, string> => ({
      tenant: m.tenant, company: m.company, ...(divisional ? { division: m.division } : {}), unit: unitId,
      ...(guard === 'snapshot' ? { stamp: m.runStartedAt } : { read_started: m.startedAt }),
    });
    const quality = (progress.quality ??= []);
    const qualityOf = (company: string): CompanyQuality => {
      let entry = quality.find((q) => q.company === company);
      if (!entry) quality.push((entry = { company, changedWithoutNewStamp: 0, softDeleted: 0 }));
      return entry;
    };
    if (!progress.checked) await checkStaged(snapshots, divisional, guard, scopeParams, progress, qualityOf);
    for (const unit of progress.refused) manifests.delete(unit.unitId);
    progress.checked = true;

    // Until a step of this invocation has been timed, assume the most a step may take: the staging time does not
    // predict a MERGE (copy mode stages 10 million rows in minutes; the MERGE writing them takes about as long
    // again), and a step that outlives the invocation is lost work. An invocation that has sent nothing else yet
    // runs its first step whatever the estimate: a later one would have no more time.
    let lastStepMs = MAX_STEP_ESTIMATE_MS;
    let fresh = !stagedHere;
    const step = async (name: MergeStep, run: () => Promise<void>) => {
      if (progress.steps.includes(name)) return;
      const needs = fresh ? MERGE_PHASE_RESERVE_MS : Math.max(MERGE_PHASE_RESERVE_MS, Math.min(1.2 * lastStepMs, MAX_STEP_ESTIMATE_MS));
      if (deadline.remainingMs() < needs) throw new OutOfTime();
      fresh = false;
      const started = Date.now();
      await run();
      lastStepMs = Date.now() - started;
      progress.steps.push(name);
    };
    // Complete units that loaded: the current MERGE soft-deletes their absent keys (one clause each). The keys it
    // deletes are those the check counted as vanished (same scope, guard and absence), so the figures come from there.
    const deleting = snapshots.filter(([unitId]) => manifests.has(unitId));
    await step('current', async () => {
      const params: Record<string, string> = { loaded_at: loadedAt };
      deleting.forEach(([unitId, m], i) => {
        const scope = { ...scopeParams(unitId, m), run_id: m.runId, ...(guard === 'incremental' ? { read_completed: m.completedAt } : {}) };
        for (const [name, value] of Object.entries(scope)) if (name !== 'unit') params[completeUnitParam(name, i)] = value;
      });
      const [current] = await wh.execute(mergeCurrentSql(entity, table, working, { units: deleting.length, divisional, guard }), deleting.length ? params : {}, { deadline });
      let softDeleted = 0;
      for (const [unitId, m] of deleting) {
        const vanished = progress.vanished?.[unitId] ?? 0;
        softDeleted += vanished;
        qualityOf(m.company).softDeleted += vanished;
      }
      progress.counts.currentInserted = count(current?.num_inserted_rows);
      progress.counts.currentUpdated = Math.max(0, count(current?.num_updated_rows) - softDeleted);
      progress.counts.currentSoftDeleted = softDeleted;
      // Recorded with the MERGE's own step (one checkpoint write): a continuation neither deletes nor counts again.
      progress.steps.push('softDeletes');
    });
    await step('history', async () => {
      const [history] = await wh.execute(mergeHistorySql(entity, table, working), {}, { deadline });
      progress.counts.historyInserted = count(history?.num_inserted_rows);
    });
    // Only a load whose current MERGE an earlier version made (without soft deletes) still has this step to do.
    await step('softDeletes', async () => {
      let softDeleted = 0;
      for (const [unitId, m] of snapshots.filter(([unitId]) => manifests.has(unitId))) {
        const [row] = await wh.execute(softDeleteSql(table, working, divisional, guard), {
          ...scopeParams(unitId, m), loaded_at: loadedAt, run_id: m.runId, ...(guard === 'incremental' ? { read_completed: m.completedAt } : {}),
        }, { deadline });
        softDeleted += count(row?.num_affected_rows);
        qualityOf(m.company).softDeleted += count(row?.num_affected_rows);
      }
      progress.counts.currentSoftDeleted = softDeleted;
    });
    // Into the warehouse's _sync_quality: every load with complete reads of an incremental entity (so a reconcile
    // that found nothing says so), and every load that found something; ordinary loads add no statement.
    const completeIncremental = guard === 'incremental' && snapshots.some(([unitId]) => manifests.has(unitId));
    const found = quality.filter((q) => q.changedWithoutNewStamp > 0 || q.softDeleted > 0);
    if (completeIncremental || found.length > 0) {
      await step('qualityRecord', async () => {
        const companies = [...new Set([...[...manifests.values()].map((m) => m.company), ...found.map((q) => q.company)])].sort();
        const rows = companies.map((company) => {
          const q = quality.find((c) => c.company === company);
          return { company, changed: String(q?.changedWithoutNewStamp ?? 0), deleted: String(q?.softDeleted ?? 0) };
        });
        await wh.execute(createQualityTableSql(table), {}, { deadline });
        await wh.execute(recordQualitySql(table), {
          run_id: req.runId, load_id: loadId, tenant: req.tenant, entity: entity.id, target_table: label, loaded_at: loadedAt, rows: JSON.stringify(rows),
        }, { deadline });
      });
    }
    // The control totals (and the working table's drop) go to RefreshMarts when deferred: three statements less
    // here. Last, so that a record left means a load with nothing more to do.
    await step('controlTotals', async () => {
      if (req.controlTotals === 'defer') await leaveFinishedLoad(store, wh.workspace, finishedLoad());
      else await writeControlTotals(wh, [finishedLoad()], () => true, deadline);
    });
    if (req.controlTotals !== 'defer') await wh.execute(dropTableSql(working), {}, { deadline });

    const units: UnitLoadResult[] = [...manifests].map(([unitId, m]) => ({
      unitId, records: m.totalRecords, maxChangeStamp: m.maxChangeStamp, maxChangeDate: m.maxChangeDate,
    }));
    const result: LoadTableResult = {
      status: 'loaded',
      table,
      ...progress.counts,
      quality: quality.filter((q) => q.changedWithoutNewStamp > 0 || q.softDeleted > 0).sort((a, b) => a.company.localeCompare(b.company)),
      statements: wh.stats.statements - at.statements,
      bytesSent: wh.stats.bytesSent - at.bytes,
      units,
      refused: progress.refused.map(({ unitId, reason, kind }) => ({ unitId, reason, ...(kind ? { kind } : {}) })),
    };
    log.info('table loaded', { ...result, units: units.length, refused: progress.refused.length, mode, invocations: checkpoint.invocations });
    return result;
  }

  /**
   * One statement (stagedCheckSql.ts) answers the checks, then: completeness (what reached the warehouse is
   * exactly what the manifests promised), control totals, and the vanished keys of complete units: a unit in which
   * too many keys would go at once, or whose totals differ, is refused (taken out of the working table, its scope
   * unchanged) while the others load; when every unit is refused the load fails. The silent changes of the units
   * that load are the data-quality figure (counted before the MERGE that repairs them).
   */
  async function checkStaged(
    allSnapshots: [string, UnitManifest][],
    divisional: boolean,
    guard: VanishedGuard,
    scopeParams: (unitId: string, m: UnitManifest) => Record<string, string>,
    progress: MergeProgress,
    qualityOf: (company: string) => CompanyQuality,
  ): Promise<void> {
    const refusedOut = progress.refused;
    let snapshots = allSnapshots;
    const params: Record<string, string> = {};
    allSnapshots.forEach(([unitId, m], i) => {
      for (const [name, value] of Object.entries(scopeParams(unitId, m))) params[completeUnitParam(name, i)] = value;
    });
    const rows = await wh.execute(stagedCheckSql(entity, table, working, allSnapshots.length, divisional, guard), params, { deadline });
    const totals = groupTotals(entity, rows.filter((r) => r.kind === 'totals'));
    for (const [unitId, manifest] of manifests) {
      const staged = Object.values(totals.get(unitId) ?? {}).reduce((n, t) => n + t.records, 0);
      if (staged !== manifest.totalRecords) {
        throw new LoadError(`${label}: unit ${unitId} staged ${staged} rows but its manifest lists ${manifest.totalRecords}; nothing was merged, rerun the load`);
      }
    }
    const mismatched = checkControlTotals(totals);
    if (mismatched.length > 0 && mismatched.length === manifests.size) {
      throw new ControlTotalError(`${label}: ${mismatched.map((m) => m.detail).join('; ')}. Nothing was merged. ${CONTROL_TOTALS_ADVICE}`);
    }
    for (const unit of mismatched) {
      await wh.execute(dropStagedUnitSql(working), { unit: unit.unitId }, { deadline });
      log.error('unit refused: control totals differ', { table: label, unitId: unit.unitId, detail: unit.detail });
      refusedOut.push({ unitId: unit.unitId, kind: 'control-totals', reason: `${label}: ${unit.detail}. Nothing of this unit was merged. ${CONTROL_TOTALS_ADVICE}` });
    }
    const refusedForTotals = new Set(mismatched.map((m) => m.unitId));
    snapshots = snapshots.filter(([unitId]) => !refusedForTotals.has(unitId));
    const remaining = manifests.size - refusedForTotals.size;

    const tolerated = `tolerated: ${(maxVanishedShare * 100).toFixed(1)}%`;
    const advice = 'Check the source (a wrong company or filter?) or raise the flow\'s vanished-keys share, then rerun';
    const vanishedOf = new Map(rows.filter((r) => r.kind === 'vanished').map((r) => [String(r.unit), r]));
    progress.vanished = Object.fromEntries([...vanishedOf].map(([unitId, row]) => [unitId, count(row.vanished)]));
    const refused: (RefusedUnit & { scope: string })[] = [];
    for (const [unitId, m] of snapshots) {
      const row = vanishedOf.get(unitId);
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
    if (refused.length > 0 && refused.length === remaining) {
      throw new VanishedKeysError(
        `${label}: too many keys would be marked deleted at once (${refused.map((r) => r.scope).join('; ')}; ${tolerated}). Nothing was changed. ${advice}`,
      );
    }
    for (const unit of refused) {
      await wh.execute(dropStagedUnitSql(working), { unit: unit.unitId }, { deadline });
      log.warn('unit refused: too many keys would vanish', { table: label, unitId: unit.unitId, scope: unit.scope });
      refusedOut.push({ unitId: unit.unitId, kind: 'vanished-keys', reason: unit.reason });
    }
    // Silent changes of the units that load (a key staged by two units counts where its newest version is).
    const out = new Set(refusedOut.map((r) => r.unitId));
    for (const row of rows.filter((r) => r.kind === 'silent' && !out.has(String(r.unit)))) {
      qualityOf(String(row.company)).changedWithoutNewStamp += count(row.silent);
    }
  }

  /**
   * Control totals, before anything merges: per unit and period, the record count and every amount's sum in the
   * working table (the rows exactly as the MERGE writes them) must equal the manifest's, computed from M3's own
   * text when the unit was staged. Compared as exact decimals. Units staged before control totals existed have none.
   */
  function checkControlTotals(loaded: Map<string, ControlTotals>): { unitId: string; detail: string }[] {
    const mismatched: { unitId: string; detail: string }[] = [];
    for (const [unitId, manifest] of manifests) {
      const staged = manifest.controlTotals;
      if (!staged) continue;
      const found = loaded.get(unitId) ?? {};
      const difference = firstDifference(staged, found);
      if (difference) {
        mismatched.push({
          unitId,
          detail: `control totals differ for unit ${unitId} (company ${manifest.company}${manifest.division ? ` division ${manifest.division}` : ''}), ` +
            `period ${difference.period}, field ${difference.field}: staged ${difference.staged}, about to be merged ${difference.loaded}`,
        });
      }
    }
    return mismatched;
  }

  function firstDifference(staged: ControlTotals, loaded: ControlTotals): { period: string; field: string; staged: string; loaded: string } | undefined {
    for (const period of [...new Set([...Object.keys(staged), ...Object.keys(loaded)])].sort()) {
      const a = staged[period];
      const b = loaded[period];
      if ((a?.records ?? 0) !== (b?.records ?? 0)) return { period, field: 'record count', staged: String(a?.records ?? 0), loaded: String(b?.records ?? 0) };
      for (const field of amountFields(entity)) {
        const x = canonicalTotalOf(a?.amounts[field] ?? '0') ?? 'not a number';
        const y = canonicalTotalOf(b?.amounts[field] ?? '0') ?? 'not a number';
        if (x !== y) return { period, field, staged: x, loaded: y };
      }
    }
    return undefined;
  }

  /** What the control totals of this load need once it has merged: its units' staged totals and its working table. */
  function finishedLoad(): FinishedLoad {
    const units = [...manifests]
      .filter(([, m]) => m.controlTotals)
      .map(([unitId, m]) => ({ unitId, tenant: m.tenant, runId: m.runId, company: m.company, division: m.division, controlTotals: m.controlTotals! }));
    return { formatVersion: 1, loadId, loadedAt, table, working, entity, units };
  }
}

/** For callers without a deadline (the CLI, benchmarks): a load that answers a checkpoint is a bug there. */
export function expectLoaded(outcome: LoadOutcome): LoadTableResult {
  if (outcome.status !== 'loaded') throw new LoadError(`${outcome.table.name}: the load stopped for its deadline, but this caller has none`);
  return outcome;
}
