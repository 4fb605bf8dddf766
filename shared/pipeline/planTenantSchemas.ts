// Plan's part in working on the tenant in front of it: each selected entity resolved against the tenant's
// own metadata (shared/extract/resolveEntity.ts), with one metadata read per tenant and table (or list
// transaction) per run, all of them at once. The result goes into the plan, so Extract, Load and
// continuations never read metadata again; several tenants may resolve the same entity differently.
import type { EntityCatalog } from '../catalog/entityCatalog.ts';
import type { FlowConfig, FlowsConfig } from '../config/flowsConfig.ts';
import { resolveEntity } from '../extract/resolveEntity.ts';
import { metadataSourceOf, readEntityFields, type TenantFields } from '../extract/tenantFields.ts';
import type { Deadline } from '../runtime/deadline.ts';
import type { PlanDeps } from './planStep.ts';
import type { RunPlan, TenantEntity } from './runPlan.ts';
import { tenantCallOptions } from './tenantCallOptions.ts';

export async function resolveTenantSchemas(
  flows: readonly FlowConfig[],
  config: FlowsConfig,
  catalog: EntityCatalog,
  deps: Pick<PlanDeps, 'connectTenant' | 'log'>,
  deadline: Deadline,
): Promise<RunPlan['schemas']> {
  const reads = new Map<string, Promise<TenantFields>>();
  const resolutions: Promise<[string, string, TenantEntity]>[] = [];
  const seen = new Set<string>();
  for (const flow of flows) {
    const entity = catalog.get(flow.entity);
    if (seen.has(`${flow.tenant}|${entity.id}`)) continue;
    seen.add(`${flow.tenant}|${entity.id}`);
    const tenant = config.tenants[flow.tenant]!;
    const readKey = `${flow.tenant}|${metadataSourceOf(entity)}`;
    let read = reads.get(readKey);
    if (!read) {
      // Any of the flow's companies will do as the session company: field sets are the tenant's, not a company's.
      read = deps.connectTenant(tenant.secretName, flow.tenant, tenantCallOptions(tenant)).then((mi) => readEntityFields(mi, entity, flow.companies[0], deadline));
      reads.set(readKey, read);
    }
    resolutions.push(
      read.then((fields): [string, string, TenantEntity] => {
        const resolution = resolveEntity(entity, fields);
        const where = { tenant: flow.tenant, entity: entity.id };
        if (resolution.status === 'unusable') {
          deps.log.warn('entity cannot be read on this tenant: its units will fail before any data call', { ...where, problem: resolution.problem });
          return [flow.tenant, entity.id, { problem: resolution.problem, warnings: [] }];
        }
        for (const warning of resolution.warnings) deps.log.warn(warning, where);
        if (resolution.retyped.length > 0) deps.log.info("fields typed as the tenant's metadata has them", { ...where, retyped: resolution.retyped });
        return [flow.tenant, entity.id, { entity: resolution.entity, warnings: resolution.warnings }];
      }),
    );
  }
  const schemas: RunPlan['schemas'] = {};
  for (const [tenant, entity, resolved] of await Promise.all(resolutions)) (schemas[tenant] ??= {})[entity] = resolved;
  return schemas;
}
