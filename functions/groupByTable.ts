// Lambda: GroupByTable, between the unit Map and the table Map; see shared/pipeline/groupByTable.ts.
import * as z from 'zod';
import { groupByTable, type GroupResult } from '../shared/pipeline/groupByTable.ts';
import type { PipelineDeps } from '../shared/pipeline/pipelineDeps.ts';
import { executionOfPlanKey } from '../shared/pipeline/runPlan.ts';
import { parseEvent, stepHandler, withLogKeys } from './support/handlerSupport.ts';
import { awsState } from './support/awsState.ts';

export const groupEventSchema = z.object({ plan: z.string().min(1) });

type Deps = Pick<PipelineDeps, 'plans' | 'ledger'>;

export function createGroupByTableHandler(getDeps: () => Deps | Promise<Deps>) {
  return stepHandler(async (event: unknown): Promise<GroupResult> => {
    const request = parseEvent(groupEventSchema, event, 'GroupByTable');
    return withLogKeys({ execution: executionOfPlanKey(request.plan) }, async () => groupByTable(request, await getDeps()));
  });
}

export const handler = createGroupByTableHandler(awsState);
