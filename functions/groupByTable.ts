// Lambda: GroupByTable, between the unit Map and the table Map; see shared/pipeline/groupByTable.ts.
import * as z from 'zod';
import { groupByTable, type GroupResult } from '../shared/pipeline/groupByTable.ts';
import type { PipelineDeps } from '../shared/pipeline/pipelineDeps.ts';
import { awsState } from './support/awsState.ts';
import { executionOfPlan, parseEvent, withLogKeys } from './support/handlerSupport.ts';

export const groupEventSchema = z.object({ plan: z.string().min(1) });

type Deps = Pick<PipelineDeps, 'plans' | 'ledger'>;

export function createGroupByTableHandler(getDeps: () => Deps | Promise<Deps>) {
  return async (event: unknown): Promise<GroupResult> => {
    const request = parseEvent(groupEventSchema, event, 'GroupByTable');
    return withLogKeys({ execution: executionOfPlan(request.plan) }, async () => groupByTable(request, await getDeps()));
  };
}

export const handler = createGroupByTableHandler(awsState);
