// The public contract of the CloudSuite emulator (options, knobs, faults, counters, the handle) and
// its defaults. index.ts re-exports everything here; other modules import types from this file.

export interface CloudSuiteEmulatorOptions {
  /** Default 1; the same seed gives identical data. */
  seed?: number;
  /** Default 0 (a free port); the host is always 127.0.0.1. */
  port?: number;
  /** Default 'ACME_PRD'. */
  tenant?: string;
  /** Data sizes per company (defaults keep tests fast). */
  volume?: Partial<Volume>;
  knobs?: Partial<Knobs>;
  /** The emulator's "today", YYYYMMDD, default '20261120'. */
  startDate?: string;
}

export interface Volume {
  /** Default ['100', '200', '300']. */
  companies: string[];
  suppliers: number;
  glAccountsPerDivision: number;
  agreements: number;
  purchaseOrders: number;
  /** Average lines per purchase order. */
  linesPerOrder: number;
  /** One purchase order in the first company has this many lines (default 1200). */
  bigOrderLines: number;
  invoices: number;
  glTransactions: number;
  /** Seeded manual GL vouchers fall on the days before the start date, this far back (default 400; a long ledger spans years). */
  glHistoryDays: number;
}

export interface RateLimitKnob {
  requestsPerSecond: number;
  burst: number;
  retryAfter: RetryAfterStyle;
}

export type RetryAfterStyle = 'seconds' | 'http-date' | 'none';

export interface Knobs {
  /** expires_in of issued access tokens, default 7200. */
  tokenLifetimeSeconds: number;
  /** Password grants return a refresh_token, default true. */
  issueRefreshTokens: boolean;
  /** Token bucket over MI calls, 429 when empty; default null (no limit). */
  rateLimit: RateLimitKnob | null;
  /** Added to every MI call, default 0. */
  latencyMs: number;
  /** The server silently caps maxrecs (and maxrecs=0) at this many rows; default null. */
  maxrecsCap: number | null;
  /** List transactions return the start-key row again (M3 behaviour), default true. */
  startRowInclusive: boolean;
  /** EXPORTMI row order, default 'primary-key'. */
  exportRowOrder: 'primary-key' | 'unordered';
  /** When DIVI conditions in an EXPORTMI QERY are honoured; default 'blank-session-only'. */
  exportDivisionFilter: 'blank-session-only' | 'always' | 'ignored';
  /**
   * How this tenant's tables differ from the emulator's full ones (M3 versions, modifications and
   * configuration differ): per table, columns it lacks, extra columns ("NAME TYPE LENGTH[.DEC] Description")
   * and other lengths ("A30", "N15.2"). Seen by EXPORTMI, LstFields, MI outputs, MRS001MI and truth(). Default {}.
   */
  tableFields: Record<string, TableFieldsKnob>;
  /** Tables this tenant does not have: EXPORTMI/Select and LstFields answer NOK. Default []. */
  missingTables: string[];
  /** MI list transactions (not EXPORTMI) answer at most this many records, also for maxrecs=0; default 10,000 (M3). */
  listCap: number | null;
  /** EXPORTMI/Select asking for more rows than `aboveRows` (or all) answers after `delayMs`: a 504, or the rows late. Default null. */
  slowExport: SlowExportKnob | null;
  /** CHNO (N3) grows by this much per change and wraps after 999 as in M3; a large step makes it wrap soon. Default 1. */
  chnoStep: number;
  /** 'ignored': an empty `divi=` query parameter does not make the session division blank (the matrix form `;divi=` does). Default 'honoured'. */
  emptyDiviQueryParameter: 'honoured' | 'ignored';
  /** The service user's division when a call sets none: blank (company level) or the company's first division. Default 'blank'. */
  userDefaultDivision: 'blank' | 'first';
  /** The authorized app behind the .ionapi file: a service account (password grant) or a client-credentials app. Default 'service-account'. */
  backendApp: 'service-account' | 'client-credentials';
  /**
   * Rows of each incremental table (INCREMENTAL_TABLES) per company and simulated day whose fields change
   * without LMDT, CHNO or LMTS moving, as APS455 sets FAPIBH SUPA/VONO/ACDT and APS450 sets BIST/IBLE: no
   * LMDT window ever sees them. Default 0.
   */
  silentChangesPerDay: number;
  /**
   * Rows of each incremental table per company and simulated day that are physically deleted (a head takes
   * its lines with it, as M3 does), beyond the day's usual purchase order line deletes. Default 0.
   */
  deletesPerDay: number;
}

export interface TableFieldsKnob {
  /** Columns (4-letter names without the prefix) the tenant's table lacks. */
  missing?: string[];
  /** Columns only this tenant has, "NAME TYPE LENGTH[.DECIMALS] Description", e.g. "ZZRF A20 Modification ref". */
  extra?: string[];
  /** Other lengths, e.g. { SUNM: 'A30', NTAM: 'N15.2' }: alpha values come back cut; numeric lengths change metadata only. */
  lengths?: Record<string, string>;
}

