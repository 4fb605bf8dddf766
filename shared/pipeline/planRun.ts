// Plan: the first step of an execution. Opens the run in the ledger (a second delivery of the same
// scheduled start finds it and ends quietly), expands flows × companies [× divisions] into work units,
// computes each unit's change-date window from its watermark and the mode, registers the units, and
// writes the plan every later step reads. A rerun input is replayed by planRerun.ts instead.
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import { ConfigError } from '../config/configError.ts';
import { deleteDetectionOf, type FlowConfig, type FlowsConfig } from '../config/flowsConfig.ts';
import { tableKey, targetTableOf } from '../config/targetTable.ts';
import { listDivisions } from '../extract/divisions.ts';
import { Deadline } from '../runtime/deadline.ts';
import { newRunId } from '../runtime/runId.ts';
import { runKeyFor, type RunTrigger } from '../state/runLedger.ts';
import { windowStart } from '../state/watermarkStore.ts';
import { parseExecutionInput, type ExecutionInput, type RunMode } from './executionInput.ts';
import { estimateHistoryEvents, PLANNING_EVENT_BUDGET } from './historyBudget.ts';
import { planRerun } from './planRerun.ts';
import { openRun, PLAN_REUSED, planResult, runStartedAt, type PlanDeps, type PlanRunRequest, type PlanRunResult } from './planStep.ts';
import { resolveTenantSchemas } from './planTenantSchemas.ts';
import { planWarnings, type PlannedTenant, type PlannedUnit, type RunPlan } from './runPlan.ts';
import { tenantCallOptions, unitShare } from './tenantCallOptions.ts';
import { keyRangesOf, splitBoundaries } from './keyRanges.ts';
import { UnitRef } from './unitRef.ts';
import { dateInZone } from './zonedDate.ts';

type FlowsInput = Exclude<ExecutionInput, { kind: 'rerun' }>;

export async function planRun(request: PlanRunRequest, deps: PlanDeps): Promise<PlanRunResult> {
  const input = parseExecutionInput(request.input);
  if (input.kind === 'rerun') return planRerun(request, input.rerunOf, deps);
  return planFlows(request, input, deps);
}

function selectFlows(input: FlowsInput, deps: PlanDeps): FlowConfig[] {
  const { config } = deps.flows;
  const known = new Map(config.flows.map((f) => [f.id, f]));
  let flows: FlowConfig[];
  if (input.kind === 'schedule') {
    flows = [];
    for (const id of input.flows) {
      const flow = known.get(id);
      // A schedule can outlive a flow for one deploy: skip what is gone or disabled, loudly.
      if (!flow || !flow.enabled) deps.log.warn('scheduled flow is no longer configured or is disabled; skipped', { flow: id });
      else flows.push(flow);
    }
  } else if (input.flows && input.flows.length > 0) {
    const unknown = input.flows.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new ConfigError(`execution input: flows: unknown flow ${unknown.map((u) => `"${u}"`).join(', ')}; configured flows: ${[...known.keys()].join(', ')}`);
    }
    flows = input.flows.map((id) => known.get(id)!);
  } else {
    flows = config.flows.filter((f) => f.enabled);
  }
  if (input.kind === 'console' && input.companies && input.companies.length > 0) {
    const wanted = new Set(input.companies);
    const covered = new Set(flows.flatMap((f) => f.companies));
    const missing = [...wanted].filter((c) => !covered.has(c));
    if (missing.length > 0) {
      throw new ConfigError(`execution input: companies: ${missing.join(', ')} not configured for the selected flows (${flows.map((f) => f.id).join(', ')})`);
    }
    flows = flows
      .map((f) => ({ ...f, companies: f.companies.filter((c) => wanted.has(c)) }))
      .filter((f) => f.companies.length > 0);
  }
  return flows;
}

/**
 * The flows a sweep reads: those with deleteDetection "sweep". A flow the operator named that has none is an
 * error (nothing would happen); others (every enabled flow, a schedule's list after a config change) are skipped.
 */
