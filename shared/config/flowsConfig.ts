// The schema of the one configuration an operator edits (infra/flows.config.ts): tenants, the warehouse and
// the flows (entity × companies → target table, on a schedule), and its validation, with messages naming the
// flow and field. Dates are parsed once here (YYYY-MM-DD in, yyyyMMdd out). Loaded by loadFlowsConfig.ts.
import * as z from 'zod';
import { EntityCatalog } from '../catalog/entityCatalog.ts';
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import { ConfigError, configErrorFromZod } from './configError.ts';
import { tableKey, targetTableOf } from './targetTable.ts';

/** Catalog, schema and table names: plain lower-case identifiers, so no quoting is ever needed. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,254}$/;
const identifier = z.string().regex(IDENTIFIER, 'lower-case letters, digits and _ only (no dots, quotes, backticks or spaces), starting with a letter or _');
/** A table name leaves room for the `_history` suffix and `_<company>` of one-table-per-company flows. */
const tableName = identifier.refine((v) => v.length <= 240, 'at most 240 characters');

const FLOW_ID = /^[a-z][a-z0-9_-]{0,47}$/;
const TENANT_ID = /^[A-Za-z0-9_]{1,64}$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const COMPANY = /^[1-9]\d{0,2}$/;
/** A division code (DIVI); divisions M3 lists are checked against it too (shared/extract/divisions.ts). */
export const DIVISION = /^[A-Za-z0-9]{1,3}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for an IANA zone name such as Europe/Stockholm or UTC (not an offset like +01:00). */
function isIanaTimeZone(value: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(value)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const timeZone = z.string().refine(isIanaTimeZone, 'an IANA time zone name such as Europe/Stockholm or UTC');

/** yyyy-MM-dd to yyyyMMdd, rejecting impossible dates. */
function parseIsoDate(value: string): string | undefined {
  const match = DATE.exec(value);
  if (!match) return undefined;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return undefined;
  return `${match[1]}${match[2]}${match[3]}`;
}

/** A calendar date given as YYYY-MM-DD, parsed to M3's yyyyMMdd. */
export const isoDate = z.string().transform((v, ctx) => {
  const parsed = parseIsoDate(v);
  if (parsed === undefined) {
    ctx.addIssue({ code: 'custom', message: 'a calendar date as YYYY-MM-DD' });
    return z.NEVER;
  }
  return parsed;
});

const CRON_FIELD = /^[0-9A-Z*?,/#LW-]+$/;
/**
 * An EventBridge Scheduler cron body: six fields (minutes hours day-of-month month day-of-week year), one
 * of day-of-month and day-of-week '?'. Only the shape is checked here; AWS checks the rest at deploy.
 */
export function cronProblem(cron: string): string | undefined {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 6) {
    return `has ${fields.length} fields; EventBridge cron has 6: minutes hours day-of-month month day-of-week year, e.g. "0 2 * * ? *"`;
  }
  if (fields.some((f) => !CRON_FIELD.test(f))) return 'contains characters EventBridge cron does not use';
  const [, , dayOfMonth, , dayOfWeek] = fields;
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return 'exactly one of day-of-month (3rd field) and day-of-week (5th field) must be "?", e.g. "0 2 * * ? *"';
  }
  return undefined;
}

