// Where a flow's records land: the warehouse table of one company of a flow, and the key that names a
// table across the pipeline (plan, table Map, lease, ledger).
import type { TargetTable } from '../load/loadTypes.ts';
import type { FlowConfig, FlowsConfig } from './flowsConfig.ts';

/** The warehouse table a flow writes one company's records to. */
export function targetTableOf(config: FlowsConfig, flow: FlowConfig, company: string): TargetTable {
  const base = flow.target.table ?? flow.entity;
  return {
    catalog: flow.target.catalog ?? config.warehouse.catalog,
    schema: flow.target.schema ?? config.warehouse.schema,
    name: flow.tablePerCompany ? `${base}_${company}` : base,
  };
}

/** `catalog.schema.table`: identifiers cannot contain dots, so the key is unambiguous. */
export function tableKey(table: TargetTable): string {
  return `${table.catalog}.${table.schema}.${table.name}`;
}
