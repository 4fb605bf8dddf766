// The run ledger: one record per run (so a retried schedule delivery or a double console start is
// recognised) and one per work unit, whose status moves only along the unit lifecycle. It is what a
// rerun reads to replay exactly the failed units, and where counts and failures are kept for operators.
import { SyncError } from '../errors/syncError.ts';
import { bounded, redact } from '../observability/redaction.ts';

export type RunTrigger = 'schedule' | 'console' | 'local';
export type RunStatus = 'running' | 'succeeded' | 'failed';
export type UnitStatus = 'pending' | 'extracting' | 'extracted' | 'loading' | 'loaded' | 'committed' | 'failed';

/**
 * The unit lifecycle: pending → extracting → extracted → loading → loaded → committed; any → failed;
 * failed → pending for a rerun. extracting → extracting and loading → loading let an invocation that
 * continues from a checkpoint (or a retried one) record progress without leaving the state.
 */
const NEXT: Readonly<Record<UnitStatus, readonly UnitStatus[]>> = {
  pending: ['extracting', 'failed'],
  extracting: ['extracting', 'extracted', 'failed'],
  extracted: ['loading', 'failed'],
  loading: ['loading', 'loaded', 'failed'],
  loaded: ['committed', 'failed'],
  committed: ['failed'],
  failed: ['pending', 'failed'],
};

export function isAllowedTransition(from: UnitStatus, to: UnitStatus): boolean {
  return NEXT[from].includes(to);
}

export interface StartRunRequest {
  /** Identifies the run across deliveries: see runKeyFor. */
  runKey: string;
  /** The Step Functions execution (or local run) name. */
  executionName: string;
  trigger: RunTrigger;
  /** The schedule's name, for scheduled runs. */
  schedule?: string;
  /** The schedule's planned time (EventBridge Scheduler's scheduledTime), for scheduled runs. */
  scheduledTime?: string;
  flows: string[];
  /** What kind of run, e.g. incremental, backfill or rerun. */
  mode: string;
  /** How long the run and its units stay in the ledger. */
  ttlDays: number;
}

export interface RunSummary {
  units: number;
  byStatus: Partial<Record<UnitStatus, number>>;
  recordsExtracted: number;
  recordsLoaded: number;
  /** A short note for operators (never a secret). */
  message?: string;
  /** What operators should know although the run succeeded, e.g. configured fields a tenant does not have. */
  warnings?: string[];
}

export interface RunRecord extends Omit<StartRunRequest, 'ttlDays'> {
  status: RunStatus;
  startedAt: string;
  finishedAt?: string;
  summary?: RunSummary;
  /** When the ledger forgets the run (ISO). */
  expiresAt: string;
}

export type StartRunResult = { created: true; run: RunRecord } | { created: false; existing: RunRecord };

export interface UnitRegistration {
  unitId: string;
  entity: string;
  company: string;
  /** '' for company-scoped entities. */
  division: string;
  flow?: string;
}

/** A failure as the ledger keeps it: the error's name and message only (truncated, credentials masked). */
export interface ErrorSummary {
  name: string;
  message: string;
}

export interface UnitRecord extends UnitRegistration {
  runKey: string;
  status: UnitStatus;
  recordsExtracted?: number;
  recordsLoaded?: number;
  /** Data quality of the unit's company found by its load (company-scoped entities; see README, "Data-quality figures"). */
  quality?: UnitQuality;
  /** Where the unit's staged files are (e.g. the manifest key). */
  stagedAt?: string;
  /** The rerun execution that claimed the unit (set on failed → pending). */
  claimedBy?: string;
  error?: ErrorSummary;
  /** When the unit entered each status (ISO), the latest entry per status. */
  timings: Partial<Record<UnitStatus, string>>;
  updatedAt: string;
}

export interface UnitQuality {
  /** Rows changed without a new change stamp (repaired by the load). */
  changedWithoutNewStamp: number;
  /** Keys a complete read no longer contained (soft-deleted). */
  keysDeletedAtSource: number;
}

export interface TransitionFields {
  recordsExtracted?: number;
  recordsLoaded?: number;
  quality?: UnitQuality;
  stagedAt?: string;
  /** For a transition to pending: the rerun execution claiming the unit, so two reruns never share one. */
  claimedBy?: string;
  /**
   * Moves the unit only while this execution holds it: a rerun's name (the unit's `claimedBy`), or null for the
   * execution that planned it (no rerun claimed it). A unit another execution holds is left as it is
   * (LedgerTransitionError 'claimed-elsewhere'): a step of a stopped execution still in flight cannot move a unit
   * its rerun has taken over. Undefined: any holder (the claim itself, tests).
   */
  holder?: string | null;
  /** The failure, for a transition to failed; reduced to an ErrorSummary before it is stored. */
  error?: unknown;
}

