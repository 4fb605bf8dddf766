// A lease per target table: loads into one warehouse table run one at a time (concurrent MERGEs into the
// same Delta table conflict), whichever Lambda or local process runs them. A lease expires on its own,
// so a holder that died cannot block the table for longer than its ttl.
import { SyncError } from '../errors/syncError.ts';
import type { Log } from '../observability/logger.ts';
import { Deadline } from '../runtime/deadline.ts';
import { scaledMs, timeScale } from '../runtime/timeScale.ts';

export interface LeaseInfo {
  tableName: string;
  holder: string;
  acquiredAt: string;
  /** Wall-clock expiry, epoch ms. */
  expiresAtMs: number;
}

export interface Lease extends LeaseInfo {
  /** Identifies this acquisition: a holder that lost its lease cannot renew or release its successor's. */
  token: string;
}

export interface TableLease {
  /** Takes the lease if it is free or expired; undefined when someone else holds it. ttlMs is wall-clock time. */
  acquire(tableName: string, holder: string, ttlMs: number): Promise<Lease | undefined>;
  /** Extends a held lease; throws LeaseLostError if it was taken over or released. */
  renew(lease: Lease, ttlMs: number): Promise<Lease>;
  /** Gives the lease up; false when it was no longer held by this acquisition. */
  release(lease: Lease): Promise<boolean>;
  /** The live lease on the table, if any. */
  current(tableName: string): Promise<LeaseInfo | undefined>;
}

/** Another load holds the table: transient, so Step Functions tries the Load again later. */
export class LeaseUnavailableError extends SyncError {
  override name = 'LeaseUnavailableError';

  override get transient(): boolean {
    return true;
  }

  constructor(
    readonly tableName: string,
    readonly holder: string,
    readonly waitedMs: number,
    readonly current: LeaseInfo | undefined,
  ) {
    super(
      `table "${tableName}": ${holder} could not get the load lease within ${Math.round(waitedMs)} ms` +
        (current ? `; it is held by ${current.holder} until ${new Date(current.expiresAtMs).toISOString()}` : '') +
        '; another load of this table is running, retry later',
    );
  }
}

export class LeaseLostError extends SyncError {
  override name = 'LeaseLostError';
  constructor(readonly tableName: string, readonly holder: string, options?: ErrorOptions) {
    super(`table "${tableName}": the lease of ${holder} expired and was taken over (or released); stop writing to the table`, options);
  }
}

export interface WithLeaseOptions<T = unknown> {
  /** How long to wait for the lease (nominal ms, scaled by the time scale like every wait). */
  waitMs: number;
  /** The caller's deadline; a wait that would pass it throws DeadlineExceededError instead of sleeping. */
  deadline?: Deadline;
  /** Renew the lease this often while fn runs (wall-clock ms); default a third of ttlMs. */
  renewEveryMs?: number;
  /** First backoff step between attempts (nominal ms); doubles up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  log?: Log;
  /**
   * A lease handed over by the previous invocation of the same work (a load that continues): renewed, not
   * acquired again. If it was lost meanwhile, the lease is waited for like any other.
   */
  resume?: Lease;
  /**
   * Decides after fn whether to keep the lease for a continuation: the ttl (wall-clock ms) to hold it for until the
   * next invocation renews it, or undefined to release it as usual.
   */
  handOver?: (result: T) => number | undefined;
}

/**
 * Runs fn while holding the table's lease: waits for it with bounded, jittered backoff (one loop, no
 * nested retries), keeps it renewed while fn runs, and releases it afterwards. fn's signal aborts if a
 * renewal finds the lease lost, so fn can stop writing. Throws LeaseUnavailableError when the lease is
 * not free within waitMs.
 */
export async function withLease<T>(
  leases: TableLease,
  tableName: string,
  holder: string,
  ttlMs: number,
  fn: (lease: Lease, signal: AbortSignal) => Promise<T>,
  options: WithLeaseOptions<T>,
): Promise<T> {
  const deadline = options.deadline ?? Deadline.none();
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const random = options.random ?? Math.random;
  const startedAt = Date.now();
  const budgetMs = scaledMs(options.waitMs);

  let lease: Lease | undefined;
  if (options.resume && options.resume.tableName === tableName && options.resume.holder === holder) {
    lease = await leases.renew(options.resume, ttlMs).catch((error: unknown) => {
      if (error instanceof LeaseLostError) {
        options.log?.warn('the lease handed over by the previous invocation was lost; waiting for the table again', { tableName, holder });
        return undefined;
      }
      throw error;
    });
  }
  for (let attempt = 1; lease === undefined; attempt++) {
    lease = await leases.acquire(tableName, holder, ttlMs);
    if (lease !== undefined) break;
    const leftMs = budgetMs - (Date.now() - startedAt);
    if (leftMs <= 0) {
      throw new LeaseUnavailableError(tableName, holder, options.waitMs, await leases.current(tableName).catch(() => undefined));
    }
    const step = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)) * (0.5 + random() * 0.5);
    // Never sleep past the wait budget: the last wait is cut to what is left of it.
    const scale = timeScale();
    const nominalLeftMs = scale > 0 ? leftMs / scale : 0;
    await deadline.sleep(`waiting for the lease on ${tableName}`, Math.min(step, nominalLeftMs));
  }

  const held = new LeaseKeeper(leases, lease, ttlMs, options.renewEveryMs ?? Math.max(1, Math.floor(ttlMs / 3)));
  let keepFor: number | undefined;
  try {
    const result = await fn(lease, held.signal);
    keepFor = options.handOver?.(result);
    return result;
  } finally {
    await held.stop();
    // Held on for the next invocation (which renews it), so that nobody else loads the table in between.
    const kept = keepFor !== undefined && !held.signal.aborted && (await leases.renew(held.lease, keepFor).then(() => true, () => false));
    if (!kept) {
      const released = await leases.release(held.lease).catch((error: unknown) => {
        // Not fatal: the lease expires by itself after ttlMs.
        options.log?.warn('could not release the table lease', { tableName, holder, error: (error as Error).message });
        return true;
      });
      if (!released) options.log?.warn('the table lease was lost before it was released', { tableName, holder });
    }
  }
}

/** Renews a lease in the background; aborts its signal when the lease is lost. */
class LeaseKeeper {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private renewing: Promise<void> | undefined;

  constructor(
    private readonly leases: TableLease,
    public lease: Lease,
    private readonly ttlMs: number,
    everyMs: number,
  ) {
    this.timer = setInterval(() => {
      if (this.renewing === undefined && !this.controller.signal.aborted) this.renewing = this.renew();
    }, everyMs);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  private async renew(): Promise<void> {
    try {
      this.lease = await this.leases.renew(this.lease, this.ttlMs);
    } catch (error) {
      // A lost lease must stop the writer; a failed call is retried on the next tick while the lease lasts.
      if (error instanceof LeaseLostError || Date.now() >= this.lease.expiresAtMs) {
        this.controller.abort(error instanceof LeaseLostError ? error : new LeaseLostError(this.lease.tableName, this.lease.holder, { cause: error }));
      }
    } finally {
      this.renewing = undefined;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
  }
}
