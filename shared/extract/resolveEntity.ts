// An entity as one tenant has it: the catalog's fields are the preferred set, checked against the fields
// the tenant's M3 metadata lists (tenantFields.ts). Types, lengths and decimals come from the tenant; a
// configured field the tenant lacks is dropped with a warning (it costs a column, never the entity); a
// missing key, change-date or start-key field makes the entity unusable there, which fails its units
// before any data call with the field named and the fix. `fields: "all"` takes every field the tenant has.
import { entityDefinitionSchema, type EntityDefinition, type FieldDefinition } from '../catalog/entityDefinition.ts';
import { withFieldText } from '../catalog/fieldTexts.ts';
import type { TenantField, TenantFields } from './tenantFields.ts';

/** A field whose tenant type, length or decimals differ from the catalog's (the tenant's are used). */
export interface RetypedField {
  field: string;
  catalog: string;
  tenant: string;
}

export type EntityResolution =
  | {
      status: 'ready';
      entity: EntityDefinition;
      /** Configured fields this tenant does not have (dropped). */
      dropped: string[];
      retyped: RetypedField[];
      /** False when the metadata could not be read and the catalog's fields are used as they are. */
      verified: boolean;
      /** For the manifest, the run ledger, the sync summary and the execution's output. */
      warnings: string[];
    }
  | { status: 'unusable'; problem: string; missing: string[] };

function spec(f: Pick<FieldDefinition, 'type' | 'length' | 'decimals'>): string {
  return `${f.type}${f.length}${f.decimals > 0 ? `.${f.decimals}` : ''}`;
}

function where(entity: EntityDefinition): string {
  return entity.source.kind === 'exportmi' ? `table ${entity.source.table}` : `${entity.source.program}/${entity.source.transaction}`;
}

function describeCommand(entity: EntityDefinition): string {
  return entity.source.kind === 'exportmi'
    ? `cloudsuite-sync describe --table ${entity.source.table}`
    : `cloudsuite-sync describe --transaction ${entity.source.program}/${entity.source.transaction}`;
}

/** The tenant's own text for the field, kept beside the catalog's for the column comments. */
function tenantText(tenant: TenantField): { tenantDescription?: string } {
  // Comments are SQL literals: no control characters, and M3 texts are short.
  const text = tenant.description.replace(/[\u0000-\u001f]/g, ' ').trim().slice(0, 200);
  return text ? { tenantDescription: text } : {};
}

/**
 * The catalog's field with the tenant's type, length and decimals (a catalog date stays a date when M3 says N8),
 * keeping what the catalog says about it (business name, description, amount, codes) and the tenant's text.
 */
function asTenantHasIt(configured: FieldDefinition, tenant: TenantField): FieldDefinition {
  const type = configured.type === 'D' && tenant.type === 'N' && tenant.length === 8 ? 'D' : tenant.type;
  const { tenantDescription: _, ...texts } = configured;
  return { ...texts, name: configured.name, type, length: tenant.length, decimals: tenant.decimals, ...tenantText(tenant) };
}