export interface SlowExportKnob {
  /** Pages asking for at most this many rows answer at normal speed. */
  aboveRows: number;
  /** Real ms before the answer. */
  delayMs: number;
  /** 504: the gateway gave up; 'late': the rows, late (a client with a shorter timeout gives up first). */
  answer: 504 | 'late';
}

export type FaultKind =
  | 'http500'
  | 'http502'
  | 'http503'
  | 'http504'
  | 'reset'
  | 'malformed'
  | 'partial-nok'
  | 'revoke-token'
  | 'http429'
  | 'token-endpoint-500';

export interface FaultRule {
  kind: FaultKind;
  program?: string;
  transaction?: string;
  /** Default 1. */
  count?: number;
  /** Skip this many matching calls first, default 0. */
  afterCalls?: number;
  /** For http429, default 'seconds'. */
  retryAfter?: RetryAfterStyle;
}

export interface Counters {
  passwordGrants: number;
  refreshGrants: number;
  revokes: number;
  /** Successful client_credentials grants (client-credentials apps). */
  clientCredentialsGrants: number;
  miCalls: number;
  /** Keyed 'CRS620MI/LstSuppliers'. */
  callsByTransaction: Record<string, number>;
  rateLimited: number;
  unauthorized: number;
  faultsInjected: number;
}

/** One M3 record: 4-letter field name (no table prefix) to its M3 string value. */
export type M3Row = Record<string, string>;

export interface TableInfo {
  name: string;
  prefix: string;
  description: string;
  key: string[];
  fields: { name: string; type: 'A' | 'N' | 'D'; length: number; decimals: number; description: string }[];
}

export interface ChangeCounts {
  updated: number;
  inserted: number;
  deleted: number;
  /** Rows changed without a new LMDT/CHNO/LMTS (present only when some were). */
  silentlyChanged?: number;
}

export interface ChangeSummary extends ChangeCounts {
  byTable: Record<string, ChangeCounts>;
}

export interface MutationPlan {
  updates?: number;
  /** Updates that leave LMDT, CHNO and LMTS as they were (see Knobs.silentChangesPerDay). */
  silentUpdates?: number;
  inserts?: number;
  deletes?: number;
  table?: string;
  company?: string;
}

export interface MiCallInfo {
  program: string;
  transaction: string;
  /** 0-based index of this call among all MI calls that reached M3 (see counters.miCalls). */
  callIndex: number;
  /** The maxrecs the call asked for (query or matrix), as sent; undefined when absent. */
  maxrecs?: string;
  /** The query parameters as sent (inputs such as QERY, and control parameters). */
  query: Record<string, string>;
  /** Epoch ms when the call reached M3. */
  atMs: number;
}

export interface CloudSuiteEmulator {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly tenant: string;
  /** A valid .ionapi object for this emulator (per the backendApp knob: with or without saak/sask). */
  readonly ionapi: Record<string, string>;
  writeIonApiFile(path: string): Promise<void>;
  /** Mutable at run time. */
  knobs: Knobs;
  injectFault(rule: FaultRule): void;
  clearFaults(): void;
  readonly counters: Counters;
  resetCounters(): void;
  /** Server-side revocation: every issued access and refresh token becomes invalid. */
  revokeAllTokens(): void;
  /** Every issued access token expires now (refresh tokens stay valid). */
  expireAccessTokens(): void;
  /** Moving the clock mutates, inserts and deletes records dated on the new days. */
  readonly clock: { today(): string; advanceDays(days: number): ChangeSummary };
  /** Explicit changes stamped "today". */
  mutate(plan: MutationPlan): ChangeSummary;
  /** Called before every MI call reaches M3, so tests can change data while a run is paging. */
  onBeforeMiCall?: (call: MiCallInfo) => void | Promise<void>;
  /** Current rows of an M3 table, values formatted as MI returns them (alpha right-trimmed), sorted by key. */
  truth(table: string, company?: string): M3Row[];
  tableInfo(table: string): TableInfo;
  close(): Promise<void>;
}

export const DEFAULT_VOLUME: Readonly<Volume> = Object.freeze({
  companies: ['100', '200', '300'],
  suppliers: 40,
  glAccountsPerDivision: 30,
  agreements: 20,
  purchaseOrders: 60,
  linesPerOrder: 4,
  bigOrderLines: 1200,
  invoices: 80,
  glTransactions: 300,
  glHistoryDays: 400,
});

export const DEFAULT_KNOBS: Readonly<Knobs> = Object.freeze({
  tokenLifetimeSeconds: 7200,
  issueRefreshTokens: true,
  rateLimit: null,
  latencyMs: 0,
  maxrecsCap: null,
  startRowInclusive: true,
  exportRowOrder: 'primary-key',
  exportDivisionFilter: 'blank-session-only',
  tableFields: {},
  missingTables: [],
  listCap: 10_000,
  slowExport: null,
  chnoStep: 1,
  emptyDiviQueryParameter: 'honoured',
  userDefaultDivision: 'blank',
  backendApp: 'service-account',
  silentChangesPerDay: 0,
  deletesPerDay: 0,
});

export const DEFAULT_TENANT = 'ACME_PRD';
export const DEFAULT_START_DATE = '20261120';
