// The manifest of one staged unit: what was extracted, into which files, with counts and checksums.
// The load step trusts nothing it cannot check against it.
import * as z from 'zod';
import { controlTotalsSchema } from './controlTotals.ts';

const stagedFileSchema = z.object({
  name: z.string().regex(/^part-\d{5}\.jsonl\.gz$/),
  records: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
});

export const unitManifestSchema = z.object({
  formatVersion: z.literal(1),
  tenant: z.string(),
  entity: z.string(),
  company: z.string(),
  division: z.string(),
  strategy: z.enum(['snapshot', 'incremental']),
  /** The change-date window read (yyyyMMdd, inclusive); both null for a full read. */
  window: z.object({ since: z.string().nullable(), until: z.string().nullable() }),
  /**
   * True when the unit holds every record of its scope (company, division) at the time of the read: a
   * snapshot, or an incremental entity read without a window by a full or reconcile run. The load
   * soft-deletes the scope's keys a complete read no longer contains. Absent (false) in manifests
   * written before it existed, and for windowed reads.
   */
  complete: z.boolean().optional(),
  /**
   * True for a key sweep's unit: its records hold the key fields only (no content, no change stamp). Such a unit
   * is never merged into the current or history table; the load soft-deletes the live keys of its scope that it
   * does not contain (under the vanished-keys guard) and nothing else. Absent (false) for every other unit.
   */
  keysOnly: z.boolean().optional(),
  runId: z.string(),
  /** The run's start (ISO-8601 UTC): the change stamp of every record of a snapshot unit. */
  runStartedAt: z.string(),
  startedAt: z.string(),
  completedAt: z.string(),
  sourceCall: z.object({ program: z.string(), transaction: z.string(), table: z.string().optional() }),
  files: z.array(stagedFileSchema),
  totalRecords: z.number().int().nonnegative(),
  /** Largest _change_stamp staged (null when no record was read). */
  maxChangeStamp: z.string().nullable(),
  /** Largest change date (LMDT, yyyyMMdd) staged, for the watermark; null for snapshot entities or no records. */
  maxChangeDate: z.string().regex(/^\d{8}$/, 'a yyyyMMdd date').nullable(),
  /** Per period, the record count and exact amount sums as staged (controlTotals.ts); absent in older manifests. */
  controlTotals: controlTotalsSchema.optional(),
  /** What the operator should know about the unit, e.g. configured fields this tenant does not have. */
  warnings: z.array(z.string()).optional(),
});

/** The change-date window a unit was read with. */
export interface ReadWindow {
  /** Inclusive lower bound on the change date (yyyyMMdd), or null for everything. */
  since: string | null;
  /** Inclusive upper bound on the change date (yyyyMMdd), or null for no bound. */
  until: string | null;
}

export type StagedFile = z.infer<typeof stagedFileSchema>;
export type UnitManifest = z.infer<typeof unitManifestSchema>;

export const MANIFEST_NAME = 'manifest.json';

export function partFileName(index: number): string {
  return `part-${String(index).padStart(5, '0')}.jsonl.gz`;
}
