// The plan of one execution, written once by Plan and read by every later step: its units with their
// windows, targets and staging folders, and the entity definitions and secrets' names they need. State
// payloads carry only the plan's key and unit ids (Step Functions' 256 KiB state limit), and a run keeps
// the configuration it started with even if a deploy changes it mid-run. A rerun copies units from here.
import { Readable } from 'node:stream';
import * as z from 'zod';
import { entityDefinitionSchema, type EntityDefinition } from '../catalog/entityDefinition.ts';
import { SyncError } from '../errors/syncError.ts';
import { TenantSchemaError } from '../catalog/tenantSchemaError.ts';
import { BlobNotFoundError, joinKey, type BlobStore } from '../staging/blobStore.ts';

const windowSchema = z.object({ since: z.string().nullable(), until: z.string().nullable() });

/** A sub-unit's key range: `field` >= from (none: no lower bound) and < to (none: no upper bound). */
export const keyRangeSchema = z.object({ field: z.string(), from: z.string().nullable(), to: z.string().nullable() });

/** Sub-unit `index` (1-based) of `of` that together read one scope (flow × company [× division]). */
const unitPartSchema = z.object({ index: z.number().int().positive(), of: z.number().int().positive(), range: keyRangeSchema });

export const plannedUnitSchema = z.object({
  unitId: z.string(),
  flow: z.string(),
  tenant: z.string(),
  entity: z.string(),
  company: z.string(),
  /** '' for company-scoped entities. */
  division: z.string(),
  /** Change-date window (yyyyMMdd, inclusive); both null for a full read. */
  window: windowSchema,
  /** false in backfill mode: loaded data never moves the watermark. */
  advancesWatermark: z.boolean(),
  /**
   * A complete read of an incremental entity (full and reconcile runs): the manifest says so, and the load
   * soft-deletes the scope's keys the read no longer contains (under the vanished-keys guard). Absent: false.
   */
  complete: z.boolean().optional(),
  /**
   * A key sweep (sweep runs): the unit reads the key columns only and is staged as a complete key set; the load
   * soft-deletes the scope's keys absent from it and never merges its rows as content. Absent: false.
   */
  keysOnly: z.boolean().optional(),
  table: z.object({ catalog: z.string(), schema: z.string(), name: z.string() }),
  maxVanishedShare: z.number(),
  /** Staging folder of the unit's part files and manifest. */
  unitPrefix: z.string(),
  /**
   * Set on the sub-units of a split backfill or full read: the scope's key range this one reads. The scope's
   * watermark moves only when all `of` sub-units load together (Commit).
   */
  part: unitPartSchema.optional(),
});

const plannedTenantSchema = z.object({
  secretName: z.string(),
  timeZone: z.string(),
  /** The tenant's budget of MI calls per second (absent in older plans: unpaced). */
  callsPerSecond: z.number().optional(),
  /** What one extraction may use: the budget divided by the extractions that can run at once. */
  unitCallsPerSecond: z.number().optional(),
  attemptTimeoutSeconds: z.number().optional(),
});

export const tenantEntitySchema = z.object({
  /** The entity as this tenant has it; absent when it cannot be read there. */
  entity: entityDefinitionSchema.optional(),
  /** Why its units fail before any data call (a missing key or change-date field, a missing table). */
  problem: z.string().optional(),
  /** Configured fields the tenant lacks, and fields not checked: for manifests, the ledger and the run's output. */
  warnings: z.array(z.string()).default([]),
});

export type PlannedTenant = z.infer<typeof plannedTenantSchema>;
export type TenantEntity = z.infer<typeof tenantEntitySchema>;

export const runPlanSchema = z.object({
  formatVersion: z.literal(1),
  executionName: z.string(),
  /** The ledger run of this execution (the duplicate-start key for scheduled runs). */
  runKey: z.string(),
  /** The ledger run its units are registered in: runKey, or for a rerun the original run's. */
  unitsRunKey: z.string(),
  /** Stamped on staged rows (_run_id) and watermarks. */
  runId: z.string(),
  trigger: z.enum(['schedule', 'console', 'local']),
  mode: z.enum(['incremental', 'backfill', 'full', 'reconcile', 'sweep', 'rerun']),
  schedule: z.string().optional(),
  rerunOf: z.string().optional(),
  /** ISO-8601 UTC: the change stamp of snapshot records and the start of the run's clock. */
  startedAt: z.string(),
  flows: z.array(z.string()),
  warehouseSecretName: z.string(),
  /** How Load stages rows (shared/load/loadTypes.ts LoadMode); plans written before it existed load by merge. */
  loadMode: z.enum(['merge', 'copy']).default('merge'),
  tenants: z.record(z.string(), plannedTenantSchema),
  /** The entities as configured (the catalog's definitions). */
  entities: z.record(z.string(), entityDefinitionSchema),
  /**
   * Per tenant and entity, the entity as that tenant has it (fields from its metadata), or why it cannot be
   * read there. Read once by Plan, so Extract, Load and continuations never read metadata again. Empty in
   * plans written before it existed: those use `entities`.
   */
  schemas: z.record(z.string(), z.record(z.string(), tenantEntitySchema)).default({}),
  units: z.array(plannedUnitSchema),
});