export interface RunLedger {
  /** Creates the run unless a live run with this key exists, which is then returned. */
  startRun(request: StartRunRequest): Promise<StartRunResult>;
  getRun(runKey: string): Promise<RunRecord | undefined>;
  /** Adds pending units to a started run; units already registered are left as they are. */
  registerUnits(runKey: string, units: readonly UnitRegistration[]): Promise<{ registered: number; existing: number }>;
  /**
   * Moves a unit to `to` if its current status is one of `from`; throws LedgerTransitionError when the
   * transition is not in the lifecycle or the unit is in another status (or not registered).
   */
  transitionUnit(runKey: string, unitId: string, from: readonly UnitStatus[], to: UnitStatus, fields?: TransitionFields): Promise<UnitRecord>;
  getUnit(runKey: string, unitId: string): Promise<UnitRecord | undefined>;
  listUnits(runKey: string): Promise<UnitRecord[]>;
  /** Marks a running run finished; finishing again with the same status is a no-op. */
  finishRun(runKey: string, status: Exclude<RunStatus, 'running'>, summary: RunSummary): Promise<RunRecord>;
}

/**
 * The ledger key of a run: a scheduled run by schedule and planned time, so a redelivered schedule event
 * finds the run it already started; any other run by its execution name (which cannot contain '#').
 */
export function runKeyFor(run: { trigger: RunTrigger; executionName: string; schedule?: string; scheduledTime?: string }): string {
  if (run.trigger === 'schedule') {
    if (!run.schedule || !run.scheduledTime) throw new Error('a scheduled run needs its schedule name and scheduledTime');
    return `schedule#${run.schedule}#${run.scheduledTime}`;
  }
  return run.executionName;
}

export class LedgerTransitionError extends SyncError {
  override name = 'LedgerTransitionError';
  constructor(
    readonly runKey: string,
    readonly unitId: string,
    readonly from: readonly UnitStatus[],
    readonly to: UnitStatus,
    /** The unit's status when the transition was refused; undefined when it is not registered. */
    readonly actual: UnitStatus | undefined,
    readonly reason: 'not-in-lifecycle' | 'status-changed' | 'not-registered' | 'claimed-elsewhere',
    /** For 'claimed-elsewhere': the execution holding the unit (null: the one that planned it). */
    readonly heldBy?: string | null,
  ) {
    super(LedgerTransitionError.describe(runKey, unitId, from, to, actual, reason, heldBy));
  }

  private static describe(
    runKey: string,
    unitId: string,
    from: readonly UnitStatus[],
    to: UnitStatus,
    actual: UnitStatus | undefined,
    reason: LedgerTransitionError['reason'],
    heldBy: string | null | undefined,
  ): string {
    const unit = `unit "${unitId}" of run "${runKey}"`;
    const fromText = from.length === 0 ? '(no status)' : from.join(' or ');
    switch (reason) {
      case 'not-in-lifecycle':
        return `${unit}: moving from ${fromText} to ${to} is not a unit lifecycle step`;
      case 'not-registered':
        return `${unit} is not registered (or has expired), so it cannot move from ${fromText} to ${to}`;
      case 'status-changed':
        return `${unit} cannot move from ${fromText} to ${to}: it is ${actual}`;
      case 'claimed-elsewhere':
        return `${unit} cannot move from ${fromText} to ${to}: ${heldBy ? `rerun "${heldBy}"` : 'the execution that planned it'} holds it (it is ${actual})`;
    }
  }
}

export class RunNotFoundError extends SyncError {
  override name = 'RunNotFoundError';
  constructor(readonly runKey: string, action: string) {
    super(`run "${runKey}" is not in the ledger (never started, or expired); cannot ${action}`);
  }
}

/** A run that already finished with another status cannot be finished again. */
/** A run that already finished with another status cannot be finished again. */
export class RunAlreadyFinishedError extends SyncError {
  override name = 'RunAlreadyFinishedError';
  constructor(readonly runKey: string, readonly status: RunStatus, wanted: RunStatus) {
    super(`run "${runKey}" already finished as ${status}; it cannot be marked ${wanted}`);
  }
}

const MAX_ERROR_MESSAGE = 1_000;

/**
 * Reduces a failure to what the ledger may keep. Our errors never carry secrets, but a foreign one
 * might quote a header or a query string: the secrets this process holds are masked by value, and
 * credentials-looking fragments by pattern as well.
 */
export function errorSummary(error: unknown): ErrorSummary {
  const name = bounded(error instanceof Error ? error.name : 'Error', 100);
  const raw = redact(error instanceof Error ? error.message : String(error));
  const masked = raw
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]')
    .replace(/\b(access_token|refresh_token|client_secret|password|token|secret)(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+/gi, '$1$2[redacted]');
  const message = bounded(masked, MAX_ERROR_MESSAGE);
  return { name, message };
}

/** The run summary of a set of units. */
export function summarizeUnits(units: readonly UnitRecord[], message?: string): RunSummary {
  const byStatus: Partial<Record<UnitStatus, number>> = {};
  let recordsExtracted = 0;
  let recordsLoaded = 0;
  for (const unit of units) {
    byStatus[unit.status] = (byStatus[unit.status] ?? 0) + 1;
    recordsExtracted += unit.recordsExtracted ?? 0;
    recordsLoaded += unit.recordsLoaded ?? 0;
  }
  return { units: units.length, byStatus, recordsExtracted, recordsLoaded, ...(message === undefined ? {} : { message }) };
}
