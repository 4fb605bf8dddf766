// Lambda: Commit (in the table Map, after Load); see shared/pipeline/commitTable.ts.
import * as z from 'zod';
import { commitTable, type CommitStepResult } from '../shared/pipeline/commitTable.ts';
import { MetricNames, type MetricPoint } from '../shared/pipeline/pipelineMetrics.ts';
import type { PipelineDeps } from '../shared/pipeline/pipelineDeps.ts';
import { executionOfPlanKey } from '../shared/pipeline/runPlan.ts';
import { parseEvent, stepHandler, withLogKeys } from './support/handlerSupport.ts';
import { logger } from '../shared/observability/logger.ts';
import { awsMetrics } from './support/awsMetrics.ts';
import { awsState } from './support/awsState.ts';

/** Load's answer, passed on whole by the state machine. */
export const commitEventSchema = z.object({
  plan: z.string().min(1),
  table: z.string().min(1),
  units: z.array(
    z.object({
      unitId: z.string().min(1),
      records: z.number().int().nonnegative(),
      maxChangeStamp: z.string().nullable(),
      maxChangeDate: z.string().regex(/^\d{8}$/).nullable(),
    }),
  ),
});

type Deps = Pick<PipelineDeps, 'plans' | 'ledger' | 'watermarks' | 'log' | 'metrics' | 'now'>;

export function createCommitHandler(getDeps: () => Deps | Promise<Deps>) {
  return stepHandler(async (event: unknown): Promise<CommitStepResult> => {
    const request = parseEvent(commitEventSchema, event, 'Commit');
    return withLogKeys({ execution: executionOfPlanKey(request.plan), table: request.table }, async () => {
      const deps = await getDeps();
      const result = await commitTable(request, deps);
      const lagSeconds = Math.max(0, (deps.now() - Date.parse(result.startedAt)) / 1000);
      deps.metrics.publish(
        result.flows.flatMap((f): MetricPoint[] => [
          { name: MetricNames.recordsLoaded, unit: 'Count', value: f.records, flow: f.flow },
          { name: MetricNames.successfulCommits, unit: 'Count', value: 1, flow: f.flow },
          { name: MetricNames.commitLagSeconds, unit: 'Seconds', value: lagSeconds, flow: f.flow },
        ]),
      );
      return result;
    });
  });
}

export const handler = createCommitHandler(() => ({ ...awsState(), metrics: awsMetrics(), log: logger, now: Date.now }));
