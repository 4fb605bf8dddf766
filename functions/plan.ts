// Lambda: Plan (first state). Expands the flows into work units and opens the run; see shared/pipeline/planRun.ts.
import { z } from 'zod';
import { planRun, type PlanDeps, type PlanRunResult } from '../shared/pipeline/planRun.ts';
import { awsPipelineDeps } from './support/awsPipelineDeps.ts';
import { bundledFlowsConfig } from './support/bundledFlowsConfig.ts';
import { deadlineOf, parseEvent, withLogKeys, type InvocationContext } from './support/handlerSupport.ts';

export const planEventSchema = z.object({
  /** $$.Execution.Name */
  execution: z.string().min(1),
  /** $$.Execution.StartTime */
  startedAt: z.string().min(1),
  /** The execution's input ($). */
  input: z.unknown(),
});

export function createPlanHandler(getDeps: () => PlanDeps | Promise<PlanDeps>) {
  return async (event: unknown, context?: InvocationContext): Promise<PlanRunResult> => {
    const { execution, startedAt, input } = parseEvent(planEventSchema, event, 'Plan');
    return withLogKeys({ execution }, async () => {
      const deps = await getDeps();
      return planRun({ executionName: execution, startedAt, input }, { ...deps, deadline: deadlineOf(context, 20_000) });
    });
  };
}

export const handler = createPlanHandler(() => ({ ...awsPipelineDeps(), flows: bundledFlowsConfig() }));