export function resolveEntity(entity: EntityDefinition, tenant: TenantFields): EntityResolution {
  const label = `${entity.id}`;
  if (tenant.kind === 'missing') {
    return {
      status: 'unusable',
      missing: [],
      problem:
        `${label}: ${where(entity)} does not exist on this tenant (${tenant.source}: ${tenant.message}); ` +
        `leave this flow out (check --flows) or point the entity at the tenant's own ${entity.source.kind === 'exportmi' ? 'table' : 'transaction'} in extraEntities`,
    };
  }
  if (tenant.kind === 'incomplete') {
    return {
      status: 'unusable',
      missing: [],
      problem:
        `${label}: the field list of ${where(entity)} cannot be trusted this time (${tenant.source}: ${tenant.message}). ` +
        'Nothing was read and nothing narrowed; a rerun of this execution or the next run reads the fields again. ' +
        'If it repeats, check the ION API gateway for a policy limiting the records of an answer',
    };
  }
  if (tenant.kind === 'unavailable') {
    if (entity.allFields) {
      return {
        status: 'unusable',
        missing: [],
        problem: `${label}: takes every field ("fields": "all") but ${tenant.source} cannot be read on this tenant (${tenant.message}); list the fields in extraEntities`,
      };
    }
    return {
      status: 'ready', entity, dropped: [], retyped: [], verified: false,
      warnings: [`${label}: fields not checked against this tenant: ${tenant.source} cannot be read (${tenant.message}); the catalog's fields and types are used`],
    };
  }

  if (entity.source.kind === 'exportmi' && tenant.prefix && tenant.prefix !== entity.source.prefix) {
    return {
      status: 'unusable',
      missing: [],
      problem: `${label}: the columns of ${where(entity)} start with ${tenant.prefix} on this tenant, not ${entity.source.prefix}: set source.prefix to "${tenant.prefix}" in extraEntities`,
    };
  }
  const byName = new Map(tenant.fields.map((f) => [f.name, f]));
  // Key fields a list transaction does not output come from the unit (CONO of PPS100MI/LstAgrHead).
  const fromUnit = new Set<string>(entity.source.kind === 'mi-list' ? entity.source.fromUnit : []);
  const configured = new Map(entity.fields.map((f) => [f.name, f]));

  const fields: FieldDefinition[] = [];
  const dropped: string[] = [];
  const retyped: RetypedField[] = [];
  if (entity.allFields) {
    for (const f of tenant.fields) {
      fields.push(configured.has(f.name) ? asTenantHasIt(configured.get(f.name)!, f) : withFieldText({ name: f.name, type: f.type, length: f.length, decimals: f.decimals, ...tenantText(f) }));
    }
    for (const name of fromUnit) if (!byName.has(name)) fields.unshift({ name, type: name === 'CONO' ? 'N' : 'A', length: 3, decimals: 0 });
    // General business names may meet twice in a table the catalog does not list: the first field keeps it.
    const named = new Set<string>();
    for (const [i, f] of fields.entries()) {
      if (f.businessName && named.has(f.businessName)) {
        const { businessName: _, ...rest } = f;
        fields[i] = rest;
      } else if (f.businessName) named.add(f.businessName);
    }
  } else {
    for (const f of entity.fields) {
      const own = byName.get(f.name);
      if (own) {
        const resolved = asTenantHasIt(f, own);
        if (spec(resolved) !== spec(f)) retyped.push({ field: f.name, catalog: spec(f), tenant: spec(resolved) });
        fields.push(resolved);
      } else if (fromUnit.has(f.name)) {
        fields.push(f);
      } else {
        dropped.push(f.name);
      }
    }
  }

  const present = new Set(fields.map((f) => f.name));
  const required = new Map<string, string>();
  for (const k of entity.key) required.set(k, 'key field');
  if (entity.strategy === 'incremental' && entity.changeFields.date) required.set(entity.changeFields.date, 'change-date field');
  if (entity.scope === 'division') required.set('DIVI', 'division field');
  if (entity.source.kind === 'mi-list') for (const k of Object.keys(entity.source.startKeyInputs)) required.set(k, 'start-key field');
  const missing = [...required.keys()].filter((name) => !present.has(name));
  if (missing.length > 0) {
    const first = missing[0]!;
    const role = required.get(first)!;
    const fix =
      role === 'change-date field'
        ? `read it as a snapshot ("strategy": "snapshot") or name the tenant's change-date field in changeFields.date`
        : `set the entity's key to fields the tenant has (${describeCommand(entity)} lists them)`;
    return {
      status: 'unusable',
      missing,
      problem:
        `${label}: ${missing.map((m) => `${required.get(m)} ${m}`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not on this tenant's ${where(entity)} (${tenant.source}), ` +
        `so its units cannot be read; nothing was asked for. Fix: ${fix}, in extraEntities (infra/flows.config.ts), and run again`,
    };
  }

  // A change counter or timestamp the tenant lacks: the change stamp does without it (see changeStamp).
  const changeFields = Object.fromEntries(Object.entries(entity.changeFields).filter(([, f]) => f === undefined || present.has(f)));
  const resolved = entityDefinitionSchema.parse({ ...entity, fields, allFields: entity.allFields, changeFields });
  const warnings: string[] = [];
  if (dropped.length > 0) {
    warnings.push(`${label}: ${dropped.length} configured field${dropped.length === 1 ? '' : 's'} not on this tenant: ${dropped.join(', ')}`);
  }
  return { status: 'ready', entity: resolved, dropped, retyped, verified: true, warnings };
}