function sweptFlows(input: FlowsInput, flows: FlowConfig[], deps: PlanDeps): FlowConfig[] {
  const { catalog } = deps.flows;
  const unswept = flows.filter((f) => deleteDetectionOf(f, catalog) !== 'sweep');
  if (input.kind === 'console' && input.flows && input.flows.length > 0 && unswept.length > 0) {
    throw new ConfigError(
      `execution input: flows: ${unswept.map((f) => `"${f.id}"`).join(', ')} ${unswept.length === 1 ? 'has' : 'have'} no key sweep ` +
        '(a snapshot entity, or deleteDetection "none"); leave it out, or use "mode": "reconcile" to find deletes',
    );
  }
  if (unswept.length > 0) deps.log.info('flows without a key sweep left out of the sweep run', { flows: unswept.map((f) => f.id) });
  return flows.filter((f) => deleteDetectionOf(f, catalog) === 'sweep');
}

async function planFlows(request: PlanRunRequest, input: FlowsInput, deps: PlanDeps): Promise<PlanRunResult> {
  const { config, catalog } = deps.flows;
  const trigger: RunTrigger = input.kind === 'schedule' ? 'schedule' : (input.trigger ?? 'console');
  const mode: RunMode = input.kind === 'schedule' ? (input.mode ?? 'incremental') : input.mode;
  const flows = mode === 'sweep' ? sweptFlows(input, selectFlows(input, deps), deps) : selectFlows(input, deps);
  const scheduled = input.kind === 'schedule' ? { schedule: input.schedule, scheduledTime: input.scheduledTime } : {};
  const runKey = runKeyFor({ trigger, executionName: request.executionName, ...scheduled });

  const opening = await openRun(request, { runKey, trigger, ...scheduled, flows: flows.map((f) => f.id), mode }, deps);
  if (opening.kind === 'duplicate') return opening.result;
  if (opening.kind === 'planned') return planResult(opening.plan, PLAN_REUSED);

  const runId = newRunId(trigger === 'schedule' ? 'sched' : trigger);
  const deadline = deps.deadline ?? Deadline.none();
  const entities: Record<string, EntityDefinition> = {};
  const units: PlannedUnit[] = [];
  const divisionFilter = input.kind === 'console' && input.divisions && input.divisions.length > 0 ? new Set(input.divisions) : undefined;
  if (divisionFilter && !flows.some((f) => catalog.get(f.entity).scope === 'division')) {
    throw new ConfigError('execution input: divisions: none of the selected flows reads per division; remove "divisions"');
  }

  // The entities as each tenant has them, before any unit: a missing field fails units, not the plan.
  const schemas = await resolveTenantSchemas(flows, config, catalog, deps, deadline);
  for (const flow of flows) {
    const entity = catalog.get(flow.entity);
    entities[entity.id] = entity;
    const tenant = config.tenants[flow.tenant]!;
    for (const company of flow.companies) {
      let divisions = [''];
      if (entity.scope === 'division') {
        divisions =
          flow.divisions === 'all'
            ? await listDivisions(await deps.connectTenant(tenant.secretName, flow.tenant, tenantCallOptions(tenant)), company, deadline)
            : flow.divisions;
        if (divisionFilter) divisions = divisions.filter((d) => divisionFilter.has(d));
      }
      const split = splitOf(entity, mode);
      // A reconcile reads each scope whole and in one unit: its absent keys are deletes only when one read saw
      // the whole scope (a full run reads the same rows, split for speed, and does not look for deletes).
      // A sweep reads the scope's keys only, as one complete key set (never split, like a reconcile).
      const complete = entity.strategy === 'incremental' && (mode === 'reconcile' || mode === 'sweep');
      const keysOnly = mode === 'sweep';
      for (const division of divisions) {
        const window = await windowOf(flow, entity, { tenant: flow.tenant, entity: entity.id, company, division }, input, mode, deps);
        // A backfill or full read of a big table: one sub-unit per key range, extracted in parallel.
        const ranges = split
          ? keyRangesOf(schemas[flow.tenant]?.[entity.id]?.entity ?? entity, split.field, splitBoundaries(split, {
            currentYear: Number(dateInZone(Date.parse(runStartedAt(request, deps)), tenant.timeZone).slice(0, 4)),
            ...(split.by === 'division'
              ? { divisions: await listDivisions(await deps.connectTenant(tenant.secretName, flow.tenant, tenantCallOptions(tenant)), company, deadline) }
              : {}),
          }))
          : [undefined];
        ranges.forEach((range, i) => {
          const part = range && ranges.length > 1 ? { index: i + 1, of: ranges.length, range } : undefined;
          const unit = UnitRef.of({ flow: flow.id, company, division, ...(part ? { part } : {}) });
          units.push({
            unitId: unit.id,
            flow: flow.id,
            tenant: flow.tenant,
            entity: entity.id,
            company,
            division,
            window,
            // A reconcile or full read moves a watermark only forward, and only as far as an incremental read would:
            // to the largest change date it saw (the watermark store never moves one back).
            // A sweep reads no change date: it never moves a watermark.
            advancesWatermark: mode !== 'backfill' && mode !== 'sweep',
            ...(complete ? { complete: true } : {}),
            ...(keysOnly ? { keysOnly: true } : {}),
            table: targetTableOf(config, flow, company),
            maxVanishedShare: flow.maxVanishedShare,
            unitPrefix: unit.stagingPrefix(flow.tenant, runId),
            ...(part ? { part } : {}),
          });
        });
      }
    }
  }

  const tables = new Set(units.map((u) => tableKey(u.table))).size;
  const events = estimateHistoryEvents({ units: units.length, tables });
  if (events > PLANNING_EVENT_BUDGET) {
    throw new ConfigError(
      `this run has ${units.length} units in ${tables} tables: about ${events} Step Functions history events before any ` +
        `continuation, above the ${PLANNING_EVENT_BUDGET} Plan allows (the hard limit is 25,000); start it in parts, ` +
        'e.g. with "flows" or "companies" in the input',
    );
  }

  const plan: RunPlan = {
    formatVersion: 1,
    executionName: request.executionName,
    runKey,
    unitsRunKey: runKey,
    runId,
    trigger,
    mode,
    ...(input.kind === 'schedule' ? { schedule: input.schedule } : {}),
    startedAt: runStartedAt(request, deps),
    flows: flows.map((f) => f.id),
    warehouseSecretName: config.warehouse.secretName,
    loadMode: config.warehouse.loadMode,
    tenants: Object.fromEntries([...new Set(flows.map((f) => f.tenant))].map((t) => [t, plannedTenant(t, units, config)])),
    entities,
    schemas,
    units,
  };
  await deps.ledger.registerUnits(
    runKey,
    units.map((u) => ({ unitId: u.unitId, entity: u.entity, company: u.company, division: u.division, flow: u.flow })),
  );
  await deps.plans.put(plan);
  const warnings = planWarnings(plan);
  const message =
    `${mode} run of ${flows.length} flow(s): ${units.length} unit(s) into ${tables} table(s)` +
    (warnings.length > 0 ? `; ${warnings.length} warning(s): ${warnings.join('; ')}` : '');
  deps.log.info(message, { runKey, runId, units: units.length, tables, estimatedHistoryEvents: events });
  return planResult(plan, message);
}

