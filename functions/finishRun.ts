// Lambda: FinishRun (last task): closes the run and decides Succeeded or Failed; see shared/pipeline/finishRun.ts.
import * as z from 'zod';
import { finishRun, type FinishRunResult } from '../shared/pipeline/finishRun.ts';
import { MetricNames, type MetricPoint } from '../shared/pipeline/pipelineMetrics.ts';
import type { PipelineDeps } from '../shared/pipeline/pipelineDeps.ts';
import { executionOfPlanKey } from '../shared/pipeline/runPlan.ts';
import { parseEvent, stepHandler, withLogKeys } from './support/handlerSupport.ts';
import { logger } from '../shared/observability/logger.ts';
import { awsMetrics } from './support/awsMetrics.ts';
import { awsState } from './support/awsState.ts';

export const finishEventSchema = z.object({
  plan: z.string().min(1),
  /** Set by the state machine's catch when a step stopped the execution before the tables loaded. */
  stoppedBy: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

type Deps = Pick<PipelineDeps, 'plans' | 'ledger' | 'log' | 'metrics' | 'now'>;

export function createFinishRunHandler(getDeps: () => Deps | Promise<Deps>) {
  return stepHandler(async (event: unknown): Promise<FinishRunResult> => {
    const request = parseEvent(finishEventSchema, event, 'FinishRun');
    return withLogKeys({ execution: executionOfPlanKey(request.plan) }, async () => {
      const deps = await getDeps();
      const result = await finishRun(request, deps);
      deps.metrics.publish([
        { name: MetricNames.runSeconds, unit: 'Seconds', value: Math.max(0, (deps.now() - Date.parse(result.startedAt)) / 1000) },
        ...result.flows.map((f): MetricPoint => ({ name: MetricNames.failedUnits, unit: 'Count', value: f.failed, flow: f.flow })),
      ]);
      return result;
    });
  });
}

export const handler = createFinishRunHandler(() => ({ ...awsState(), metrics: awsMetrics(), log: logger, now: Date.now }));
