// The Plan step's contract and what its two use cases share (planning from flows, planRun.ts; replaying
// a rerun, planRerun.ts): opening the execution's run in the ledger once, the run's start time, the answer.
import type { ValidatedFlowsConfig } from '../config/flowsConfig.ts';
import type { Deadline } from '../runtime/deadline.ts';
import type { StartRunRequest } from '../state/runLedger.ts';
import type { ExecutionStatusSource } from './executionStatus.ts';
import type { PipelineDeps } from './pipelineDeps.ts';
import { planKeyOf, type RunPlan } from './runPlan.ts';

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

/** What opening the run found: a run to plan, a start that repeats another execution's, or this execution's plan. */
export type RunOpening =
  | { kind: 'new' }
  | { kind: 'duplicate'; result: PlanRunResult }
  | { kind: 'planned'; plan: RunPlan };

/**
 * Starts the execution's run in the ledger, kept for the configured retention. A run another execution
 * started is a duplicate start; the same execution finding its own run is Plan retried by Step Functions,
 * which reuses the plan if it was already written and plans again if not.
 */
export async function openRun(
  request: PlanRunRequest,
  run: Omit<StartRunRequest, 'executionName' | 'ttlDays'>,
  deps: PlanDeps,
): Promise<RunOpening> {
  const started = await deps.ledger.startRun({ ...run, executionName: request.executionName, ttlDays: deps.flows.config.runRetentionDays });
  if (started.created) return { kind: 'new' };
  const { existing } = started;
  if (existing.executionName !== request.executionName) {
    const message = `run ${run.runKey} was already started by execution "${existing.executionName}" (${existing.status}); this start does nothing`;
    deps.log.info(message, { runKey: run.runKey });
    return { kind: 'duplicate', result: { plan: '', runKey: run.runKey, runId: '', duplicate: true, units: [], message } };
  }
  const plan = await deps.plans.find(planKeyOf(request.executionName));
  return plan ? { kind: 'planned', plan } : { kind: 'new' };
}

/** The plan's start time (ISO-8601 UTC): the execution's, or now if Step Functions' is unreadable. */
export function runStartedAt(request: PlanRunRequest, deps: Pick<PlanDeps, 'now'>): string {
  return new Date(Date.parse(request.startedAt) || deps.now()).toISOString();
}

/** The answer of Plan for a written plan. */
export function planResult(plan: RunPlan, message: string): PlanRunResult {
  return {
    plan: planKeyOf(plan.executionName),
    runKey: plan.runKey,
    runId: plan.runId,
    duplicate: false,
    units: plan.units.map((u) => u.unitId),
    message,
  };
}

export const PLAN_REUSED = 'plan reused (Plan was retried)';
