// Writing a load's control totals into `<catalog>.<schema>._sync_control_totals`: per unit, period and field,
// as staged, as merged and as found in the current table afterwards (computed from the load's working table,
// which holds the keys each unit brought). A load either does it itself at its end (the CLI), or leaves a small
// record of what it staged in the staging store and its working table in place ('defer'): the pipeline's
// RefreshMarts step then writes the totals of every finished load of a schema in one MERGE and drops their
// working tables, which keeps a load at five statements. A record whose RefreshMarts never ran (a stopped
// execution) is written by the next one; one whose working table is gone by then gets no current total.
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import * as z from 'zod';
import { entityDefinitionSchema, type EntityDefinition } from '../catalog/entityDefinition.ts';
import type { Log } from '../observability/logger.ts';
import type { Deadline } from '../runtime/deadline.ts';
import { joinKey, type BlobStore } from '../staging/blobStore.ts';
import { amountFields, canonicalTotalOf, controlTotalsSchema, type ControlTotals } from '../staging/controlTotals.ts';
import { currentRowTotalsSql, RECORDS_FIELD, totalAlias, writeControlTotalsSql, type ControlTotalsRow } from './controlTotalsSql.ts';
import { dropTableSql } from './loadSql.ts';
import type { TargetTable, WarehouseSession } from './loadTypes.ts';
import { REMEMBERED_LOOKS_PREFIX, workspaceFolder } from './rememberedLook.ts';

const targetSchema = z.object({ catalog: z.string(), schema: z.string(), name: z.string() });

/** What a finished load leaves for its control totals: its units' staged totals and its working table. */
export const finishedLoadSchema = z.object({
  formatVersion: z.literal(1),
  loadId: z.string(),
  loadedAt: z.string(),
  table: targetSchema,
  working: targetSchema,
  entity: entityDefinitionSchema,
  units: z.array(
    z.object({ unitId: z.string(), tenant: z.string(), runId: z.string(), company: z.string(), division: z.string(), controlTotals: controlTotalsSchema }),
  ),
});
export type FinishedLoad = z.infer<typeof finishedLoadSchema>;

/** Outside runs/ (no lifecycle expiry): removed once written. */
function schemaFolder(workspace: string | undefined, schema: { catalog: string; schema: string }): string {
  return joinKey(REMEMBERED_LOOKS_PREFIX, workspaceFolder(workspace), 'control-totals', `${schema.catalog}.${schema.schema}`);
}

export function finishedLoadKey(workspace: string | undefined, load: Pick<FinishedLoad, 'table' | 'loadId'>): string {
  return joinKey(schemaFolder(workspace, load.table), `${encodeURIComponent(`${load.table.name}|${load.loadId}`)}.json`);
}

/** Written again by a retried step, it is the same object. */
export async function leaveFinishedLoad(store: BlobStore, workspace: string | undefined, load: FinishedLoad): Promise<void> {
  await store.put(finishedLoadKey(workspace, load), Readable.from([Buffer.from(JSON.stringify(load))]));
}

/** Rows of a totals query → unit → period → totals (amount fields by M3 name, canonical decimal text). */
export function groupTotals(entity: EntityDefinition, rows: Record<string, unknown>[]): Map<string, ControlTotals> {
  const byUnit = new Map<string, ControlTotals>();
  for (const row of rows) {
    const totals = byUnit.get(String(row.unit)) ?? {};
    totals[String(row.period)] = {
      records: Number(row.records ?? 0),
      amounts: Object.fromEntries(amountFields(entity).map((f) => [f, canonicalTotalOf(String(row[totalAlias(f)] ?? '0')) ?? String(row[totalAlias(f)])])),
    };
    byUnit.set(String(row.unit), totals);
  }
  return byUnit;
}

