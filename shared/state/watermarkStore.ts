// Watermarks: how far each unit (tenant × entity × company × division) has been read, so the next run
// asks CloudSuite only for what changed since. A watermark only ever moves forward.

export interface WatermarkKey {
  tenant: string;
  entity: string;
  company: string;
  /** '' for company-scoped entities. */
  division: string;
}

export interface WatermarkMark {
  /** The largest change date (LMDT) read, yyyyMMdd. */
  changeDate: string;
  /**
   * The largest change stamp read. Compared as a string, so every stamp of one key must have the same
   * fixed-width format (see changeStamp in shared/staging/stagedRecord.ts).
   */
  changeStamp: string;
  /** The run that read it. */
  runId: string;
}

export interface Watermark extends WatermarkMark {
  /** ISO-8601 UTC time of the advance. */
  updatedAt: string;
}

export type AdvanceResult =
  | { advanced: true; current: Watermark }
  /** A mark at or past the proposed one was already stored (another run got there first): not an error. */
  | { advanced: false; current: Watermark };

export interface WatermarkStore {
  get(key: WatermarkKey): Promise<Watermark | undefined>;
  /** Stores the mark if it is past the stored one; otherwise leaves the stored one and reports it. */
  advance(key: WatermarkKey, mark: WatermarkMark): Promise<AdvanceResult>;
  /** Every watermark of a tenant (for staleness checks and the CLI's status). */
  list(tenant: string): Promise<(WatermarkKey & Watermark)[]>;
}

const DATE = /^(\d{4})(\d{2})(\d{2})$/;

/** Parses yyyyMMdd into a UTC epoch-ms midnight, rejecting impossible dates such as 20240230. */
function parseDay(value: string, what: string): number {
  const match = DATE.exec(value);
  if (match === null) throw new Error(`${what} must be a yyyyMMdd date, got "${value}"`);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const date = new Date(ms);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new Error(`${what} "${value}" is not a calendar date`);
  }
  return ms;
}

function formatDay(ms: number): string {
  const date = new Date(ms);
  const yyyy = String(date.getUTCFullYear()).padStart(4, '0');
  const mm = String(date.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(date.getUTCDate()).padStart(2, '0');
  return `${yyyy}${mm}${dd}`;
}

/** Throws unless `value` is a real yyyyMMdd date. */
export function assertChangeDate(value: string, what = 'changeDate'): void {
  parseDay(value, what);
}

/**
 * The first change date the next incremental read asks for: the watermark's day minus `overlapDays`.
 * M3 change dates are date-only, so the overlap re-reads records changed later on an already-read day
 * (and absorbs clock and time-zone skew); the loader's upsert makes the re-read harmless. Pure calendar
 * arithmetic on the date string in UTC: no local time zone or DST can shift the day.
 */
export function windowStart(mark: Pick<WatermarkMark, 'changeDate'>, overlapDays: number): string {
  if (!Number.isInteger(overlapDays) || overlapDays < 0) {
    throw new Error(`overlapDays must be a non-negative whole number, got ${overlapDays}`);
  }
  const day = parseDay(mark.changeDate, 'watermark changeDate');
  const date = new Date(day);
  date.setUTCDate(date.getUTCDate() - overlapDays);
  return formatDay(date.getTime());
}
