// Lambda: Extract (in the unit Map, looping while it answers 'continue'); see shared/pipeline/extractPlannedUnit.ts.
import * as z from 'zod';
import { MetricNames } from '../shared/pipeline/pipelineMetrics.ts';
import { extractPlannedUnit, type ExtractDeps, type ExtractStepResult } from '../shared/pipeline/extractPlannedUnit.ts';
import type { PipelineDeps } from '../shared/pipeline/pipelineDeps.ts';
import { executionOfPlanKey } from '../shared/pipeline/runPlan.ts';
import { UnitRef } from '../shared/pipeline/unitRef.ts';
import { deadlineOf, parseEvent, stepHandler, unitIdField, withLogKeys, type InvocationContext } from './support/handlerSupport.ts';
import { logger } from '../shared/observability/logger.ts';
import { awsMetrics } from './support/awsMetrics.ts';
import { awsState } from './support/awsState.ts';
import { awsConnectTenant } from './support/awsTenants.ts';

export const extractEventSchema = z.object({
  plan: z.string().min(1),
  unitId: unitIdField,
  checkpoint: z.string().min(1).optional(),
  invocation: z.number().int().nonnegative().optional(),
});

export function createExtractHandler(getDeps: () => (ExtractDeps & Pick<PipelineDeps, 'metrics'>) | Promise<ExtractDeps & Pick<PipelineDeps, 'metrics'>>) {
  return stepHandler(async (event: unknown, context?: InvocationContext): Promise<ExtractStepResult> => {
    const request = parseEvent(extractEventSchema, event, 'Extract');
    const keys = UnitRef.parse(request.unitId).logKeys();
    return withLogKeys({ execution: executionOfPlanKey(request.plan), ...keys }, async () => {
      const deps = await getDeps();
      const started = performance.now();
      const result = await extractPlannedUnit(request, { ...deps, deadline: deadlineOf(context) });
      deps.metrics.publish([
        { name: MetricNames.extractSeconds, unit: 'Seconds', value: (performance.now() - started) / 1000, flow: keys.flow },
        ...(result.status === 'complete' ? [{ name: MetricNames.recordsExtracted, unit: 'Count' as const, value: result.records, flow: keys.flow }] : []),
      ]);
      return result;
    });
  });
}

export const handler = createExtractHandler(() => ({ ...awsState(), connectTenant: awsConnectTenant, metrics: awsMetrics(), log: logger }));