/** One row per unit, period and field; `current` undefined: the working table was gone, no current total. */
function rowsOf(load: FinishedLoad, current: Map<string, ControlTotals> | undefined): ControlTotalsRow[] {
  const { entity, table } = load;
  const label = `${table.catalog}.${table.schema}.${table.name}`;
  const rows: ControlTotalsRow[] = [];
  for (const unit of load.units) {
    const now = current?.get(unit.unitId) ?? {};
    for (const period of [...new Set([...Object.keys(unit.controlTotals), ...Object.keys(now)])].sort()) {
      const totalOf = (t: ControlTotals, field: string) => (field === RECORDS_FIELD ? String(t[period]?.records ?? 0) : canonicalTotalOf(t[period]?.amounts[field] ?? '0') ?? '0');
      for (const field of [RECORDS_FIELD, ...amountFields(entity)]) {
        rows.push({
          tenant: unit.tenant, table_name: label, entity: entity.id, unit_id: unit.unitId, run_id: unit.runId, company: unit.company, division: unit.division, period,
          field: field === RECORDS_FIELD ? field : field.toLowerCase(),
          // What merged equals what was staged for every unit here: the load's check refused the others.
          staged_total: totalOf(unit.controlTotals, field), loaded_total: totalOf(unit.controlTotals, field),
          current_total: current ? totalOf(now, field) : (null as unknown as string),
          load_id: load.loadId, loaded_at: load.loadedAt,
        });
      }
    }
  }
  return rows;
}

/**
 * Writes the totals of these loads (all in one schema) in one MERGE, the current totals read from each one's
 * working table when it is still there (`present`: its name is in the schema); a lost answer, written again,
 * adds nothing. Returns the statements sent.
 */
export async function writeControlTotals(wh: WarehouseSession, loads: readonly FinishedLoad[], present: (working: TargetTable) => boolean, deadline: Deadline): Promise<number> {
  let statements = 0;
  const rows: ControlTotalsRow[] = [];
  for (const load of loads) {
    if (load.units.length === 0) continue;
    let current: Map<string, ControlTotals> | undefined;
    if (present(load.working)) {
      current = groupTotals(load.entity, await wh.execute(currentRowTotalsSql(load.entity, load.table, load.working), {}, { deadline }));
      statements++;
    }
    rows.push(...rowsOf(load, current));
  }
  if (rows.length === 0) return statements;
  await wh.execute(writeControlTotalsSql(loads[0]!.table), { rows: JSON.stringify(rows) }, { deadline });
  return statements + 1;
}

export interface FinishedLoadsOutcome {
  loads: number;
  statements: number;
  /** Loads whose working table was gone: their rows have no current total. */
  withoutCurrentTotals: number;
}

/** The records finished loads left for one schema (this run's, and any a stopped execution left). */
export async function readFinishedLoads(store: BlobStore, workspace: string | undefined, schema: { catalog: string; schema: string }, log: Log): Promise<FinishedLoad[]> {
  const loads: FinishedLoad[] = [];
  for (const key of await store.list(schemaFolder(workspace, schema))) {
    try {
      loads.push(finishedLoadSchema.parse(JSON.parse(await text(await store.get(key)))));
    } catch (error) {
      // A damaged or foreign object: left in place and reported.
      log.error("a finished load's control-totals record cannot be read; left in place", { key: store.describe(key), error: (error as Error).message.slice(0, 300) });
    }
  }
  return loads;
}

/**
 * RefreshMarts' part for one schema: the control totals of these loads in one MERGE, then their working tables
 * dropped, then their records removed. `tables`: the schema's table names (SHOW TABLES), listed after the records
 * were read, so a working table missing from it is really gone.
 */
export async function finishDeferredLoads(
  wh: WarehouseSession,
  store: BlobStore,
  loads: readonly FinishedLoad[],
  tables: ReadonlySet<string>,
  deadline: Deadline,
  log: Log,
): Promise<FinishedLoadsOutcome> {
  if (loads.length === 0) return { loads: 0, statements: 0, withoutCurrentTotals: 0 };
  const present = (working: TargetTable) => tables.has(working.name.toLowerCase());
  const withoutCurrentTotals = loads.filter((l) => !present(l.working)).length;
  if (withoutCurrentTotals > 0) {
    log.warn('working tables gone before the control totals were written: those rows have no current total', { schema: `${loads[0]!.table.catalog}.${loads[0]!.table.schema}`, loads: withoutCurrentTotals });
  }
  let statements = await writeControlTotals(wh, loads, present, deadline);
  for (const load of loads) {
    if (!present(load.working)) continue;
    await wh.execute(dropTableSql(load.working), {}, { deadline });
    statements++;
  }
  for (const load of loads) await store.delete(finishedLoadKey(wh.workspace, load));
  return { loads: loads.length, statements, withoutCurrentTotals };
}
