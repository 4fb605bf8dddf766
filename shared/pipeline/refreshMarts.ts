// RefreshMarts: after the tables are loaded and committed, (re)create the finance marts (shared/load/marts) in
// every catalog and schema the run wrote to, and count gl_unbalanced_vouchers for the UnbalancedVouchers metric.
// It also finishes the run's loads (shared/load/controlTotalsWriter.ts): their control totals in one MERGE per
// schema, their working tables dropped. Nothing here changes loaded data, so a failure is reported (result, logs)
// and never undoes a commit; a mart whose tables do not exist yet is skipped with a note and appears on a later
// run once they do, and control totals not written are written by the next run's RefreshMarts.
import { finishDeferredLoads, readFinishedLoads, type FinishedLoad, type FinishedLoadsOutcome } from '../load/controlTotalsWriter.ts';
import { createMartSql, countMartRowsSql, MARTS, showTablesSql, UNBALANCED_VOUCHERS_MART, type MartInput, type MartSchema } from '../load/marts/martViews.ts';
import { Deadline } from '../runtime/deadline.ts';
import type { WarehouseSession } from '../load/loadTypes.ts';
import type { PipelineDeps } from './pipelineDeps.ts';
import type { RunPlan } from './runPlan.ts';

export interface RefreshMartsRequest {
  plan: string;
}

export interface SchemaMarts {
  /** `catalog.schema` */
  schema: string;
  created: string[];
  skipped: { mart: string; reason: string }[];
  failed: { mart: string; error: string }[];
  /** Rows of gl_unbalanced_vouchers, when it was created. */
  unbalancedVouchers?: number;
  /** The finished loads whose control totals were written here (absent: none were waiting). */
  controlTotals?: FinishedLoadsOutcome;
  /** Why the control totals waiting here were not written (they are written by the next run). */
  controlTotalsError?: string;
}

export interface RefreshMartsResult {
  plan: string;
  schemas: SchemaMarts[];
}

const MART_INPUTS: readonly MartInput[] = ['ap_ledger', 'gl_transactions', 'purchase_order_lines', 'supplier_invoice_lines'];

interface SchemaTargets extends MartSchema {
  /** The current table each input lands in here; undefined when this run writes it to one table per company. */
  tables: Map<MartInput, string | undefined>;
}

/** The schemas the run wrote to, and which table each mart input has there (the entity id unless configured). */
function schemasOf(plan: RunPlan): SchemaTargets[] {
  const schemas = new Map<string, SchemaTargets>();
  for (const unit of plan.units) {
    const key = `${unit.table.catalog}.${unit.table.schema}`;
    const target = schemas.get(key) ?? { catalog: unit.table.catalog, schema: unit.table.schema, tables: new Map() };
    schemas.set(key, target);
    const input = MART_INPUTS.find((i) => i === unit.entity);
    if (!input) continue;
    const seen = target.tables.get(input);
    const known = target.tables.has(input);
    target.tables.set(input, known && seen !== unit.table.name ? undefined : unit.table.name);
  }
  return [...schemas.values()].sort((a, b) => `${a.catalog}.${a.schema}`.localeCompare(`${b.catalog}.${b.schema}`));
}

type RefreshDeps = Pick<PipelineDeps, 'plans' | 'openWarehouse' | 'log' | 'store'>;

export async function refreshMarts(request: RefreshMartsRequest, deps: RefreshDeps): Promise<RefreshMartsResult> {
  const plan = await deps.plans.get(request.plan);
  deps.log.appendKeys({ runId: plan.runId });
  const targets = schemasOf(plan);
  let warehouse: WarehouseSession;
  try {
    warehouse = await deps.openWarehouse(plan.warehouseSecretName);
  } catch (error) {
    const message = `the warehouse could not be reached (${(error as Error).message.slice(0, 300)}); the data is committed, the marts are refreshed on the next run`;
    deps.log.error('marts not refreshed', { error: (error as Error).name, message });
    return { plan: request.plan, schemas: targets.map((t) => ({ schema: `${t.catalog}.${t.schema}`, created: [], skipped: [], failed: MARTS.map((m) => ({ mart: m.name, error: message })) })) };
  }
  try {
    const schemas: SchemaMarts[] = [];
    for (const target of targets) schemas.push(await refreshSchema(target, warehouse, deps));
    return { plan: request.plan, schemas };
  } finally {
    await warehouse.close().catch(() => undefined);
  }
}

