// Lambda step: RefreshMarts (after the tables load), served by the Load function, which already holds the
// warehouse connection and its secret; see shared/pipeline/refreshMarts.ts. Publishes UnbalancedVouchers per schema.
import * as z from 'zod';
import { MetricNames, type MetricPoint } from '../shared/pipeline/pipelineMetrics.ts';
import type { PipelineDeps } from '../shared/pipeline/pipelineDeps.ts';
import { refreshMarts, type RefreshMartsResult } from '../shared/pipeline/refreshMarts.ts';
import { executionOfPlanKey } from '../shared/pipeline/runPlan.ts';
import { parseEvent, stepHandler, withLogKeys } from './support/handlerSupport.ts';

export const refreshMartsEventSchema = z.object({
  plan: z.string().min(1),
  step: z.literal('refreshMarts'),
});

/** The state machine marks the event, so the Load function can tell it from a table load. */
export function isRefreshMartsEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { step?: unknown }).step === 'refreshMarts';
}

type Deps = Pick<PipelineDeps, 'plans' | 'openWarehouse' | 'log' | 'metrics' | 'store'>;

export function createRefreshMartsHandler(getDeps: () => Deps | Promise<Deps>) {
  return stepHandler(async (event: unknown): Promise<RefreshMartsResult> => {
    const request = parseEvent(refreshMartsEventSchema, event, 'RefreshMarts');
    return withLogKeys({ execution: executionOfPlanKey(request.plan) }, async () => {
      const deps = await getDeps();
      const result = await refreshMarts(request, deps);
      deps.metrics.publish(
        result.schemas
          .filter((s) => s.unbalancedVouchers !== undefined)
          .map((s): MetricPoint => ({ name: MetricNames.unbalancedVouchers, unit: 'Count', value: s.unbalancedVouchers!, schema: s.schema })),
      );
      return result;
    });
  });
}
