// What a state machine execution is started with: a schedule's input, an operator's console input
// (flows, companies, divisions, dates, mode) or a rerun of an earlier execution's failed units.
import * as z from 'zod';
import { ConfigError, configErrorFromZod } from '../config/configError.ts';
import { isoDate } from '../config/flowsConfig.ts';

/**
 * incremental: each unit from its watermark; backfill: a since..until window, watermarks untouched; full: every
 * record; reconcile: every record of the incremental entities, staged as a complete read, so the load soft-deletes
 * keys M3 deleted and repairs rows M3 changed without a new change stamp; sweep: the key columns only of the
 * incremental entities with deleteDetection "sweep", so the load soft-deletes keys M3 deleted (no content, no
 * watermark moves).
 */
export type RunMode = 'incremental' | 'backfill' | 'full' | 'reconcile' | 'sweep';
export const RUN_MODES = ['incremental', 'backfill', 'full', 'reconcile', 'sweep'] as const satisfies readonly RunMode[];
/** What a schedule may start: its flows' daily run, their reconcile run or their key sweep (infra/flows.config.ts `reconcile`, `sweep`). */
export const SCHEDULE_MODES = ['incremental', 'reconcile', 'sweep'] as const satisfies readonly RunMode[];

/** Accepts ["100","200"] or "100,200" (easier to type in the console). */
const list = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''));

export const scheduleInputSchema = z.strictObject({
  trigger: z.literal('schedule'),
  schedule: z.string().min(1),
  /** EventBridge Scheduler's <aws.scheduler.scheduled-time>, e.g. 2026-11-20T01:00:00Z. */
  scheduledTime: z.string().min(1),
  flows: z.array(z.string()).min(1),
  /** Absent: incremental (schedules written before reconcile existed). */
  mode: z.enum(SCHEDULE_MODES).optional(),
});

export const rerunInputSchema = z.strictObject({
  /** The name of the execution whose failed units to replay. */
  rerunOf: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'an execution name (letters, digits, - and _)'),
});

export const consoleInputSchema = z
  .strictObject({
    trigger: z.enum(['console', 'local']).optional(),
    flows: list.optional(),
    companies: list.optional(),
    divisions: list.optional(),
    /** YYYY-MM-DD in the input, yyyyMMdd once parsed. */
    since: isoDate.optional(),
    until: isoDate.optional(),
    mode: z.enum(RUN_MODES).optional(),
  })
  .superRefine((input, ctx) => {
    const mode = input.mode ?? (input.since || input.until ? 'backfill' : 'incremental');
    if (mode !== 'backfill' && (input.since || input.until)) {
      ctx.addIssue({ code: 'custom', path: ['mode'], message: `since/until select a backfill window; use "mode": "backfill" (not ${mode})` });
    }
    if (input.since && input.until && input.since > input.until) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'is before since' });
    }
  });

export type ScheduleInput = z.infer<typeof scheduleInputSchema>;
export type RerunInput = z.infer<typeof rerunInputSchema>;
export type ConsoleInput = z.infer<typeof consoleInputSchema>;

export type ExecutionInput =
  | ({ kind: 'schedule' } & ScheduleInput)
  | ({ kind: 'rerun' } & RerunInput)
  | ({ kind: 'console'; mode: RunMode } & Omit<ConsoleInput, 'mode'>);

/** Classifies and validates an execution's input; errors say which field is wrong and what is expected. */
export function parseExecutionInput(raw: unknown): ExecutionInput {
  const where = 'execution input';
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${where} must be a JSON object such as {} or {"flows": ["suppliers"], "companies": ["100"]}`);
  }
  const object = raw as Record<string, unknown>;
  if ('rerunOf' in object) {
    const parsed = rerunInputSchema.safeParse(raw);
    if (!parsed.success) throw configErrorFromZod(`${where} (rerun)`, parsed.error);
    return { kind: 'rerun', ...parsed.data };
  }
  if (object.trigger === 'schedule') {
    const parsed = scheduleInputSchema.safeParse(raw);
    if (!parsed.success) throw configErrorFromZod(`${where} (schedule)`, parsed.error);
    return { kind: 'schedule', ...parsed.data };
  }
  const parsed = consoleInputSchema.safeParse(raw);
  if (!parsed.success) throw configErrorFromZod(where, parsed.error);
  const { mode, ...rest } = parsed.data;
  return { kind: 'console', ...rest, mode: mode ?? (rest.since || rest.until ? 'backfill' : 'incremental') };
}