const scheduleSchema = z.strictObject({
  /** EventBridge cron body without "cron(...)", e.g. "0 2 * * ? *" = 02:00 every day. */
  cron: z.string().superRefine((v, ctx) => {
    const problem = cronProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  /** The zone the cron is read in; daylight saving time is handled by EventBridge Scheduler. */
  timeZone,
});

const tenantSchema = z.strictObject({
  /** Secrets Manager secret holding the tenant's .ionapi JSON. */
  secretName: z.string().regex(SECRET_NAME, 'a Secrets Manager secret name'),
  /** The zone M3's date-only change stamps (LMDT) are written in. */
  timeZone,
  /**
   * MI calls per second this product may make to the tenant, shared by every extraction running at once
   * (each gets this divided by the Map's concurrency). Infor licenses 3,000 calls a minute at peak and
   * 250,000 a day; the default leaves room for the tenant's other integrations.
   */
  callsPerSecond: z.number().positive().max(50, 'at most 50 (Infor licenses 3,000 calls a minute at peak)').default(40),
  /**
   * How long one MI call may take before it is abandoned (and retried, or an EXPORTMI page asked for
   * smaller). The gateway itself answers 504 after 60 s, or up to 300 s when an API policy raises it:
   * keep this above the tenant's gateway timeout.
   */
  attemptTimeoutSeconds: z.number().int().min(10).max(600).default(120),
});

const warehouseSchema = z.strictObject({
  /** Secrets Manager secret with {host, httpPath, token | clientId + clientSecret}. */
  secretName: z.string().regex(SECRET_NAME, 'a Secrets Manager secret name'),
  catalog: identifier,
  schema: identifier,
  /**
   * How a load stages rows in the warehouse (either way it then upserts the current table and appends history):
   * merge: ~1 MiB JSON batches bound as statement parameters (a statement per batch; works with any warehouse);
   * copy: COPY INTO straight from the staged files in S3, a few statements per load whatever the volume (needs
   * a Unity Catalog external location over the staging bucket: infra/README.md, "Loading with COPY INTO").
   */
  loadMode: z.enum(['merge', 'copy']).default('merge'),
});

const flowSchema = z.strictObject({
  id: z.string().regex(FLOW_ID, 'lower-case letters, digits, - and _ (at most 48), starting with a letter'),
  entity: z.string().min(1),
  tenant: z.string().min(1),
  companies: z.array(z.string().regex(COMPANY, 'a company number (CONO) 1-999')).min(1, 'name at least one company'),
  /** For division-scoped entities: 'all' (every division the company has, read from M3) or a list. */
  divisions: z.union([z.literal('all'), z.array(z.string().regex(DIVISION, 'a division code (DIVI)')).min(1)]).default('all'),
  target: z
    .strictObject({ catalog: identifier.optional(), schema: identifier.optional(), table: tableName.optional() })
    .default({}),
  /** false: one table with company as a column; true: one table per company, `<table>_<company>`. */
  tablePerCompany: z.boolean().default(false),
  schedule: scheduleSchema,
  /**
   * Days re-read before the watermark (M3 change dates are date-only). At least 1: a run still paging after
   * M3's midnight reads new-day changes behind its cursor, so its watermark names the new day while a
   * change made before midnight to a record it had already passed was never read; with 0 the next window
   * would start at the new day and skip that change for good (found by test/chaos, "midnight-mid-run").
   */
  overlapDays: z
    .number()
    .int()
    .min(1, 'at least 1: a run that is still reading after midnight would otherwise skip changes made late the day before')
    .max(31)
    .default(2),
  /** First run of an incremental entity: read changes since this date (YYYY-MM-DD; parsed to yyyyMMdd); everything when absent. */
  initialSince: isoDate.optional(),
  /**
   * Share of a unit's keys that a complete read (a snapshot entity's every run; an incremental entity's reconcile
   * or full run) may find gone at once before the load refuses that unit (soft delete guard; the others commit).
   */
  maxVanishedShare: z.number().min(0).max(1).default(0.05),
  /**
   * Incremental entities only: when a reconcile run reads the flow whole, soft-deleting keys M3 deleted and
   * repairing rows M3 changed without a new change stamp. Default: weekly, Sunday 22:00 in the tenant's time
   * zone (DEFAULT_RECONCILE_CRON); false turns it off.
   */
  reconcile: z.union([z.literal(false), scheduleSchema]).optional(),
  /**
   * Incremental entities only: how the daily sweep looks for keys M3 deleted (an LMDT window never shows a
   * delete). "sweep": a sweep run reads the key columns only (one narrow EXPORTMI column group, far fewer calls
   * than a complete read) and soft-deletes the scope's keys it no longer finds, under the vanished-keys guard.
   * "none": no sweep (the weekly reconcile still finds deletes). Default: "sweep", except for the ledgers
   * (FPLEDG: ap_ledger, FGLEDG: gl_transactions), where it is "none": M3 reverses a posted ledger entry with a
   * new entry, it does not delete it, so a sweep would read every key of the largest tables to find nothing.
   */
  deleteDetection: z.enum(['sweep', 'none']).optional(),
  /**
   * When the sweep of a flow with deleteDetection "sweep" starts. Default: daily at 20:00 in the tenant's time
   * zone (DEFAULT_SWEEP_CRON): after the business day's deletes, hours before the nightly incremental runs;
   * it must differ from the flow's incremental and reconcile schedules. false turns it off.
   */
  sweep: z.union([z.literal(false), scheduleSchema]).optional(),
  /** Hours without a successful commit before the freshness alarm fires. */
  freshnessHours: z.number().int().min(1).max(168).default(26),
  enabled: z.boolean().default(true),
});

export const flowsConfigSchema = z.strictObject({
  tenants: z.record(z.string().regex(TENANT_ID, 'tenant ids are letters, digits and _'), tenantSchema).refine(
    (t) => Object.keys(t).length > 0,
    'define at least one tenant',
  ),
  warehouse: warehouseSchema,
  flows: z.array(flowSchema).min(1, 'define at least one flow'),
  /** Units extracted (and tables loaded) in parallel; Step Functions' inline Map allows up to 40. */
  maxConcurrency: z.number().int().min(1).max(40).default(10),
  /** Extra or overriding entity definitions (see shared/catalog/entityDefinition.ts; `describe` prints them). */
  extraEntities: z.array(z.unknown()).default([]),
  /** Days the run ledger and run plans are kept (reruns are possible within this time). */
  runRetentionDays: z.number().int().min(1).max(365).default(35),
  /** Days staged files under runs/ are kept in S3. */
  stagingRetentionDays: z.number().int().min(1).max(365).default(14),
  /** Optional e-mail address subscribed to the alarm topic. */
  alarmEmail: z.email().optional(),
});

export type FlowsConfigInput = z.input<typeof flowsConfigSchema>;

/** Sunday 22:00: after the weekend's postings, before Monday's nightly runs. */
export const DEFAULT_RECONCILE_CRON = '0 22 ? * SUN *';

/**
 * When a flow's reconcile run starts, or undefined when it has none (a snapshot entity, which every run reads
 * whole, or `reconcile: false`).
 */
export function reconcileScheduleOf(flow: FlowConfig, config: FlowsConfig, catalog: EntityCatalog): { cron: string; timeZone: string } | undefined {
  if (flow.reconcile === false || catalog.get(flow.entity).strategy !== 'incremental') return undefined;
  return flow.reconcile ?? { cron: DEFAULT_RECONCILE_CRON, timeZone: config.tenants[flow.tenant]!.timeZone };
}

/** M3 tables whose posted rows are reversed by new entries, never deleted: no sweep by default. */
const REVERSED_NOT_DELETED: ReadonlySet<string> = new Set(['FPLEDG', 'FGLEDG']);

/**
 * How a flow looks for deletes between reconciles: "sweep" (the daily key sweep) or "none". Snapshot entities
 * need none (every run reads them whole); incremental ones default by their table (see `deleteDetection`).
 */
export function deleteDetectionOf(flow: FlowConfig, catalog: EntityCatalog): 'sweep' | 'none' {
  const entity = catalog.get(flow.entity);
  if (entity.strategy !== 'incremental' || entity.source.kind !== 'exportmi') return 'none';
  return flow.deleteDetection ?? (REVERSED_NOT_DELETED.has(entity.source.table) ? 'none' : 'sweep');
}

/** Daily 20:00: after the business day's deletes, well before the nightly runs (02:00 by default). */
export const DEFAULT_SWEEP_CRON = '0 20 * * ? *';

/** When a flow's key sweep starts, or undefined when it has none (deleteDetection "none", or `sweep: false`). */
export function sweepScheduleOf(flow: FlowConfig, config: FlowsConfig, catalog: EntityCatalog): { cron: string; timeZone: string } | undefined {
  if (flow.sweep === false || deleteDetectionOf(flow, catalog) !== 'sweep') return undefined;
  return flow.sweep ?? { cron: DEFAULT_SWEEP_CRON, timeZone: config.tenants[flow.tenant]!.timeZone };
}

/** A cron body in a canonical spacing, for comparing schedules. */
function sameSchedule(a: { cron: string; timeZone: string }, b: { cron: string; timeZone: string }): boolean {
  const norm = (cron: string) => cron.trim().split(/\s+/).join(' ');
  return norm(a.cron) === norm(b.cron) && a.timeZone === b.timeZone;
}

export type FlowsConfig = z.infer<typeof flowsConfigSchema>;
export type FlowConfig = FlowsConfig['flows'][number];

/** A validated configuration with its entity catalog. */
export interface ValidatedFlowsConfig {
  config: FlowsConfig;
  catalog: EntityCatalog;
}

function flowLabel(raw: unknown, index: number): string {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? `flow "${id}"` : `flow #${index + 1}`;
}

/**
 * Validates a configuration object. Errors are ConfigErrors whose lines read
 * `<source>: flow "<id>": <field>: <problem>`, so an operator sees which flow and field to fix.
 */
export function validateFlowsConfig(raw: unknown, source = 'infra/flows.config.ts'): ValidatedFlowsConfig {
  const parsed = flowsConfigSchema.safeParse(raw);
  if (!parsed.success) {
    // Issues inside one flow are reported under `flow "<id>"` (not an array index), the rest under the file.
    const rawFlows = (raw as { flows?: unknown[] } | null)?.flows;
    const groups = new Map<string, z.core.$ZodIssue[]>();
    for (const issue of parsed.error.issues) {
      const [head, index, ...rest] = issue.path;
      const inFlow = head === 'flows' && typeof index === 'number' && Array.isArray(rawFlows);
      const where = inFlow ? `${source}: ${flowLabel(rawFlows[index], index)}` : source;
      const list = groups.get(where) ?? [];
      list.push(inFlow ? { ...issue, path: rest } : issue);
      groups.set(where, list);
    }
    const errors = [...groups].map(([where, issues]) => configErrorFromZod(where, new z.ZodError(issues)));
    if (errors.length === 1) throw errors[0]!;
    throw new ConfigError(errors.map((e) => e.message).join('\n'), errors.flatMap((e) => e.issues));
  }
  const config = parsed.data;
  const catalog = EntityCatalog.withDefaults(config.extraEntities, `${source}: extraEntities`);
  const problems: string[] = [];
  const problem = (flow: FlowConfig, field: string, message: string) => problems.push(`flow "${flow.id}": ${field}: ${message}`);

  const ids = new Set<string>();
  const unitOwners = new Map<string, string>();
  const tableOwners = new Map<string, { flow: string; entity: string; tenant: string }>();
  for (const flow of config.flows) {
    if (ids.has(flow.id)) problem(flow, 'id', 'another flow has the same id');
    ids.add(flow.id);
    if (!config.tenants[flow.tenant]) {
      problem(flow, 'tenant', `unknown tenant "${flow.tenant}"; defined tenants: ${Object.keys(config.tenants).join(', ')}`);
    }
    let entity: EntityDefinition | undefined;
    try {
      entity = catalog.get(flow.entity);
    } catch (error) {
      problem(flow, 'entity', (error as Error).message);
    }
    if (new Set(flow.companies).size !== flow.companies.length) problem(flow, 'companies', 'a company is listed twice');
    if (entity && entity.scope !== 'division' && flow.divisions !== 'all') {
      problem(flow, 'divisions', `entity "${entity.id}" is read per company, not per division: remove "divisions"`);
    }
    if (flow.initialSince && entity?.strategy === 'snapshot') {
      problem(flow, 'initialSince', `entity "${entity.id}" is a snapshot (always read in full): remove "initialSince"`);
    }
    if (entity && entity.strategy !== 'incremental' && (flow.deleteDetection !== undefined || flow.sweep !== undefined)) {
      problem(flow, flow.deleteDetection !== undefined ? 'deleteDetection' : 'sweep', `entity "${entity.id}" is a snapshot: every run reads it whole and finds its deletes; remove it`);
    }
    if (entity && entity.strategy === 'incremental' && config.tenants[flow.tenant]) {
      const sweep = sweepScheduleOf(flow, config, catalog);
      const reconcile = reconcileScheduleOf(flow, config, catalog);
      if (sweep && (sameSchedule(sweep, flow.schedule) || (reconcile && sameSchedule(sweep, reconcile)))) {
        problem(flow, 'sweep', `the sweep would start together with the flow's ${sameSchedule(sweep, flow.schedule) ? 'incremental' : 'reconcile'} run (cron "${sweep.cron}" in ${sweep.timeZone}); give "sweep" another time, or false`);
      }
    }
    for (const company of flow.companies) {
      // Watermarks are kept per tenant × entity × company: two flows sharing one would move each other's.
      const unitKey = `${flow.tenant}|${flow.entity}|${company}`;
      const owner = unitOwners.get(unitKey);
      if (owner) problem(flow, 'companies', `company ${company} of entity "${flow.entity}" is already synced by flow "${owner}"`);
      else unitOwners.set(unitKey, flow.id);
      const table = targetTableOf(config, flow, company);
      const key = tableKey(table);
      const other = tableOwners.get(key);
      if (other && (other.entity !== flow.entity || other.tenant !== flow.tenant)) {
        problem(flow, 'target', `table ${key} is also the target of flow "${other.flow}" (entity "${other.entity}"); one table holds one entity of one tenant`);
      } else if (!other) {
        tableOwners.set(key, { flow: flow.id, entity: flow.entity, tenant: flow.tenant });
      }
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`${source} is invalid:\n  - ${problems.join('\n  - ')}`, problems);
  }
  return { config, catalog };
}