async function refreshSchema(target: SchemaTargets, warehouse: WarehouseSession, deps: RefreshDeps): Promise<SchemaMarts> {
  const { log } = deps;
  const schema = `${target.catalog}.${target.schema}`;
  const outcome: SchemaMarts = { schema, created: [], skipped: [], failed: [] };
  // The loads' records first, then the tables: a working table missing from the listing is really gone.
  let finished: FinishedLoad[] = [];
  try {
    finished = await readFinishedLoads(deps.store, warehouse.workspace, target, log);
  } catch (error) {
    outcome.controlTotalsError = `the finished loads could not be listed: ${(error as Error).message.slice(0, 300)}`;
  }
  let existing: Set<string>;
  try {
    existing = new Set((await warehouse.execute(showTablesSql(target))).map((row) => String(row.tableName ?? '').toLowerCase()));
  } catch (error) {
    const message = `the tables of ${schema} could not be listed: ${(error as Error).message.slice(0, 300)}`;
    log.error('marts not refreshed', { schema, message });
    outcome.failed.push(...MARTS.map((m) => ({ mart: m.name, error: message })));
    if (finished.length > 0) outcome.controlTotalsError = message;
    return outcome;
  }
  if (finished.length > 0) {
    try {
      outcome.controlTotals = await finishDeferredLoads(warehouse, deps.store, finished, existing, Deadline.none(), log);
      log.info('control totals written', { schema, ...outcome.controlTotals });
    } catch (error) {
      outcome.controlTotalsError = `${(error as Error).message.slice(0, 300)}; the next run writes them`;
      log.error('control totals not written', { schema, message: outcome.controlTotalsError });
    }
  }
  const tables = {} as Record<MartInput, string>;
  for (const input of MART_INPUTS) tables[input] = (target.tables.has(input) ? target.tables.get(input) : input) ?? '';
  for (const mart of MARTS) {
    const missing = mart.reads.find((input) => !tables[input] || !existing.has(tables[input]));
    if (missing) {
      const reason = !tables[missing]
        ? `${missing} is loaded into one table per company here; the marts read one table per entity`
        : `table ${schema}.${tables[missing]} does not exist yet (${missing} not synced)`;
      outcome.skipped.push({ mart: mart.name, reason });
      log.info('mart skipped', { schema, mart: mart.name, reason });
      continue;
    }
    const waitingFor = (mart.after ?? []).find((name) => !outcome.created.includes(name));
    if (waitingFor) {
      outcome.skipped.push({ mart: mart.name, reason: `it reads ${waitingFor}, which was not created` });
      continue;
    }
    try {
      await warehouse.execute(createMartSql(mart, target, tables));
      outcome.created.push(mart.name);
    } catch (error) {
      const message = (error as Error).message.slice(0, 500);
      outcome.failed.push({ mart: mart.name, error: message });
      log.error('mart not created', { schema, mart: mart.name, message });
    }
  }
  if (outcome.created.includes(UNBALANCED_VOUCHERS_MART)) {
    try {
      const [row] = await warehouse.execute(countMartRowsSql(target, UNBALANCED_VOUCHERS_MART));
      outcome.unbalancedVouchers = Number(row?.row_count ?? 0);
      if (outcome.unbalancedVouchers > 0) {
        log.warn('GL vouchers that do not balance in the warehouse', { schema, vouchers: outcome.unbalancedVouchers, see: `${schema}.${UNBALANCED_VOUCHERS_MART}` });
      }
    } catch (error) {
      outcome.failed.push({ mart: UNBALANCED_VOUCHERS_MART, error: `counting its rows failed: ${(error as Error).message.slice(0, 300)}` });
    }
  }
  log.info('marts refreshed', { schema, created: outcome.created.length, skipped: outcome.skipped.length, failed: outcome.failed.length });
  return outcome;
}
