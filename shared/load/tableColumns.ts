// The warehouse shape of an entity: one typed column per record field (lower-case 4-letter name),
// the audit columns every row carries, and the key the current table is upserted on.
import type { EntityDefinition, FieldDefinition } from '../catalog/entityDefinition.ts';

export type ColumnType = 'STRING' | 'BIGINT' | 'DATE' | 'TIMESTAMP' | `DECIMAL(${number},${number})`;

export interface Column {
  name: string;
  type: ColumnType;
  /** The record field it comes from; undefined for audit columns. */
  field?: FieldDefinition;
}

function columnTypeOf(field: FieldDefinition): ColumnType {
  switch (field.type) {
    case 'A':
      return 'STRING';
    case 'D':
      return 'DATE';
    case 'N':
      if (field.decimals > 0) return `DECIMAL(${Math.min(38, field.length)},${field.decimals})`;
      return field.length <= 18 ? 'BIGINT' : `DECIMAL(${Math.min(38, field.length)},0)`;
  }
}

const AUDIT_COLUMNS: readonly Column[] = [
  { name: '_source_system', type: 'STRING' },
  { name: '_tenant', type: 'STRING' },
  { name: '_company', type: 'STRING' },
  { name: '_division', type: 'STRING' },
  { name: '_entity', type: 'STRING' },
  { name: '_record_key', type: 'STRING' },
  { name: '_record_hash', type: 'STRING' },
  { name: '_change_stamp', type: 'STRING' },
  { name: '_run_id', type: 'STRING' },
  { name: '_extracted_at', type: 'TIMESTAMP' },
  { name: '_loaded_at', type: 'TIMESTAMP' },
  { name: '_source_call', type: 'STRING' },
  { name: '_deleted_at', type: 'TIMESTAMP' },
  { name: '_record', type: 'STRING' },
];

export function fieldColumns(entity: EntityDefinition): Column[] {
  return entity.fields.map((field) => ({ name: field.name.toLowerCase(), type: columnTypeOf(field), field }));
}

/** Every column of the current and history tables, in table order. */
export function tableColumns(entity: EntityDefinition): Column[] {
  return [...fieldColumns(entity), ...AUDIT_COLUMNS];
}

/** The current table's key: the tenant plus the CloudSuite key (company, division where it has one). */
export function currentKeyColumns(entity: EntityDefinition): string[] {
  return ['_tenant', ...entity.key.map((k) => k.toLowerCase())];
}

/** Databricks spells types in lower case in DESCRIBE output. */
export function normalizeType(type: string): string {
  return type.toLowerCase().replace(/\s+/g, '');
}
