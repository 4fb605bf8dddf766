// A deadline the caller owns (in Lambda: the invocation's remaining time). Every wait and retry
// checks it, so work stops in time to checkpoint instead of being killed mid-sleep.
import { setTimeout as delay } from 'node:timers/promises';
import { SyncError } from '../errors/syncError.ts';
import { scaledMs } from './timeScale.ts';

export class DeadlineExceededError extends SyncError {
  override name = 'DeadlineExceededError';
  constructor(
    readonly operation: string,
    readonly wantedMs: number,
    readonly remainingMs: number,
    options?: ErrorOptions,
  ) {
    super(
      `${operation}: stopping before the deadline (wanted ${Math.round(wantedMs)} ms, ` +
        `${Math.max(0, Math.round(remainingMs))} ms left); the caller should checkpoint and continue later`,
      options,
    );
  }
}

export class Deadline {
  private constructor(private readonly remaining: () => number) {}

  static none(): Deadline {
    return new Deadline(() => Number.POSITIVE_INFINITY);
  }

  static in(ms: number): Deadline {
    return Deadline.at(Date.now() + ms);
  }

  static at(epochMs: number): Deadline {
    return new Deadline(() => epochMs - Date.now());
  }

  /** From a Lambda context: the remaining time minus a margin for checkpointing. */
  static fromRemaining(remainingMs: number, marginMs = 0): Deadline {
    return Deadline.at(Date.now() + remainingMs - marginMs);
  }

  /** A deadline measured by something other than the clock (e.g. a local run's budget of statements per invocation). */
  static measuredBy(remainingMs: () => number): Deadline {
    return new Deadline(remainingMs);
  }

  remainingMs(): number {
    return this.remaining();
  }

  isPast(): boolean {
    return this.remainingMs() <= 0;
  }

  /** Throws DeadlineExceededError if the deadline has passed or `nextMs` of work would not fit. */
  assertTime(operation: string, nextMs = 0): void {
    const exceeded = this.exceededBy(operation, nextMs);
    if (exceeded) throw exceeded;
  }

  /** The DeadlineExceededError for `operation` if the deadline has passed or `nextMs` of work would not fit. */
  exceededBy(operation: string, nextMs = 0): DeadlineExceededError | undefined {
    const remaining = this.remainingMs();
    return remaining <= nextMs ? new DeadlineExceededError(operation, nextMs, remaining) : undefined;
  }

  /** A signal that aborts at the deadline, to cut work in flight; undefined for no deadline. */
  signal(): AbortSignal | undefined {
    const remaining = this.remainingMs();
    if (!Number.isFinite(remaining)) return undefined;
    return AbortSignal.timeout(Math.min(2_147_483_647, Math.max(1, Math.floor(remaining))));
  }

  /** Waits a nominal `ms` (scaled by the time scale), refusing a wait that would end past the deadline. */
  async sleep(operation: string, ms: number, signal?: AbortSignal): Promise<void> {
    const real = scaledMs(ms);
    this.assertTime(operation, real);
    if (real > 0) await delay(real, undefined, { signal });
  }
}