export type PlannedUnit = z.infer<typeof plannedUnitSchema>;
export type KeyRange = z.infer<typeof keyRangeSchema>;
export type RunPlan = z.infer<typeof runPlanSchema>;

export class PlanNotFoundError extends SyncError {
  override name = 'PlanNotFoundError';
  constructor(readonly executionName: string) {
    super(
      `no plan for execution "${executionName}": it never planned, or is older than the run retention; ` +
        'check the execution name (the last part of its ARN) and start a new run instead',
    );
  }
}

/** The staging key of an execution's plan: plans/<execution>.json, the name percent-encoded. */
export function planKeyOf(executionName: string): string {
  return joinKey('plans', `${encodeURIComponent(executionName)}.json`);
}

/** The execution name a plan key stands for (the inverse of planKeyOf). */
export function executionOfPlanKey(planKey: string): string {
  return decodeURIComponent(planKey.replace(/^plans\//, '').replace(/\.json$/, ''));
}

export function unitOf(plan: RunPlan, unitId: string): PlannedUnit {
  const unit = plan.units.find((u) => u.unitId === unitId);
  if (!unit) throw new Error(`unit "${unitId}" is not part of the plan of execution "${plan.executionName}"`);
  return unit;
}

/**
 * The entity a unit reads, as its tenant has it. Throws TenantSchemaError (before any data call) when the
 * entity cannot be read on that tenant. Given only an entity id, the plan must resolve it for one tenant.
 */
export function entityOf(plan: RunPlan, unit: { tenant: string; entity: string } | string): EntityDefinition {
  const entityId = typeof unit === 'string' ? unit : unit.entity;
  const resolutions = Object.entries(plan.schemas).filter(([tenant, entities]) => entities[entityId] && (typeof unit === 'string' || tenant === unit.tenant));
  if (resolutions.length > 1) throw new Error(`entity "${entityId}" is read from several tenants in execution "${plan.executionName}": name the unit's tenant`);
  const resolution = resolutions[0]?.[1][entityId];
  if (resolution) {
    if (resolution.entity && !resolution.problem) return resolution.entity;
    throw new TenantSchemaError(resolution.problem ?? `${entityId}: cannot be read on tenant ${resolutions[0]![0]}`);
  }
  const entity = plan.entities[entityId];
  if (!entity) throw new Error(`entity "${entityId}" is missing from the plan of execution "${plan.executionName}"`);
  return entity;
}

/** The warnings about an entity on a tenant (fields dropped or not checked), for manifests and the run's output. */
export function schemaWarningsOf(plan: RunPlan, unit: { tenant: string; entity: string }): string[] {
  return plan.schemas[unit.tenant]?.[unit.entity]?.warnings ?? [];
}

/** Every warning about the entities of these units, once each. */
export function planWarnings(plan: RunPlan, units: readonly { tenant: string; entity: string }[] = plan.units): string[] {
  return [...new Set(units.flatMap((u) => schemaWarningsOf(plan, u)))];
}

/** Reads and writes plans in the staging store; a plan never changes once written, so reads are cached. */
export class PlanStore {
  private readonly cache = new Map<string, RunPlan>();

  constructor(private readonly store: BlobStore, private readonly maxCached = 20) {}

  async put(plan: RunPlan): Promise<string> {
    const key = planKeyOf(plan.executionName);
    await this.store.put(key, Readable.from([JSON.stringify(plan)]));
    this.remember(key, plan);
    return key;
  }

  /** The plan under key; undefined when there is none. */
  async find(key: string): Promise<RunPlan | undefined> {
    const cached = this.cache.get(key);
    if (cached) return cached;
    let text: string;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of await this.store.get(key)) chunks.push(chunk as Buffer);
      text = Buffer.concat(chunks).toString('utf8');
    } catch (error) {
      if (error instanceof BlobNotFoundError) return undefined;
      throw error;
    }
    const plan = runPlanSchema.parse(JSON.parse(text));
    this.remember(key, plan);
    return plan;
  }

  async get(key: string): Promise<RunPlan> {
    const plan = await this.find(key);
    if (!plan) throw new PlanNotFoundError(executionOfPlanKey(key));
    return plan;
  }

  private remember(key: string, plan: RunPlan): void {
    this.cache.set(key, plan);
    while (this.cache.size > this.maxCached) this.cache.delete(this.cache.keys().next().value as string);
  }
}

/**
 * Who must hold a unit for this execution's steps to move it (the ledger's TransitionFields.holder): a rerun
 * holds the units it claimed; the execution that planned a run holds its units until a rerun claims them.
 */
export function unitHolder(plan: Pick<RunPlan, 'rerunOf' | 'executionName'>): string | null {
  return plan.rerunOf ? plan.executionName : null;
}

/** Whether this execution holds the unit (see unitHolder): a stopped execution's steps leave its rerun's units alone. */
export function holdsUnit(plan: Pick<RunPlan, 'rerunOf' | 'executionName'>, unit: { claimedBy?: string }): boolean {
  return (unit.claimedBy ?? null) === unitHolder(plan);
}
