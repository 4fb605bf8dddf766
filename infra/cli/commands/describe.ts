// `describe`: lists an MI transaction's or a table's fields with types and prints a ready catalog
// entry, so adding an entity by configuration needs no guessing.
import { connectCloudSuite } from '../../../shared/cloudsuite/cloudSuiteConnection.ts';
import { entityDefinitionSchema } from '../../../shared/catalog/entityDefinition.ts';
import { TenantSchemaError } from '../../../shared/catalog/tenantSchemaError.ts';
import { readTableFields, readTransactionFields, type TenantField, type TenantFields } from '../../../shared/extract/tenantFields.ts';
import { loadIonApiFile } from '../../../shared/ionapi/ionApiFile.ts';
import { result, UsageError } from '../output.ts';

export interface DescribeOptions {
  ionapi: string;
  transaction?: string;
  table?: string;
}

const CHANGE = ['LMDT', 'CHNO', 'LMTS'] as const;

/** The fields read, or the metadata's own answer as the command's error. */
function found(read: TenantFields): TenantField[] {
  if (read.kind === 'found') return read.fields;
  throw new TenantSchemaError(`${read.source}: ${read.kind === 'missing' ? 'does not exist on this tenant' : 'cannot be read'} (${read.message})`);
}

export async function describeCommand(options: DescribeOptions): Promise<number> {
  if (!!options.transaction === !!options.table) throw new UsageError('give exactly one of --transaction PROGRAM/TRANSACTION or --table NAME');
  const config = await loadIonApiFile(options.ionapi);
  const { mi, tokens } = connectCloudSuite(config);
  try {
    let fields: TenantField[];
    let entry: Record<string, unknown>;
    if (options.transaction) {
      const m = /^([A-Z0-9]+MI)\/([A-Za-z0-9]+)$/.exec(options.transaction);
      if (!m) throw new UsageError(`--transaction must look like CRS620MI/LstSuppliers, got "${options.transaction}"`);
      const [, program, transaction] = m as unknown as [string, string, string];
      fields = found(await readTransactionFields(mi, program, transaction, undefined));
      const names = fields.map((f) => f.name);
      entry = {
        id: transaction.replace(/^Lst/, '').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase(),
        description: `${program}/${transaction}`,
        source: { kind: 'mi-list', program, transaction, companyInput: 'CONO', startKeyInputs: {} },
        key: names.filter((n) => n === 'CONO' || n === 'DIVI'),
        fields: fields.map(({ description: _d, ...f }) => f),
        strategy: 'snapshot',
        scope: names.includes('DIVI') ? 'division' : 'company',
      };
    } else {
      const table = options.table!.toUpperCase();
      const read = await readTableFields(mi, table, undefined);
      fields = found(read);
      const prefix = read.kind === 'found' ? (read.prefix ?? '') : '';
      const names = fields.map((f) => f.name);
      const incremental = names.includes('LMDT');
      entry = {
        id: table.toLowerCase(),
        description: `EXPORTMI on ${table}`,
        source: { kind: 'exportmi', table, prefix },
        key: names.filter((n) => n === 'CONO' || n === 'DIVI'),
        fields: fields.map(({ description: _d, ...f }) => f),
        changeFields: Object.fromEntries(CHANGE.filter((c) => names.includes(c)).map((c) => [{ LMDT: 'date', CHNO: 'counter', LMTS: 'timestamp' }[c], c])),
        strategy: incremental ? 'incremental' : 'snapshot',
      };
    }
    const width = Math.max(4, ...fields.map((f) => f.name.length));
    result(`${'field'.padEnd(width)}  type  length  decimals  description`);
    for (const f of fields) {
      result(`${f.name.padEnd(width)}  ${f.type.padEnd(4)}  ${String(f.length).padStart(6)}  ${String(f.decimals).padStart(8)}  ${f.description}`);
    }
    const check = entityDefinitionSchema.safeParse(entry);
    result('');
    result('catalog entry (complete "key" with the fields that identify a record, then add it to the configuration):');
    result(JSON.stringify(check.success ? check.data : entry, null, 2));
    return 0;
  } finally {
    await tokens.revoke().catch(() => undefined);
  }
}
