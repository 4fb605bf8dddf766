// Lambda: Load (in the table Map), one target table under its lease; see shared/pipeline/loadPlannedTable.ts.
import * as z from 'zod';
import { loadPlannedTable, type LoadContinueResult, type LoadDeps, type LoadStepResult } from '../shared/pipeline/loadPlannedTable.ts';
import { ControlTotalError } from '../shared/load/loadErrors.ts';
import { MetricNames, type MetricPoint } from '../shared/pipeline/pipelineMetrics.ts';
import type { PipelineDeps } from '../shared/pipeline/pipelineDeps.ts';
import { executionOfPlanKey } from '../shared/pipeline/runPlan.ts';
import { deadlineOf, parseEvent, stepHandler, withLogKeys, type InvocationContext } from './support/handlerSupport.ts';
import { logger } from '../shared/observability/logger.ts';
import { awsMetrics } from './support/awsMetrics.ts';
import { awsState } from './support/awsState.ts';
import { awsWarehouse } from './support/awsWarehouse.ts';
import { createRefreshMartsHandler, isRefreshMartsEvent } from './refreshMarts.ts';

export const loadEventSchema = z.object({
  plan: z.string().min(1),
  table: z.string().min(1),
  checkpoint: z.string().min(1).optional(),
  invocation: z.number().int().nonnegative().optional(),
});

type Deps = LoadDeps & Pick<PipelineDeps, 'metrics'>;

/** The data-quality figures of a load, per flow (summed over its companies; the per-company figures are in the log and the result). */
function qualityPoints(result: LoadStepResult): MetricPoint[] {
  const byFlow = new Map<string, { changed: number; deleted: number }>();
  for (const q of result.quality) {
    const sum = byFlow.get(q.flow) ?? { changed: 0, deleted: 0 };
    sum.changed += q.changedWithoutNewStamp;
    sum.deleted += q.softDeleted;
    byFlow.set(q.flow, sum);
  }
  return [...byFlow].flatMap(([flow, sum]) => [
    { name: MetricNames.changedWithoutNewStamp, unit: 'Count' as const, value: sum.changed, flow },
    { name: MetricNames.keysDeletedAtSource, unit: 'Count' as const, value: sum.deleted, flow },
  ]);
}

export function createLoadHandler(getDeps: () => Deps | Promise<Deps>) {
  return stepHandler(async (event: unknown, context?: InvocationContext): Promise<LoadStepResult | LoadContinueResult> => {
    const request = parseEvent(loadEventSchema, event, 'Load');
    return withLogKeys({ execution: executionOfPlanKey(request.plan), table: request.table }, async () => {
      const deps = await getDeps();
      const started = performance.now();
      let result: LoadStepResult | LoadContinueResult;
      try {
        result = await loadPlannedTable(request, { ...deps, deadline: deadlineOf(context, 30_000) });
      } catch (error) {
        // Every unit of the table refused by its control totals: the alarm must hear of it as well.
        if (error instanceof ControlTotalError) deps.metrics.publish([{ name: MetricNames.controlTotalMismatches, unit: 'Count', value: 1 }]);
        throw error;
      }
      deps.metrics.publish([
        { name: MetricNames.loadSeconds, unit: 'Seconds', value: (performance.now() - started) / 1000 },
        ...(result.status === 'complete'
          ? [{ name: MetricNames.controlTotalMismatches, unit: 'Count' as const, value: result.controlTotalMismatches }, ...qualityPoints(result)]
          : []),
      ]);
      return result;
    });
  });
}

/**
 * The Load function serves two states: Load (one table) and RefreshMarts (the views over the loaded tables),
 * which needs exactly Load's dependencies and permissions (the warehouse driver and its secret): one function
 * and one bundle instead of a second copy of both.
 */
export function createWarehouseStepHandler(getDeps: () => Deps | Promise<Deps>) {
  const load = createLoadHandler(getDeps);
  const marts = createRefreshMartsHandler(getDeps);
  return (event: unknown, context?: InvocationContext) => (isRefreshMartsEvent(event) ? marts(event) : load(event, context));
}

export const handler = createWarehouseStepHandler(() => ({ ...awsState(), ...awsWarehouse(), metrics: awsMetrics(), log: logger }));
