// M3's metadata transactions answered from the default catalog itself (a tenant with exactly the catalog's
// fields), for tests whose fake MI stands in for Plan's tenant and is not about field sets. Tests about
// tenants that differ use the CloudSuite emulator's tableFields knob instead.
import { defaultCatalog } from '#shared/catalog/defaultCatalog.ts';
import type { MiRecord, MiRequest, MiResponse } from '#shared/m3/miTypes.ts';

/** The answer to EXPORTMI/LstFields or MRS001MI/LstAdtFieldInf; undefined for any other request. */
export function catalogMetadata(request: MiRequest): MiResponse | undefined {
  const entities = [...defaultCatalog.values()];
  let records: MiRecord[] | undefined;
  if (request.program === 'EXPORTMI' && request.transaction === 'LstFields') {
    const entity = entities.find((e) => e.source.kind === 'exportmi' && e.source.table === request.inputs?.FILE);
    const prefix = entity?.source.kind === 'exportmi' ? entity.source.prefix : '';
    records = entity?.fields.map((f) => ({ FLDN: `${prefix}${f.name}`, FLTY: f.type, FLLE: String(f.length), FLDP: String(f.decimals), FLDS: f.name }));
  } else if (request.program === 'MRS001MI' && request.transaction === 'LstAdtFieldInf') {
    const entity = entities.find((e) => e.source.kind === 'mi-list' && e.source.program === request.inputs?.MINM && e.source.transaction === request.inputs?.TRNM);
    records = entity?.fields.map((f) => ({ FLNM: f.name, TYPE: f.type, LENG: String(f.length), FLDP: String(f.decimals), FLDS: f.name }));
  } else {
    return undefined;
  }
  if (!records) throw new Error(`catalogMetadata: the default catalog reads nothing through ${JSON.stringify(request.inputs)}`);
  return { program: request.program, transaction: request.transaction, records };
}
