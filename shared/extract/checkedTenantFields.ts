// A field list M3 answers can be short with nothing in the answer to say so: a gateway or API policy that
// caps the records of every answer cuts EXPORTMI/LstFields and MRS001MI/LstAdtFieldInf like any list. Taken
// at its word, such a list narrows the entity (configured fields dropped, their columns no longer filled) or
// refuses it (a key or change-date field "missing"). So before a configured field is taken as absent, the
// data call itself is asked: a Select naming it (EXPORTMI answers NOK for a column the table lacks), or one
// record of the list transaction (which outputs every field it has). `fields: "all"` entities are checked
// the same way against a Select's header row or a record's field names. A field the data call has but the
// list left out makes the answer `incomplete`: the entity is refused for this run and read again by a rerun
// or the next run, never narrowed.
import type { EntityDefinition, ExportMiSource, MiListSource } from '../catalog/entityDefinition.ts';
import { MiError, MiHttpError } from '../m3/miErrors.ts';
import { Deadline } from '../runtime/deadline.ts';
import { listDivisions } from './divisions.ts';
import type { MiExecutor } from './miExecutor.ts';
import { readEntityFields, type TenantFields } from './tenantFields.ts';

/** What the data call showed about fields the list left out. */
export type FieldCheck =
  /** These exist although the list does not name them. */
  | { kind: 'unlisted'; fields: string[]; how: string }
  /** The data call agrees with the list (or cannot tell: an empty list transaction, a refused Select). */
  | { kind: 'consistent' };

const SEPARATOR = ';';
const REPL_LENGTH = 984;
/** Companies, and divisions of each, a list transaction is asked in before the check gives up (an empty one has no record to show). */
const MAX_COMPANIES_ASKED = 3;
const MAX_DIVISIONS_ASKED = 3;

/** The fields of whatever an entity reads from, as this tenant has them, with a short list caught. */
export async function readCheckedEntityFields(mi: MiExecutor, entity: EntityDefinition, company: string | undefined, deadline?: Deadline): Promise<TenantFields> {
  return checkedEntityFields(mi, entity, await readEntityFields(mi, entity, company, deadline), company ? [company] : [], deadline);
}

/**
 * A field list already read (shared by the entities of one table), checked for this entity's fields. `companies`: the
 * flow's; a list transaction is asked in the first that has a record (a company without one cannot tell).
 */
export async function checkedEntityFields(mi: MiExecutor, entity: EntityDefinition, listed: TenantFields, companies: readonly string[], deadline?: Deadline): Promise<TenantFields> {
  if (listed.kind !== 'found') return listed;
  const check = await checkListedFields(mi, entity, listed.fields.map((f) => f.name), companies, deadline);
  if (check.kind === 'consistent') return listed;
  return {
    kind: 'incomplete',
    source: listed.source,
    listed: listed.fields.length,
    unlisted: check.fields,
    message:
      `it listed ${listed.fields.length} field${listed.fields.length === 1 ? '' : 's'} but ${check.fields.join(', ')} ${check.fields.length === 1 ? 'exists' : 'exist'} too (${check.how}): ` +
      'the answer was cut short, most likely by a gateway or API policy limiting the records of each answer',
  };
}

/** Asks the data call about the configured fields the list leaves out (every field, for `fields: "all"`). */
export async function checkListedFields(
  mi: MiExecutor,
  entity: EntityDefinition,
  listed: readonly string[],
  companies: readonly string[],
  deadline?: Deadline,
): Promise<FieldCheck> {
  // A column a table lacks is refused in any company: one will do for EXPORTMI.
  const company = companies[0];
  const names = new Set(listed);
  const source = entity.source;
  const fromUnit = new Set<string>(source.kind === 'mi-list' ? source.fromUnit : []);
  const suspects = entity.allFields ? [] : entity.fields.map((f) => f.name).filter((n) => !names.has(n) && !fromUnit.has(n));
  if (!entity.allFields && suspects.length === 0) return { kind: 'consistent' };
  const found =
    source.kind === 'exportmi'
      ? entity.allFields
        ? { fields: (await selectHeader(mi, source, company, deadline)).filter((n) => !names.has(n)), how: `EXPORTMI/Select's header row names them` }
        : { fields: await selectableColumns(mi, source, suspects, company, deadline), how: 'a Select naming them answered OK' }
      : {
          fields: (await listOutputs(mi, entity, source, companies, deadline)).filter((n) => !names.has(n) && !fromUnit.has(n) && (entity.allFields || suspects.includes(n))),
          how: `a record of ${source.program}/${source.transaction} has them`,
        };
  return found.fields.length > 0 ? { kind: 'unlisted', ...found } : { kind: 'consistent' };
}

