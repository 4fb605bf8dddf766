// Plan's part in working on the tenant in front of it: each selected entity resolved against the tenant's
// own metadata (shared/extract/resolveEntity.ts), checked against the data call where the metadata leaves a
// configured field out (shared/extract/checkedTenantFields.ts), with one metadata read per tenant and table
// (or list transaction) per run, all of them at once. The result goes into the plan, so Extract, Load and
// continuations never read metadata again; several tenants may resolve the same entity differently. A rerun
// resolves again the entities its original could not read (rerunSchemas): a cut field list, a table the
// tenant lacked then, may be fine now.
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import type { EntityCatalog } from '../catalog/entityCatalog.ts';
import type { FlowConfig, FlowsConfig } from '../config/flowsConfig.ts';
import { checkedEntityFields } from '../extract/checkedTenantFields.ts';
import { resolveEntity } from '../extract/resolveEntity.ts';
import { metadataSourceOf, readEntityFields, type TenantFields } from '../extract/tenantFields.ts';
import type { MiExecutor } from '../extract/miExecutor.ts';
import type { Deadline } from '../runtime/deadline.ts';
import type { PlanDeps } from './planStep.ts';
import type { RunPlan, TenantEntity } from './runPlan.ts';
import { tenantCallOptions, type TenantCallSettings } from './tenantCallOptions.ts';

/** One entity to resolve on one tenant; the first company is the metadata's session company, the others back the check. */
export interface SchemaRequest {
  tenant: string;
  entity: EntityDefinition;
  companies: readonly string[];
}

type Tenants = Record<string, TenantCallSettings & { secretName: string }>;
type SchemaDeps = Pick<PlanDeps, 'connectTenant' | 'log'>;

/** The selected flows' entities as their tenants have them. */
export function resolveTenantSchemas(
  flows: readonly FlowConfig[],
  config: FlowsConfig,
  catalog: EntityCatalog,
  deps: SchemaDeps,
  deadline: Deadline,
): Promise<RunPlan['schemas']> {
  const requests = flows.map((flow) => ({ tenant: flow.tenant, entity: catalog.get(flow.entity), companies: flow.companies }));
  return resolveSchemas(requests, config.tenants, deps, deadline);
}

/** A rerun's schemas: the original's, with every entity it could not read resolved again. */
export async function rerunSchemas(original: RunPlan, units: readonly { tenant: string; entity: string; company: string }[], deps: SchemaDeps, deadline: Deadline): Promise<RunPlan['schemas']> {
  const requests: SchemaRequest[] = [];
  for (const unit of units) {
    const entity = original.entities[unit.entity];
    if (original.schemas[unit.tenant]?.[unit.entity]?.problem !== undefined && entity && original.tenants[unit.tenant]) {
      requests.push({ tenant: unit.tenant, entity, companies: [unit.company] });
    }
  }
  const schemas = structuredClone(original.schemas);
  if (requests.length === 0) return schemas;
  for (const [tenant, entities] of Object.entries(await resolveSchemas(requests, original.tenants, deps, deadline))) {
    for (const [entity, resolved] of Object.entries(entities)) {
      deps.log.info(resolved.problem ? 'entity still cannot be read on this tenant' : 'entity the original execution could not read resolved again', { tenant, entity });
      (schemas[tenant] ??= {})[entity] = resolved;
    }
  }
  return schemas;
}

async function resolveSchemas(requests: readonly SchemaRequest[], tenants: Tenants, deps: SchemaDeps, deadline: Deadline): Promise<RunPlan['schemas']> {
  const connections = new Map<string, Promise<MiExecutor>>();
  const reads = new Map<string, Promise<TenantFields>>();
  const resolutions: Promise<[string, string, TenantEntity]>[] = [];
  for (const { tenant: tenantName, entity, companies } of oneRequestPerEntity(requests)) {
    const company = companies[0];
    const tenant = tenants[tenantName]!;
    let connection = connections.get(tenantName);
    if (!connection) {
      connection = deps.connectTenant(tenant.secretName, tenantName, tenantCallOptions(tenant));
      connections.set(tenantName, connection);
    }
    const readKey = `${tenantName}|${metadataSourceOf(entity)}`;
    let listed = reads.get(readKey);
    if (!listed) {
      listed = connection.then((mi) => readEntityFields(mi, entity, company, deadline));
      reads.set(readKey, listed);
    }
    // Entities reading one table share its field list; each checks its own configured fields against it.
    const read = Promise.all([connection, listed]).then(([mi, fields]) => checkedEntityFields(mi, entity, fields, companies, deadline));
    resolutions.push(
      read.then((fields): [string, string, TenantEntity] => {
        const resolution = resolveEntity(entity, fields);
        const where = { tenant: tenantName, entity: entity.id };
        if (resolution.status === 'unusable') {
          deps.log.warn('entity cannot be read on this tenant: its units will fail before any data call', { ...where, problem: resolution.problem });
          return [tenantName, entity.id, { problem: resolution.problem, warnings: [] }];
        }
        for (const warning of resolution.warnings) deps.log.warn(warning, where);
        if (resolution.retyped.length > 0) deps.log.info("fields typed as the tenant's metadata has them", { ...where, retyped: resolution.retyped });
        return [tenantName, entity.id, { entity: resolution.entity, warnings: resolution.warnings }];
      }),
    );
  }
  const schemas: RunPlan['schemas'] = {};
  for (const [tenant, entity, resolved] of await Promise.all(resolutions)) (schemas[tenant] ??= {})[entity] = resolved;
  return schemas;
}

/** Requests for one entity on one tenant (flows sharing it, a rerun's units) as one, with all their companies. */
function oneRequestPerEntity(requests: readonly SchemaRequest[]): SchemaRequest[] {
  const merged = new Map<string, SchemaRequest & { companies: string[] }>();
  for (const request of requests) {
    const key = `${request.tenant}|${request.entity.id}`;
    const companies = merged.get(key)?.companies ?? [];
    for (const company of request.companies) if (!companies.includes(company)) companies.push(company);
    merged.set(key, { ...request, companies });
  }
  return [...merged.values()];
}