/** The entity's split when this run reads it whole or backfills it (incremental runs read small windows). */
function splitOf(entity: EntityDefinition, mode: RunMode): EntityDefinition['split'] {
  // Never a reconcile: its vanished keys are judged per unit, so a unit must be a whole scope.
  if (mode !== 'backfill' && mode !== 'full') return undefined;
  return entity.source.kind === 'exportmi' ? entity.split : undefined;
}

/** A tenant's settings in the plan, with each extraction's share of its call budget. */
function plannedTenant(tenant: string, units: readonly PlannedUnit[], config: FlowsConfig): PlannedTenant {
  const settings = config.tenants[tenant]!;
  const own = units.filter((u) => u.tenant === tenant).length;
  return { ...settings, unitCallsPerSecond: unitShare(settings.callsPerSecond, own, config.maxConcurrency) };
}

async function windowOf(
  flow: FlowConfig,
  entity: EntityDefinition,
  key: { tenant: string; entity: string; company: string; division: string },
  input: FlowsInput,
  mode: RunMode,
  deps: PlanDeps,
): Promise<{ since: string | null; until: string | null }> {
  if (entity.strategy === 'snapshot' || mode === 'full' || mode === 'reconcile' || mode === 'sweep') return { since: null, until: null };
  const initialSince = flow.initialSince ?? null;
  if (mode === 'backfill') {
    const console = input.kind === 'console' ? input : undefined;
    return {
      since: console?.since ?? initialSince,
      until: console?.until ?? null,
    };
  }
  const mark = await deps.watermarks.get(key);
  return { since: mark ? windowStart(mark, flow.overlapDays) : initialSince, until: null };
}

