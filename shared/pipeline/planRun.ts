// Plan: the first step of an execution. Opens the run in the ledger (a second delivery of the same
// scheduled start finds it and ends quietly), expands flows × companies [× divisions] into work units,
// computes each unit's change-date window from its watermark and the mode, registers the units, and
// writes the plan every later step reads. A rerun replays exactly the failed units of an earlier execution.
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import { ConfigError } from '../config/configError.ts';
import { listDivisions } from '../extract/divisions.ts';
import { Deadline } from '../runtime/deadline.ts';
import { newRunId } from '../runtime/runId.ts';
import { joinKey } from '../staging/blobStore.ts';
import { LedgerTransitionError, runKeyFor, type RunTrigger } from '../state/runLedger.ts';
import { windowStart } from '../state/watermarkStore.ts';
import { parseExecutionInput, type ExecutionInput, type RunMode } from './executionInput.ts';
import { isLive, type ExecutionStatusSource } from './executionStatus.ts';
import { finishRun } from './finishRun.ts';
import type { FlowConfig, ValidatedFlowsConfig } from '../config/flowsConfig.ts';
import { tableKey, targetTableOf } from '../config/targetTable.ts';
import { estimateHistoryEvents, PLANNING_EVENT_BUDGET } from './historyBudget.ts';
import type { PipelineDeps } from './pipelineDeps.ts';
import { planKeyOf, type PlannedUnit, type RunPlan } from './runPlan.ts';

export interface PlanRunRequest {
  /** The Step Functions execution name ($$.Execution.Name). */
  executionName: string;
  /** $$.Execution.StartTime (ISO-8601). */
  startedAt: string;
  /** The execution's input, as started. */
  input: unknown;
  /** $$.StateMachine.Id: where a rerun looks up the execution it replays. */
  stateMachineArn?: string;
}

export interface PlanRunResult {
  /** Staging key of the plan ('' for a duplicate start). */
  plan: string;
  runKey: string;
  runId: string;
  /** True when this start repeats one that already ran (same schedule and scheduled time): do nothing. */
  duplicate: boolean;
  /** Unit ids to extract, in order. */
  units: string[];
  message: string;
}

export type PlanDeps = Pick<PipelineDeps, 'ledger' | 'watermarks' | 'plans' | 'connectTenant' | 'log' | 'now'> & {
  flows: ValidatedFlowsConfig;
  /** Step Functions (or the local runner): is the execution a rerun replays still running? */
  executions: ExecutionStatusSource;
  deadline?: Deadline;
};

/** Unit ids are unique within a run and readable in the console: flow/company[/division]. */
export function unitIdOf(flow: string, company: string, division: string): string {
  return division === '' ? `${flow}/${company}` : `${flow}/${company}/${division}`;
}

export async function planRun(request: PlanRunRequest, deps: PlanDeps): Promise<PlanRunResult> {
  const input = parseExecutionInput(request.input);
  if (input.kind === 'rerun') return planRerun(request, input.rerunOf, deps);
  return planFlows(request, input, deps);
}

function retentionDays(deps: PlanDeps): number {
  return deps.flows.config.runRetentionDays;
}

