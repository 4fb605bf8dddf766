// Lambda: Plan (first state). Expands the flows into work units and opens the run; see shared/pipeline/planRun.ts.
import { SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { StepFunctionsExecutionStatus } from '../shared/aws/stepFunctionsExecutionStatus.ts';
import { loadFlowsConfig } from '../shared/config/loadFlowsConfig.ts';
import { planRun } from '../shared/pipeline/planRun.ts';
import type { PlanDeps, PlanRunResult } from '../shared/pipeline/planStep.ts';
import { deadlineOf, parseEvent, stepHandler, withLogKeys, type InvocationContext } from './support/handlerSupport.ts';
import { logger } from '../shared/observability/logger.ts';
import { awsState } from './support/awsState.ts';
import { awsConnectTenant } from './support/awsTenants.ts';

export const planEventSchema = z.object({
  /** $$.Execution.Name */
  execution: z.string().min(1),
  /** $$.Execution.StartTime */
  startedAt: z.string().min(1),
  /** The execution's input ($). */
  input: z.unknown(),
  /** $$.StateMachine.Id */
  stateMachine: z.string().min(1).optional(),
});

export function createPlanHandler(getDeps: () => PlanDeps | Promise<PlanDeps>) {
  return stepHandler(async (event: unknown, context?: InvocationContext): Promise<PlanRunResult> => {
    const { execution, startedAt, input, stateMachine } = parseEvent(planEventSchema, event, 'Plan');
    return withLogKeys({ execution }, async () => {
      const deps = await getDeps();
      const request = { executionName: execution, startedAt, input, ...(stateMachine ? { stateMachineArn: stateMachine } : {}) };
      return planRun(request, { ...deps, deadline: deadlineOf(context, 20_000) });
    });
  });
}

let executions: StepFunctionsExecutionStatus | undefined;
export const handler = createPlanHandler(() => ({
  ...awsState(),
  connectTenant: awsConnectTenant,
  log: logger,
  now: Date.now,
  flows: loadFlowsConfig(),
  executions: (executions ??= new StepFunctionsExecutionStatus(new SFNClient({}))),
}));
