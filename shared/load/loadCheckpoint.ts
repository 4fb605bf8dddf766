// The stored form of a load checkpoint (shared/load/loadTypes.ts LoadCheckpoint), validated when read back: a
// continuation must never trust a damaged or foreign checkpoint.
import * as z from 'zod';
import type { LoadCheckpoint } from './loadTypes.ts';

export const loadCheckpointSchema = z.object({
  formatVersion: z.literal(1),
  loadId: z.string().min(1),
  mode: z.enum(['merge', 'copy']),
  loadedAt: z.string().min(1),
  invocations: z.number().int().positive(),
  units: z.record(z.string(), z.object({ files: z.number().int().nonnegative(), batches: z.number().int().nonnegative() })),
  merge: z
    .object({
      checked: z.boolean(),
      refused: z.array(z.object({ unitId: z.string(), reason: z.string(), kind: z.enum(['vanished-keys', 'control-totals']).optional() })),
      steps: z.array(z.enum(['quality', 'current', 'history', 'softDeletes', 'qualityRecord', 'controlTotals'])),
      counts: z.object({ currentInserted: z.number(), currentUpdated: z.number(), historyInserted: z.number(), currentSoftDeleted: z.number() }),
      quality: z.array(z.object({ company: z.string(), changedWithoutNewStamp: z.number(), softDeleted: z.number() })).optional(),
      vanished: z.record(z.string(), z.number().int().nonnegative()).optional(),
    })
    .optional(),
}) satisfies z.ZodType<LoadCheckpoint>;

/** Throws (naming what is wrong) unless the value is a checkpoint of this load. */
export function parseLoadCheckpoint(value: unknown, loadId: string, where: string): LoadCheckpoint {
  const parsed = loadCheckpointSchema.safeParse(value);
  if (!parsed.success) throw new Error(`${where} is not a load checkpoint (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
  if (parsed.data.loadId !== loadId) throw new Error(`${where} belongs to load ${parsed.data.loadId}, not ${loadId}`);
  return parsed.data;
}
