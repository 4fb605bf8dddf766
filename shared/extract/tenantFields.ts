// Reads the fields a tenant's M3 really has, from M3's own metadata: a table's columns (EXPORTMI/LstFields)
// or an MI list transaction's outputs (MRS001MI/LstAdtFieldInf). Tenants differ by M3 version, modification
// level and configuration, so the catalog's field lists are checked against this before any data call.
import type { EntityDefinition, FieldDefinition } from '../catalog/entityDefinition.ts';
import { MiError, MiHttpError } from '../m3/miErrors.ts';
import type { Deadline } from '../runtime/deadline.ts';
import type { MiExecutor } from './miExecutor.ts';

/** A field as the tenant's metadata describes it. */
export interface TenantField extends FieldDefinition {
  description: string;
}

export type TenantFields =
  /** The metadata answered: these are the table's columns (names without prefix) or the transaction's outputs. */
  | { kind: 'found'; source: string; fields: TenantField[]; prefix?: string }
  /** M3 says the table or the transaction does not exist on this tenant. */
  | { kind: 'missing'; source: string; message: string }
  /** The metadata could not be read (not authorised, not installed): the catalog's fields are used unverified. */
  | { kind: 'unavailable'; source: string; message: string }
  /** The metadata answered, but the data call has fields it left out (checkedTenantFields.ts): a cut answer. */
  | { kind: 'incomplete'; source: string; message: string; listed: number; unlisted: string[] };

/** MI metadata reports dates as numeric 8 in some releases: a yyyyMMdd-named N8 field is a date. */
export function metadataFieldType(type: string, name: string, length: number): 'A' | 'N' | 'D' {
  const t = type.trim().toUpperCase();
  if (t === 'D') return 'D';
  if (t === 'N') return length === 8 && /(DT|DAT)$|^(RGDT|LMDT)$/.test(name) ? 'D' : 'N';
  return 'A';
}

function field(name: string, type: string, length: string | undefined, decimals: string | undefined, description: string | undefined): TenantField {
  const len = Number.parseInt(length ?? '0', 10) || 1;
  return {
    name,
    type: metadataFieldType(type, name, len),
    length: len,
    decimals: Number.parseInt(decimals ?? '0', 10) || 0,
    description: (description ?? '').trim(),
  };
}

/** Where an entity's fields are described: its table, or its list transaction. */
export function metadataSourceOf(entity: EntityDefinition): string {
  return entity.source.kind === 'exportmi' ? `EXPORTMI/LstFields FILE=${entity.source.table}` : `MRS001MI/LstAdtFieldInf ${entity.source.program}/${entity.source.transaction}`;
}

/** EXPORTMI/LstFields: one record per column, FLDN prefixed (IAPUNO), FLTY, FLLE, FLDP, FLDS (description). */
export async function readTableFields(mi: MiExecutor, table: string, company: string | undefined, deadline?: Deadline): Promise<TenantFields> {
  const source = `EXPORTMI/LstFields FILE=${table}`;
  try {
    const { records } = await mi.execute(
      { program: 'EXPORTMI', transaction: 'LstFields', inputs: { FILE: table }, maxRecords: 0, ...(company ? { company } : {}) },
      deadline ? { deadline } : {},
    );
    const prefix = (records[0]?.FLDN ?? '').trim().slice(0, 2);
    const fields = records.map((r) => field((r.FLDN ?? '').trim().slice(2), r.FLTY ?? 'A', r.FLLE, r.FLDP, r.FLDS));
    return { kind: 'found', source, fields, ...(prefix ? { prefix } : {}) };
  } catch (error) {
    return notFound(error, source, ['FILE']);
  }
}

/** MRS001MI/LstAdtFieldInf (TRTP O): one record per output field, FLNM, TYPE, LENG, FLDP (decimals), FLDS (description). */
export async function readTransactionFields(
  mi: MiExecutor,
  program: string,
  transaction: string,
  company: string | undefined,
  deadline?: Deadline,
): Promise<TenantFields> {
  const source = `MRS001MI/LstAdtFieldInf ${program}/${transaction}`;
  try {
    const { records } = await mi.execute(
      {
        program: 'MRS001MI', transaction: 'LstAdtFieldInf', inputs: { MINM: program, TRNM: transaction, TRTP: 'O' }, maxRecords: 0,
        ...(company ? { company } : {}),
      },
      deadline ? { deadline } : {},
    );
    return { kind: 'found', source, fields: records.map((r) => field((r.FLNM ?? '').trim(), r.TYPE ?? 'A', r.LENG, r.FLDP, r.FLDS)) };
  } catch (error) {
    return notFound(error, source, ['MINM', 'TRNM']);
  }
}

/** The fields of whatever an entity reads from, as this tenant has them. */
export function readEntityFields(mi: MiExecutor, entity: EntityDefinition, company: string | undefined, deadline?: Deadline): Promise<TenantFields> {
  const { source } = entity;
  return source.kind === 'exportmi'
    ? readTableFields(mi, source.table, company, deadline)
    : readTransactionFields(mi, source.program, source.transaction, company, deadline);
}

/**
 * A NOK on the input naming the table or transaction means it does not exist here; any other NOK, or the
 * gateway refusing the metadata call (403, 404), means the metadata cannot be read. Everything else (a
 * throttled or unreachable tenant, a refused token) is not an answer about fields and travels on.
 */
function notFound(error: unknown, source: string, namingInputs: string[]): TenantFields {
  if (error instanceof MiError) {
    const kind = error.field !== undefined && namingInputs.includes(error.field) ? 'missing' : 'unavailable';
    return { kind, source, message: `M3 answered NOK${error.code ? ` ${error.code}` : ''}${error.miMessage ? `: "${error.miMessage}"` : ''}` };
  }
  if (error instanceof MiHttpError) return { kind: 'unavailable', source, message: `the gateway answered HTTP ${error.status}` };
  throw error;
}
