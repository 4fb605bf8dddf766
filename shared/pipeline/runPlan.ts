// The plan of one execution, written once by Plan and read by every later step: its units with their
// windows, targets and staging folders, and the entity definitions and secrets' names they need. State
// payloads carry only the plan's key and unit ids (Step Functions' 256 KiB state limit), and a run keeps
// the configuration it started with even if a deploy changes it mid-run. A rerun copies units from here.
import { Readable } from 'node:stream';
import * as z from 'zod';
import { entityDefinitionSchema, type EntityDefinition } from '../catalog/entityDefinition.ts';
import { SyncError } from '../errors/syncError.ts';
import { BlobNotFoundError, joinKey, type BlobStore } from '../staging/blobStore.ts';

const windowSchema = z.object({ since: z.string().nullable(), until: z.string().nullable() });

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
  table: z.object({ catalog: z.string(), schema: z.string(), name: z.string() }),
  maxVanishedShare: z.number(),
  /** Staging folder of the unit's part files and manifest. */
  unitPrefix: z.string(),
});

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
  mode: z.enum(['incremental', 'backfill', 'full', 'rerun']),
  schedule: z.string().optional(),
  rerunOf: z.string().optional(),
  /** ISO-8601 UTC: the change stamp of snapshot records and the start of the run's clock. */
  startedAt: z.string(),
  flows: z.array(z.string()),
  warehouseSecretName: z.string(),
  /** How Load stages rows (shared/load/loadTypes.ts LoadMode); plans written before it existed load by merge. */
  loadMode: z.enum(['merge', 'copy']).default('merge'),
  tenants: z.record(z.string(), z.object({ secretName: z.string(), timeZone: z.string() })),
  entities: z.record(z.string(), entityDefinitionSchema),
  units: z.array(plannedUnitSchema),
});

export type PlannedUnit = z.infer<typeof plannedUnitSchema>;
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

export function entityOf(plan: RunPlan, entityId: string): EntityDefinition {
  const entity = plan.entities[entityId];
  if (!entity) throw new Error(`entity "${entityId}" is missing from the plan of execution "${plan.executionName}"`);
  return entity;
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
