// Turns a staged record into the flat row of strings a load binds (as one JSON array per batch),
// checking every value against its M3 type first: a value the warehouse could not hold exactly is an
// error naming entity, key and field, never a silent NULL or a rounded amount.
import type { EntityDefinition, FieldDefinition } from '../catalog/entityDefinition.ts';
import type { StagedRecord } from '../staging/stagedRecord.ts';
import { RecordValueError } from './loadErrors.ts';

const NUMBER = /^(-?)(\d*)(?:\.(\d*))?$/;

/** A decimal's text without insignificant zeros ("0100.50" → "100.5", "-0.00" → "0"); undefined if not a number. */
export function canonicalDecimal(text: string): string | undefined {
  const m = NUMBER.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const intDigits = (m[2] ?? '').replace(/^0+(?=\d)/, '') || '0';
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  const digits = `${intDigits}${fraction ? `.${fraction}` : ''}`;
  return digits === '0' ? '0' : `${m[1]}${digits}`;
}

/**
 * A field's value as bound: its text, null for an empty field (SQL NULL), or undefined when the text is
 * not a value of the field's type (the caller turns that into a RecordValueError naming the record).
 */
type BoundValue = string | null | undefined;

function numericValue(field: FieldDefinition, raw: string): BoundValue {
  const value = raw.trim();
  if (value === '') return null;
  const canonical = canonicalDecimal(value);
  if (canonical === undefined) return undefined;
  const [intDigits = '', fraction = ''] = canonical.replace(/^-/, '').split('.');
  if (fraction.length > field.decimals) return undefined;
  const maxInt = Math.min(38, field.length) - field.decimals;
  if (intDigits.replace(/^0+/, '').length > maxInt) return undefined;
  return canonical;
}

function dateValue(raw: string): BoundValue {
  const value = raw.trim();
  if (value === '' || /^0+$/.test(value)) return null;
  if (!/^\d{8}$/.test(value)) return undefined;
  const iso = `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}`;
  const d = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso) return undefined;
  return iso;
}

export type EncodedRow = Record<string, string | null>;

export function encodeStagedRecord(entity: EntityDefinition, unitId: string, staged: StagedRecord): EncodedRow {
  const row: EncodedRow = {
    _source_system: staged._source_system,
    _tenant: staged._tenant,
    _company: staged._company,
    _division: staged._division,
    _entity: staged._entity,
    _record_key: staged._record_key,
    _record_hash: staged._record_hash,
    _change_stamp: staged._change_stamp,
    _run_id: staged._run_id,
    _extracted_at: staged._extracted_at,
    _source_call: JSON.stringify(staged._source_call),
    _record: JSON.stringify(staged.record),
    _unit: unitId,
  };
  for (const field of entity.fields) {
    const raw = staged.record[field.name] ?? '';
    const value: BoundValue = field.type === 'A' ? raw : field.type === 'N' ? numericValue(field, raw) : dateValue(raw);
    if (value === undefined) {
      throw new RecordValueError(
        `${entity.id} ${staged._record_key}: field ${field.name} has value ${JSON.stringify(raw)}, which is not a valid ` +
          `${field.type === 'N' ? `number for N${field.length}${field.decimals ? `.${field.decimals}` : ''}` : 'date (yyyyMMdd)'}; ` +
          'correct the entity\'s field type in the catalog (see `cloudsuite-sync describe`) or the record in M3',
      );
    }
    row[field.name.toLowerCase()] = value;
  }
  return row;
}
