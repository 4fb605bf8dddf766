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

/**
 * For incremental entities LMDT (8) + CHNO (5) + LMTS (18), each zero-padded so string order is
 * change order; never through Number (LMTS exceeds 2^53). Snapshot entities use the run's start time.
 */
export function changeStamp(entity: EntityDefinition, record: SourceRecord, runStartedAt: string): string {
  const { date, counter, timestamp } = entity.changeFields;
  if (entity.strategy !== 'incremental' || !date) return runStartedAt;
  let stamp = padDigits(record[date], 8, date);
  if (counter) stamp += padDigits(record[counter], 5, counter);
  if (timestamp) stamp += padDigits(record[timestamp], 18, timestamp);
  return stamp;
}
