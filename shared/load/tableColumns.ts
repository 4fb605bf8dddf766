// The warehouse shape of an entity: one typed column per record field (lower-case 4-letter name),
// the audit columns every row carries, and the key the current table is upserted on. Every column carries
// the comment the tables are created with and kept in step with (M3's field text, or a fixed explanation).
import type { EntityDefinition, FieldDefinition } from '../catalog/entityDefinition.ts';

export type ColumnType = 'STRING' | 'BIGINT' | 'DATE' | 'TIMESTAMP' | `DECIMAL(${number},${number})`;

export interface Column {
  name: string;
  type: ColumnType;
  /** The record field it comes from; undefined for audit columns. */
  field?: FieldDefinition;
  /** The column's comment in the warehouse (never empty for a table column). */
  comment?: string;
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
  { name: '_source_system', type: 'STRING', comment: 'Audit: the system the row came from (Infor CloudSuite M3)' },
  { name: '_tenant', type: 'STRING', comment: 'Audit: the CloudSuite tenant (ION API tenant id) the row came from' },
  { name: '_company', type: 'STRING', comment: 'Audit: the M3 company (CONO) of the unit that read the row' },
  { name: '_division', type: 'STRING', comment: 'Audit: the M3 division (DIVI) of the unit that read the row; empty for company-level units' },
  { name: '_entity', type: 'STRING', comment: 'Audit: the catalog entity the row belongs to' },
  { name: '_record_key', type: 'STRING', comment: "Audit: the record's CloudSuite key, as one string (key fields in key order)" },
  { name: '_record_hash', type: 'STRING', comment: "Audit: hash of the record's content; history keeps one row per distinct hash" },
  {
    name: '_change_stamp', type: 'STRING',
    comment: "Audit: M3's change stamp (change date, change number, timestamp); a row is replaced only by a newer stamp",
  },
  { name: '_run_id', type: 'STRING', comment: 'Audit: the sync run that wrote the row (filter on it to see one run)' },
  { name: '_extracted_at', type: 'TIMESTAMP', comment: 'Audit: when the row was read from CloudSuite (UTC)' },
  { name: '_loaded_at', type: 'TIMESTAMP', comment: 'Audit: when the row was loaded into this table (UTC)' },
  { name: '_source_call', type: 'STRING', comment: 'Audit: the M3 API call the row came from (program, transaction, inputs), as JSON' },
  {
    name: '_deleted_at', type: 'TIMESTAMP',
    comment: 'Audit: when the sync found the record gone from CloudSuite (soft delete); NULL for a live row',
  },
  { name: '_record', type: 'STRING', comment: 'Audit: the record exactly as CloudSuite returned it, as JSON (every field as text)' },
];

/** Comments stay short: Unity Catalog shows them in lists, and M3 texts are brief. */
const MAX_COMMENT = 400;

/** Where a field lives in M3, e.g. FAPIBH.E5CUAM or CRS620MI/LstSuppliers SUNO. */
function m3Source(entity: EntityDefinition, field: FieldDefinition): string {
  return entity.source.kind === 'exportmi'
    ? `${entity.source.table}.${entity.source.prefix}${field.name}`
    : `${entity.source.program}/${entity.source.transaction} ${field.name}`;
}

/**
 * A field's comment: the catalog's explanation and the tenant's own M3 text (either alone when the other is
 * missing or says the same), the codes with a fixed meaning, then where it lives in M3 and its M3 type.
 */
export function fieldComment(entity: EntityDefinition, field: FieldDefinition): string {
  const tenant = field.tenantDescription?.trim();
  const catalog = field.description?.trim();
  const same = tenant && catalog && catalog.toLowerCase().startsWith(tenant.toLowerCase());
  // The catalog's explanation reads first; M3's own text (EXPORTMI cuts it to 15 characters) follows, quoted.
  const text = tenant && catalog && !same ? `${catalog}. M3: "${tenant}"` : catalog || tenant || `M3 field ${field.name}`;
  const codes = field.codes ? ` Codes: ${Object.entries(field.codes).map(([code, meaning]) => `${code} = ${meaning}`).join(', ')}.` : '';
  const type = `${field.type}${field.length}${field.decimals ? `.${field.decimals}` : ''}`;
  const comment = `${text}.${codes} [M3 ${m3Source(entity, field)}, ${type}]`.replace(/\.\./g, '.');
  return comment.replace(/[\u0000-\u001f]/g, ' ').slice(0, MAX_COMMENT);
}

export function fieldColumns(entity: EntityDefinition): Column[] {
  return entity.fields.map((field) => ({ name: field.name.toLowerCase(), type: columnTypeOf(field), field, comment: fieldComment(entity, field) }));
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
