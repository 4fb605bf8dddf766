// Pages an MI list transaction by its start key. MI has no offsets: each call starts at a key and
// M3 returns the start-key row again, so the first row is dropped only when it equals the start key.
// Paging stops only when a page adds no new row: a short page proves nothing (servers may cap maxrecs).
import type { EntityDefinition, MiListSource } from '../catalog/entityDefinition.ts';
import type { MiRecord, MiRequest } from '../m3/miTypes.ts';
import { assertCursorValuesFit } from './cursorValues.ts';
import { CursorStuckError, ReadCapReachedError } from './extractErrors.ts';
import type { Page, PagedReadRequest } from './pagedRead.ts';

type StartKey = Record<string, string>;

function startKeyOf(source: MiListSource, record: MiRecord): StartKey {
  return Object.fromEntries(Object.keys(source.startKeyInputs).map((f) => [f, record[f] ?? '']));
}

function sameStartKey(a: StartKey, b: StartKey): boolean {
  return Object.keys(a).every((f) => a[f] === b[f]);
}

function miListRequest(entity: EntityDefinition, source: MiListSource, company: string, division: string): MiRequest {
  const inputs: Record<string, string> = { ...source.inputs };
  if (source.companyInput) inputs[source.companyInput] = company;
  if (entity.scope === 'division' && source.divisionInput) inputs[source.divisionInput] = division;
  return {
    program: source.program,
    transaction: source.transaction,
    inputs,
    outputFields: entity.fields.map((f) => f.name).filter((f) => !(source.fromUnit as string[]).includes(f)),
    company,
    ...(entity.scope === 'division' ? { division } : {}),
  };
}

/** Adds the key fields the transaction does not output, from the unit being read. */
function withUnitFields(source: MiListSource, company: string, division: string, records: MiRecord[]): MiRecord[] {
  if (source.fromUnit.length === 0) return records;
  const unit: Record<string, string> = { CONO: company, DIVI: division };
  return records.map((r) => {
    const filled = { ...r };
    for (const f of source.fromUnit) filled[f] = unit[f]!;
    return filled;
  });
}

export async function* pageMiList(req: PagedReadRequest): AsyncGenerator<Page> {
  const { entity, mi, deadline } = req;
  const source = entity.source;
  if (source.kind !== 'mi-list') throw new Error(`entity ${entity.id} is not an MI list entity`);
  const base = miListRequest(entity, source, req.company, req.division);
  const label = `${source.program}/${source.transaction}`;

  if (Object.keys(source.startKeyInputs).length === 0) {
    // No start key: the only complete read is one call for everything.
    if (req.resumeFrom?.done) return;
    const { records } = await mi.execute({ ...base, maxRecords: 0 }, { deadline });
    if (records.length >= entity.singleCallCap) {
      throw new ReadCapReachedError(
        `${label} returned ${records.length} records for company ${req.company} in one call, the entity's singleCallCap (${entity.singleCallCap}): ` +
          'the list may have been cut short (M3 stops several list transactions at 10,000 records whatever maxrecs says), so nothing was staged; ' +
          `read entity "${entity.id}" through a transaction with a start key, or through EXPORTMI on its table (an exportmi source), ` +
          'or raise singleCallCap only if this transaction is known to return more in one call',
      );
    }
    yield { records: withUnitFields(source, req.company, req.division, records), cursor: { done: true } };
    return;
  }

  let startKey = (req.resumeFrom?.startKey as StartKey | undefined) ?? null;
  for (;;) {
    const inputs = { ...base.inputs };
    if (startKey) for (const [field, input] of Object.entries(source.startKeyInputs)) inputs[input] = startKey[field] ?? '';
    const { records } = await mi.execute({ ...base, inputs, maxRecords: entity.pageSize }, { deadline });
    const first = records[0];
    const fresh = startKey && first && sameStartKey(startKeyOf(source, first), startKey) ? records.slice(1) : records;
    const last = fresh.at(-1);
    if (!last) return;
    const nextKey = startKeyOf(source, last);
    assertCursorValuesFit(`${label} (company ${req.company})`, entity.fields.filter((f) => f.name in source.startKeyInputs), nextKey);
    if (startKey && sameStartKey(nextKey, startKey)) {
      throw new CursorStuckError(`${label} did not move past start key ${JSON.stringify(startKey)} for company ${req.company}`);
    }
    startKey = nextKey;
    yield { records: withUnitFields(source, req.company, req.division, fresh), cursor: { startKey } };
  }
}