function selectFlows(input: Exclude<ExecutionInput, { kind: 'rerun' }>, deps: PlanDeps): FlowConfig[] {
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

async function planFlows(
  request: PlanRunRequest,
  input: Exclude<ExecutionInput, { kind: 'rerun' }>,
  deps: PlanDeps,
): Promise<PlanRunResult> {
  const { config, catalog } = deps.flows;
  const trigger: RunTrigger = input.kind === 'schedule' ? 'schedule' : (input.trigger ?? 'console');
  const mode: RunMode = input.kind === 'schedule' ? 'incremental' : input.mode;
  const flows = selectFlows(input, deps);
  const runKey = runKeyFor({
    trigger,
    executionName: request.executionName,
    ...(input.kind === 'schedule' ? { schedule: input.schedule, scheduledTime: input.scheduledTime } : {}),
  });

  const started = await deps.ledger.startRun({
    runKey,
    executionName: request.executionName,
    trigger,
    ...(input.kind === 'schedule' ? { schedule: input.schedule, scheduledTime: input.scheduledTime } : {}),
    flows: flows.map((f) => f.id),
    mode,
    ttlDays: retentionDays(deps),
  });
  if (!started.created) {
    if (started.existing.executionName !== request.executionName) {
      const message = `run ${runKey} was already started by execution "${started.existing.executionName}" (${started.existing.status}); this start does nothing`;
      deps.log.info(message, { runKey });
      return { plan: '', runKey, runId: '', duplicate: true, units: [], message };
    }
    // The same execution planning again (Step Functions retried Plan): reuse the plan if it was written.
    const existing = await deps.plans.find(planKeyOf(request.executionName));
    if (existing) return resultOf(existing, 'plan reused (Plan was retried)');
  }

  const runId = newRunId(trigger === 'schedule' ? 'sched' : trigger);
  const deadline = deps.deadline ?? Deadline.none();
  const entities: Record<string, EntityDefinition> = {};
  const units: PlannedUnit[] = [];
  const divisionFilter = input.kind === 'console' && input.divisions && input.divisions.length > 0 ? new Set(input.divisions) : undefined;
  if (divisionFilter && !flows.some((f) => catalog.get(f.entity).scope === 'division')) {
    throw new ConfigError('execution input: divisions: none of the selected flows reads per division; remove "divisions"');
  }

  for (const flow of flows) {
    const entity = catalog.get(flow.entity);
    entities[entity.id] = entity;
    const tenant = config.tenants[flow.tenant]!;
    for (const company of flow.companies) {
      let divisions = [''];
      if (entity.scope === 'division') {
        divisions = flow.divisions === 'all' ? await listDivisions(await deps.connectTenant(tenant.secretName), company, deadline) : flow.divisions;
        if (divisionFilter) divisions = divisions.filter((d) => divisionFilter.has(d));
      }
      for (const division of divisions) {
        const unitId = unitIdOf(flow.id, company, division);
        const window = await windowOf(flow, entity, { tenant: flow.tenant, entity: entity.id, company, division }, input, mode, deps);
        units.push({
          unitId,
          flow: flow.id,
          tenant: flow.tenant,
          entity: entity.id,
          company,
          division,
          window,
          advancesWatermark: mode !== 'backfill',
          table: targetTableOf(config, flow, company),
          maxVanishedShare: flow.maxVanishedShare,
          unitPrefix: joinKey('runs', flow.tenant, runId, flow.id, company, division),
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
    startedAt: new Date(Date.parse(request.startedAt) || deps.now()).toISOString(),
    flows: flows.map((f) => f.id),
    warehouseSecretName: config.warehouse.secretName,
    loadMode: config.warehouse.loadMode,
    tenants: Object.fromEntries([...new Set(flows.map((f) => f.tenant))].map((t) => [t, config.tenants[t]!])),
    entities,
    units,
  };
  await deps.ledger.registerUnits(
    runKey,
    units.map((u) => ({ unitId: u.unitId, entity: u.entity, company: u.company, division: u.division, flow: u.flow })),
  );
  await deps.plans.put(plan);
  const message = `${mode} run of ${flows.length} flow(s): ${units.length} unit(s) into ${tables} table(s)`;
  deps.log.info(message, { runKey, runId, units: units.length, tables, estimatedHistoryEvents: events });
  return resultOf(plan, message);
}

async function windowOf(
  flow: FlowConfig,
  entity: EntityDefinition,
  key: { tenant: string; entity: string; company: string; division: string },
  input: Exclude<ExecutionInput, { kind: 'rerun' }>,
  mode: RunMode,
  deps: PlanDeps,
): Promise<{ since: string | null; until: string | null }> {
  if (entity.strategy === 'snapshot' || mode === 'full') return { since: null, until: null };
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

async function planRerun(request: PlanRunRequest, rerunOf: string, deps: PlanDeps): Promise<PlanRunResult> {
  const original = await deps.plans.get(planKeyOf(rerunOf));
  const originalRun = await deps.ledger.getRun(original.runKey);
  if (originalRun?.status === 'running') {
    const status = await deps.executions.statusOf({ name: rerunOf, ...(request.stateMachineArn ? { stateMachineArn: request.stateMachineArn } : {}) });
    if (isLive(status)) {
      throw new ConfigError(`execution "${rerunOf}" is still running (${status}); wait for it to end, then start {"rerunOf": "${rerunOf}"} again`);
    }
    // It ended without closing its run (Plan or FinishRun failed for good, or it was aborted or timed
    // out): close it as FinishRun would have, failing every unit that did not commit, then replay those.
    deps.log.warn('the execution ended without closing its run; closing it before the rerun', { rerunOf, status });
    await finishRun(
      { plan: planKeyOf(rerunOf), stoppedBy: { Error: `Execution${status === 'GONE' ? 'Ended' : status}`, Cause: `execution "${rerunOf}" ended (${status}) without closing its run` } },
      deps,
    );
  }
  const runKey = request.executionName;
  const started = await deps.ledger.startRun({
    runKey,
    executionName: request.executionName,
    trigger: 'console',
    flows: original.flows,
    mode: 'rerun',
    ttlDays: retentionDays(deps),
  });
  if (!started.created) {
    const existing = await deps.plans.find(planKeyOf(request.executionName));
    if (existing) {
      await claimFailedUnits(existing, deps);
      return resultOf(existing, 'plan reused (Plan was retried)');
    }
  }

  const statuses = new Map((await deps.ledger.listUnits(original.unitsRunKey)).map((u) => [u.unitId, u.status]));
  const failed = original.units.filter((u) => statuses.get(u.unitId) === 'failed');
  const runId = newRunId('rerun');
  const plan: RunPlan = {
    ...original,
    executionName: request.executionName,
    runKey,
    unitsRunKey: original.unitsRunKey,
    runId,
    trigger: 'console',
    mode: 'rerun',
    rerunOf,
    startedAt: new Date(Date.parse(request.startedAt) || deps.now()).toISOString(),
    // Same windows and watermark rule as the original; new staging folders so nothing mixes with its files.
    units: failed.map((u) => ({ ...u, unitPrefix: joinKey('runs', u.tenant, runId, u.flow, u.company, u.division) })),
  };
  delete plan.schedule;
  // The plan is written before units are claimed, so a retried Plan claims the same ones.
  await deps.plans.put(plan);
  const claimed = await claimFailedUnits(plan, deps);
  if (claimed.length !== plan.units.length) {
    // Units another rerun took are not this execution's: drop them so FinishRun judges only its own.
    plan.units = plan.units.filter((u) => claimed.includes(u.unitId));
    await deps.plans.put(plan);
  }
  const message =
    failed.length === 0
      ? `execution "${rerunOf}" has no failed units: nothing to rerun`
      : `rerun of ${claimed.length} failed unit(s) of execution "${rerunOf}"`;
  deps.log.info(message, { runKey, rerunOf, units: claimed.length });
  return resultOf(plan, message);
}

/**
 * failed → pending in the original run, marked as this execution's claim. A unit already pending is this
 * execution's when it claimed it itself (a retried Plan); one another rerun took first is left to it.
 */
async function claimFailedUnits(plan: RunPlan, deps: PlanDeps): Promise<string[]> {
  const claimed: string[] = [];
  for (const unit of plan.units) {
    try {
      await deps.ledger.transitionUnit(plan.unitsRunKey, unit.unitId, ['failed'], 'pending', { claimedBy: plan.executionName });
      claimed.push(unit.unitId);
    } catch (error) {
      if (!(error instanceof LedgerTransitionError)) throw error;
      const current = error.actual === 'pending' ? await deps.ledger.getUnit(plan.unitsRunKey, unit.unitId) : undefined;
      if (current?.status === 'pending' && current.claimedBy === plan.executionName) claimed.push(unit.unitId);
      else deps.log.warn('unit is no longer failed; another rerun took it', { unitId: unit.unitId, status: error.actual, claimedBy: current?.claimedBy });
    }
  }
  return claimed;
}

function resultOf(plan: RunPlan, message: string): PlanRunResult {
  return {
    plan: planKeyOf(plan.executionName),
    runKey: plan.runKey,
    runId: plan.runId,
    duplicate: false,
    units: plan.units.map((u) => u.unitId),
    message,
  };
}