/** Whether EXPORTMI answers a Select of these columns: NOK for any column the table lacks (the whole call). */
async function selects(mi: MiExecutor, source: ExportMiSource, fields: readonly string[], company: string | undefined, deadline?: Deadline): Promise<boolean | 'unknown'> {
  try {
    await mi.execute(
      {
        program: 'EXPORTMI', transaction: 'Select', maxRecords: 1, ...(company ? { company } : {}),
        inputs: { QERY: `${fields.map((f) => source.prefix + f).join(', ')} from ${source.table}`, SEPC: SEPARATOR, HDRS: '0' },
      },
      deadline ? { deadline } : {},
    );
    return true;
  } catch (error) {
    if (error instanceof MiError) return false;
    // The gateway refusing Select (not authorised, not installed): the data call cannot tell.
    if (error instanceof MiHttpError) return 'unknown';
    throw error;
  }
}

/** The suspects a Select accepts: all at once first (the usual answer, one call), then one by one. */
async function selectableColumns(mi: MiExecutor, source: ExportMiSource, suspects: readonly string[], company: string | undefined, deadline?: Deadline): Promise<string[]> {
  const together = await selects(mi, source, suspects, company, deadline);
  if (together === true) return [...suspects];
  if (together === 'unknown' || suspects.length === 1) return [];
  const present: string[] = [];
  for (const field of suspects) if ((await selects(mi, source, [field], company, deadline)) === true) present.push(field);
  return present;
}

/** The column names of `select *`'s header row (without prefix); a header cut at 984 characters loses its last name. */
async function selectHeader(mi: MiExecutor, source: ExportMiSource, company: string | undefined, deadline?: Deadline): Promise<string[]> {
  try {
    const { records } = await mi.execute(
      { program: 'EXPORTMI', transaction: 'Select', maxRecords: 1, inputs: { QERY: `* from ${source.table}`, SEPC: SEPARATOR, HDRS: '1' }, ...(company ? { company } : {}) },
      deadline ? { deadline } : {},
    );
    const header = records[0]?.REPL ?? '';
    const names = header.split(SEPARATOR).map((n) => n.trim());
    if (header.length >= REPL_LENGTH) names.pop();
    return names.filter((n) => n.length === 6 && n.startsWith(source.prefix)).map((n) => n.slice(2));
  } catch (error) {
    if (error instanceof MiError || error instanceof MiHttpError) return [];
    throw error;
  }
}

/**
 * The field names of one record of the list transaction (excludeempty=false: every output field is there), from the
 * first company (and, for a division-scoped list, division) that has a record.
 */
async function listOutputs(mi: MiExecutor, entity: EntityDefinition, source: MiListSource, companies: readonly string[], deadline?: Deadline): Promise<string[]> {
  for (const company of companies.length > 0 ? companies.slice(0, MAX_COMPANIES_ASKED) : [undefined]) {
    try {
      const divisions = entity.scope === 'division' && company ? (await listDivisions(mi, company, deadline ?? Deadline.none())).slice(0, MAX_DIVISIONS_ASKED) : [undefined];
      for (const division of divisions) {
        const inputs: Record<string, string> = { ...source.inputs };
        if (source.companyInput && company) inputs[source.companyInput] = company;
        if (division && source.divisionInput) inputs[source.divisionInput] = division;
        const { records } = await mi.execute(
          { program: source.program, transaction: source.transaction, inputs, maxRecords: 1, ...(company ? { company } : {}), ...(division ? { division } : {}) },
          deadline ? { deadline } : {},
        );
        if (records[0]) return Object.keys(records[0]);
      }
    } catch (error) {
      // A company M3 refuses (not authorised) tells nothing: the next one may. The gateway refusing the call: nothing will.
      if (error instanceof MiHttpError) return [];
      if (!(error instanceof MiError)) throw error;
    }
  }
  return [];
}
