// The change date (LMDT, yyyyMMdd) of an incremental record becomes the unit's watermark: the largest one
// staged is where the next incremental read starts. So each is checked before it is staged: eight digits, a
// real calendar date, and not after the run's date in the tenant's time zone plus a day of tolerance (clock
// skew, a zone configured a little off). One record dated 20991231 used to move the watermark to 2099, after
// which every incremental run silently read nothing; a malformed one such as "9" sorted above every real date
// and then failed Commit on every run (found by the hardening review). Blank or all-zero dates are M3's "no
// date" and are not used for the watermark.
import { dateInZone } from '../runtime/zonedDate.ts';
import { StagedRecordError } from './stagingErrors.ts';

/** Days a change date may lie after the run's date in the tenant's zone. */
export const CHANGE_DATE_TOLERANCE_DAYS = 1;

/** A change date that is malformed, not a calendar date, or in the future. */
export class ChangeDateError extends StagedRecordError {
  override name = 'ChangeDateError';
}

const DATE = /^(\d{4})(\d{2})(\d{2})$/;

/** The UTC midnight of a yyyyMMdd calendar date; undefined when it is not one (20240230, 2024, 9). */
function dayOf(value: string): number | undefined {
  const match = DATE.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const date = new Date(ms);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? ms : undefined;
}

function formatDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
}

/** True for M3's "no date": blank or zeros. */
export function isNoDate(value: string): boolean {
  return /^0*$/.test(value.trim());
}

/** The latest change date a run may stage: its start's date in the tenant's zone plus the tolerance. */
export function latestChangeDate(runStartedAt: string, timeZone: string): string {
  const started = Date.parse(runStartedAt);
  if (!Number.isFinite(started)) throw new Error(`the run's start "${runStartedAt}" is not an ISO-8601 time`);
  const today = dayOf(dateInZone(started, timeZone))!;
  return formatDay(today + CHANGE_DATE_TOLERANCE_DAYS * 86_400_000);
}

/**
 * Throws ChangeDateError unless `value` is a calendar date on or before `latest`. `where` names the unit and
 * the record (its key); the message names the field and value and what to do.
 */
export function assertChangeDate(value: string, field: string, latest: string, where: string): void {
  const day = dayOf(value);
  const problem =
    day === undefined
      ? `its change date ${field} is "${value.slice(0, 20)}", which is not a yyyyMMdd calendar date`
      : value > latest
        ? `its change date ${field} is ${value}, after the run's date plus ${CHANGE_DATE_TOLERANCE_DAYS} day (${latest}) in the tenant's time zone`
        : undefined;
  if (problem === undefined) return;
  throw new ChangeDateError(
    `${where}: ${problem}; nothing was staged as complete and no watermark moved (a watermark past today would make every later ` +
      "incremental run read nothing). Correct the record's date in M3, or the tenant's timeZone in the flows configuration if M3 " +
      'writes dates in another zone, then re-run',
  );
}
