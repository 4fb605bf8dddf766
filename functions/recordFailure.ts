// Lambda: the Catch target of Extract, Load and Commit; see shared/pipeline/recordFailure.ts.
import * as z from 'zod';
import type { PipelineDeps } from '../shared/pipeline/pipelineDeps.ts';
import { recordFailure, type RecordFailureResult } from '../shared/pipeline/recordFailure.ts';
import { executionOfPlanKey } from '../shared/pipeline/runPlan.ts';
import { UnitRef } from '../shared/pipeline/unitRef.ts';
import { parseEvent, stepHandler, unitIdField, withLogKeys } from './support/handlerSupport.ts';
import { logger } from '../shared/observability/logger.ts';
import { awsState } from './support/awsState.ts';

export const recordFailureEventSchema = z
  .object({
    plan: z.string().min(1),
    unitId: unitIdField.optional(),
    table: z.string().min(1).optional(),
    /** What the Catch put at $.error: {Error, Cause}. */
    error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
  })
  .refine((e) => (e.unitId === undefined) !== (e.table === undefined), 'exactly one of unitId and table');

type Deps = Pick<PipelineDeps, 'plans' | 'ledger' | 'log'>;

export function createRecordFailureHandler(getDeps: () => Deps | Promise<Deps>) {
  return stepHandler(async (event: unknown): Promise<RecordFailureResult> => {
    const request = parseEvent(recordFailureEventSchema, event, 'RecordFailure');
    const keys = request.unitId ? UnitRef.parse(request.unitId).logKeys() : { table: request.table };
    return withLogKeys({ execution: executionOfPlanKey(request.plan), ...keys }, async () => recordFailure(request, await getDeps()));
  });
}

export const handler = createRecordFailureHandler(() => ({ ...awsState(), log: logger }));
