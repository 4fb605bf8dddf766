// The WarehouseSession port over the official @databricks/sql driver. The driver never retries
// OpenSession or ExecuteStatement, so transient failures (429/5xx, resets, a warehouse still
// starting) are retried here with p-retry, bounded by the caller's deadline. Every statement the
// loader sends is idempotent, which is what makes retrying them safe.
import type { DBSQLClient } from '@databricks/sql';
import pRetry from 'p-retry';
import { logger, type Log } from '../observability/logger.ts';
import { Deadline, DeadlineExceededError } from '../runtime/deadline.ts';
import { scaledMs } from '../runtime/timeScale.ts';
import { WarehouseError, WarehouseUnavailableError } from './loadErrors.ts';
import { DELTA_CONFLICT } from './deltaConflicts.ts';
import type { WarehouseParam, WarehouseSession } from './loadTypes.ts';

type Session = Awaited<ReturnType<DBSQLClient['openSession']>>;

const TRANSIENT_STATUS = new Set([429, 500, 502, 503, 504]);
const TRANSIENT_NETWORK = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|socket hang up|network/i;
// Delta write conflicts (deltaConflicts.ts) committed nothing: retried like a warehouse that is starting.
const TRANSIENT_MESSAGE = new RegExp(`TEMPORARILY_UNAVAILABLE|warehouse is starting|is starting up|session (is )?not initialized|${DELTA_CONFLICT.source}`, 'i');

/** Classifies a driver error; the message keeps the Databricks error class and SQLSTATE, never a token. */
function toWarehouseError(error: unknown, sql: string): WarehouseError {
  const warehouseError = (transient: boolean, message: string, sqlState: string | undefined) =>
    transient ? new WarehouseUnavailableError(message, sqlState, { cause: error }) : new WarehouseError(message, sqlState, { cause: error });
  const e = error as { statusCode?: number; message?: string; response?: { sqlState?: string; displayMessage?: string; errorMessage?: string }; code?: string };
  const statement = sql.replace(/\s+/g, ' ').slice(0, 80);
  if (typeof e?.statusCode === 'number') {
    const transient = TRANSIENT_STATUS.has(e.statusCode);
    const hint = e.statusCode === 401 || e.statusCode === 403 ? ': check the warehouse token or service principal and its privileges' : '';
    return warehouseError(transient, `warehouse answered HTTP ${e.statusCode} to "${statement}…"${hint}`, undefined);
  }
  const detail = e?.response?.displayMessage ?? e?.response?.errorMessage ?? e?.message ?? String(error);
  const sqlState = e?.response?.sqlState;
  const transient = TRANSIENT_MESSAGE.test(detail) || TRANSIENT_NETWORK.test(`${e?.code ?? ''} ${detail}`);
  return warehouseError(transient, `${detail.trim()} (statement: "${statement}…")`, sqlState);
}

export interface DatabricksSessionOptions {
  /** A connected client (the real driver; the CLI's local mode connects it to the bundled emulator). */
  client: DBSQLClient;
  catalog?: string;
  schema?: string;
  log?: Log;
  /** Retries of one statement on transient failures (default 6), backoff 1 s doubling to 30 s. */
  retries?: number;
  /** The workspace host (WarehouseSession.workspace); absent, loads look at the schema every time. */
  workspace?: string;
}

function byteLength(sql: string, params: Record<string, WarehouseParam>): number {
  let bytes = Buffer.byteLength(sql);
  for (const v of Object.values(params)) {
    const value = v === null || typeof v === 'string' ? v : v.value;
    bytes += value === null ? 0 : Buffer.byteLength(value);
  }
  return bytes;
}

export class DatabricksSession implements WarehouseSession {
  readonly stats = { statements: 0, bytesSent: 0, retries: 0 };
  private session: Session | undefined;
  private readonly log: Log;
  readonly workspace?: string;

  constructor(private readonly options: DatabricksSessionOptions) {
    this.log = options.log ?? logger;
    if (options.workspace) this.workspace = options.workspace;
  }

  private async open(deadline: Deadline): Promise<Session> {
    if (this.session) return this.session;
    this.session = await this.withRetries('OpenSession', deadline, () =>
      this.options.client.openSession({
        ...(this.options.catalog ? { initialCatalog: this.options.catalog } : {}),
        ...(this.options.schema ? { initialSchema: this.options.schema } : {}),
      }),
    );
    return this.session;
  }

  async execute(sql: string, params: Record<string, WarehouseParam> = {}, options: { deadline?: Deadline } = {}): Promise<Record<string, unknown>[]> {
    const deadline = options.deadline ?? Deadline.none();
    const namedParameters = Object.fromEntries(
      Object.entries(params).map(([k, v]) => [k, v === null || typeof v === 'string' ? v : v.value]),
    ) as Record<string, string>;
    this.stats.statements += 1;
    this.stats.bytesSent += byteLength(sql, params);
    return this.withRetries(sql, deadline, async () => {
      const session = await this.open(deadline);
      const op = await session.executeStatement(sql, Object.keys(namedParameters).length ? { namedParameters } : {});
      try {
        await op.finished();
        return (await op.fetchAll()) as Record<string, unknown>[];
      } finally {
        await op.close().catch(() => undefined);
      }
    });
  }

  private async withRetries<T>(what: string, deadline: Deadline, attempt: () => Promise<T>): Promise<T> {
    return pRetry(
      async () => {
        try {
          return await attempt();
        } catch (error) {
          const failure = toWarehouseError(error, what);
          // A session that failed to open is not reused.
          if (what === 'OpenSession') this.session = undefined;
          throw failure;
        }
      },
      {
        retries: this.options.retries ?? 6,
        factor: 2,
        minTimeout: scaledMs(1000),
        maxTimeout: scaledMs(30_000),
        randomize: true,
        shouldRetry: ({ error, retryDelay }) => {
          if (!(error instanceof WarehouseUnavailableError)) return false;
          if (deadline.remainingMs() <= retryDelay) throw new DeadlineExceededError(`warehouse statement "${what.slice(0, 60)}"`, retryDelay, deadline.remainingMs());
          return true;
        },
        onFailedAttempt: ({ error, attemptNumber, retriesLeft, retryDelay }) => {
          if (error instanceof WarehouseUnavailableError && retriesLeft > 0) {
            this.stats.retries += 1;
            this.log.warn('retrying warehouse statement', { attempt: attemptNumber, retriesLeft, waitMs: retryDelay, reason: error.message.slice(0, 200) });
          }
        },
      },
    );
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.close().catch(() => undefined);
  }
}
