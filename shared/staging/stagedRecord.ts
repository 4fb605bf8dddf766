// The staged record format (the contract the load step reads): one JSON line per record with
// audit fields, the record's key, content hash and a change stamp that orders correctly as a string.
import { createHash } from 'node:crypto';
import type { EntityDefinition } from '../catalog/entityDefinition.ts';

export const SOURCE_SYSTEM = 'infor-m3';

/** One source record as read: field name to its value, always a string (M3 sends every value as text). */
export type SourceRecord = Record<string, string>;

export interface SourceCall {
  program: string;
  transaction: string;
  table?: string;
}

export interface StagedRecord {
  _tenant: string;
  _source_system: typeof SOURCE_SYSTEM;
  _entity: string;
  _company: string;
  _division: string;
  _record_key: string;
  _record_hash: string;
  _change_stamp: string;
  _run_id: string;
  _extracted_at: string;
  _source_call: SourceCall;
  record: SourceRecord;
}

/** JSON with object keys sorted at every level, so equal records hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value as object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export function recordHash(record: SourceRecord): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

/** The key as a JSON array of strings: unambiguous whatever the values contain. */
export function recordKey(entity: EntityDefinition, record: SourceRecord): string {
  return JSON.stringify(entity.key.map((k) => record[k] ?? ''));
}

const DIGITS = /^\d*$/;

function padDigits(value: string | undefined, width: number, field: string): string {
  const v = (value ?? '').trim();
  if (!DIGITS.test(v) || v.length > width) {
    throw new Error(`change field ${field} has value "${v}", expected up to ${width} digits`);
  }
  return v.padStart(width, '0');
}

/** The digit that follows LMDT in the current stamp layout; stamps before it have 0 there (see changeStamp). */
export const STAMP_LAYOUT_DIGIT = '1';

/**
 * The change stamp: a string whose order is change order, never built through Number (LMTS exceeds 2^53).
 * Snapshot entities use the run's start time. Incremental entities use 31 digits:
 *
 *   LMDT (8) + '1' + LMTS (18, 0 when the table has none) + CHNO (4)
 *
 * Why this order: CHNO is N3 in M3 and wraps after 999, so within one day LMTS (a timestamp) must decide
 * before CHNO; LMDT leads because it is what the windows and watermarks work in. Why the '1': stamps
 * written before this layout (still in current tables and watermarks) are LMDT (8) + CHNO (5) + LMTS (18),
 * where CHNO ≤ 999 puts '0' right after LMDT. The '1' makes every new stamp of a day order after every old
 * stamp of that day, so a record changed again is never held back by its own old stamp, whatever LMTS's
 * undocumented encoding (a leading LMTS alone would compare below an old stamp whenever LMTS is shorter
 * than 16 digits); the length stays 31.
 * Without LMTS, versions of one day order by CHNO alone: a record whose CHNO wraps (999 → 0) on the same
 * day as its previous version gets a smaller stamp, and the warehouse keeps the earlier version until the
 * record changes on a later day (see test/staging/stagedRecord.test.ts).
 */
export function changeStamp(entity: EntityDefinition, record: SourceRecord, runStartedAt: string): string {
  const { date, counter, timestamp } = entity.changeFields;
  if (entity.strategy !== 'incremental' || !date) return runStartedAt;
  return (
    padDigits(record[date], 8, date) +
    STAMP_LAYOUT_DIGIT +
    (timestamp ? padDigits(record[timestamp], 18, timestamp) : '0'.repeat(18)) +
    (counter ? padDigits(record[counter], 4, counter) : '0000')
  );
}
