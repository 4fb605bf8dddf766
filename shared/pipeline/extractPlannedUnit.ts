// Extract: one invocation of one unit's extraction. It stages what it can before its deadline; when time
// runs out it stores a checkpoint in the staging store and answers 'continue' with the checkpoint's key,
// so the state machine invokes it again (the payload never carries the cursor or file list itself).
import { Readable } from 'node:stream';
import { ExtractionError } from '../extract/extractErrors.ts';
import { extractUnit, type ExtractCheckpoint } from '../extract/extractUnit.ts';
import { Deadline } from '../runtime/deadline.ts';
import { LedgerTransitionError } from '../state/runLedger.ts';
import type { PipelineDeps } from './pipelineDeps.ts';
import { entityOf, schemaWarningsOf, unitHolder, unitOf } from './runPlan.ts';
import { tenantCallOptions } from './tenantCallOptions.ts';
import { UnitRef } from './unitRef.ts';

/** One unit may continue this many times; a unit that needs more is stuck or needs a narrower window. */
const MAX_EXTRACT_INVOCATIONS = 200;

export interface ExtractStepRequest {
  plan: string;
  unitId: string;
  /** Staging key of the checkpoint to continue from (present on a continuation). */
  checkpoint?: string;
  /** Invocations of this unit so far. */
  invocation?: number;
}

export type ExtractStepResult =
  | { plan: string; unitId: string; status: 'continue'; checkpoint: string; invocation: number; records: number }
  | { plan: string; unitId: string; status: 'complete'; invocation: number; records: number };

export type ExtractDeps = Pick<PipelineDeps, 'plans' | 'ledger' | 'store' | 'connectTenant' | 'log'> & { deadline?: Deadline };

export class ContinuationLimitError extends ExtractionError {
  override name = 'ContinuationLimitError';
}

export async function extractPlannedUnit(request: ExtractStepRequest, deps: ExtractDeps): Promise<ExtractStepResult> {
  const plan = await deps.plans.get(request.plan);
  deps.log.appendKeys({ runId: plan.runId });
  const unit = unitOf(plan, request.unitId);
  // An entity this tenant cannot serve (a missing key or change-date field) fails here, before any call.
  const entity = entityOf(plan, unit);
  const tenant = plan.tenants[unit.tenant];
  if (!tenant) throw new Error(`tenant "${unit.tenant}" is missing from the plan of execution "${plan.executionName}"`);
  const invocation = (request.invocation ?? 0) + 1;
  const holder = unitHolder(plan);
  const base = { plan: request.plan, unitId: unit.unitId };
  if (invocation > MAX_EXTRACT_INVOCATIONS) {
    throw new ContinuationLimitError(
      `${unit.unitId}: still not complete after ${MAX_EXTRACT_INVOCATIONS} invocations; rerun it with a narrower window ` +
        '(a backfill with "since"/"until") or a smaller page size for the entity',
    );
  }

  try {
    await deps.ledger.transitionUnit(plan.unitsRunKey, unit.unitId, request.checkpoint ? ['extracting'] : ['pending', 'extracting'], 'extracting', { holder });
  } catch (error) {
    // Step Functions may repeat an invocation whose answer it lost: a unit already staged is done.
    if (error instanceof LedgerTransitionError && error.reason === 'status-changed' && error.actual === 'extracted') {
      const done = await deps.ledger.getUnit(plan.unitsRunKey, unit.unitId);
      return { ...base, status: 'complete', invocation, records: done?.recordsExtracted ?? 0 };
    }
    throw error;
  }

  const checkpoint = request.checkpoint ? await readCheckpoint(deps, request.checkpoint) : undefined;
  const mi = await deps.connectTenant(tenant.secretName, unit.tenant, tenantCallOptions(tenant, 'unit'));
  const outcome = await extractUnit({
    tenant: unit.tenant,
    entity,
    company: unit.company,
    division: unit.division,
    window: unit.window,
    ...(unit.part ? { range: unit.part.range } : {}),
    complete: unit.complete === true,
    ...(unit.keysOnly ? { keysOnly: true } : {}),
    runId: plan.runId,
    runStartedAt: plan.startedAt,
    timeZone: tenant.timeZone,
    mi,
    store: deps.store,
    unitPrefix: unit.unitPrefix,
    ...(deps.deadline ? { deadline: deps.deadline } : {}),
    ...(checkpoint ? { checkpoint } : {}),
    warnings: schemaWarningsOf(plan, unit),
    log: deps.log,
  });

  if (outcome.status === 'continue') {
    const key = UnitRef.parse(unit.unitId).checkpointKey(unit.tenant, plan.runId, invocation);
    await deps.store.put(key, Readable.from([JSON.stringify(outcome.checkpoint)]));
    await deps.ledger.transitionUnit(plan.unitsRunKey, unit.unitId, ['extracting'], 'extracting', { recordsExtracted: outcome.records, holder });
    return { ...base, status: 'continue', checkpoint: key, invocation, records: outcome.records };
  }
  await deps.ledger.transitionUnit(plan.unitsRunKey, unit.unitId, ['extracting'], 'extracted', {
    holder,
    recordsExtracted: outcome.manifest.totalRecords,
    stagedAt: outcome.manifestKey,
  });
  return { ...base, status: 'complete', invocation, records: outcome.manifest.totalRecords };
}

async function readCheckpoint(deps: ExtractDeps, key: string): Promise<ExtractCheckpoint> {
  const chunks: Buffer[] = [];
  for await (const chunk of await deps.store.get(key)) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExtractCheckpoint;
}
