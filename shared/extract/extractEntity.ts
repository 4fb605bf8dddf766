// Extracts one entity for one company: a single unit, or one unit per division for
// division-scoped entities (every division the company has, unless one is named).
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import { Deadline } from '../runtime/deadline.ts';
import { joinKey } from '../staging/blobStore.ts';
import { listDivisions } from './divisions.ts';
import { extractUnit, type ExtractUnitRequest } from './extractUnit.ts';
import type { UnitManifest } from '../staging/manifest.ts';

export interface ExtractedUnit {
  division: string;
  unitPrefix: string;
  manifest: UnitManifest;
}

export async function extractEntityForCompany(
  req: Omit<ExtractUnitRequest, 'division' | 'unitPrefix' | 'checkpoint'> & {
    /** A division to extract; all of the company's divisions when undefined (division-scoped entities). */
    division?: string;
    /** Prefix of the company's folder in the store; divisions go into <prefix>/<division>. */
    prefix: string;
    onUnit?: (unit: { division: string }) => void;
  },
): Promise<ExtractedUnit[]> {
  const entity: EntityDefinition = req.entity;
  const deadline = req.deadline ?? Deadline.none();
  const divisions =
    entity.scope === 'division'
      ? req.division !== undefined
        ? [req.division]
        : await listDivisions(req.mi, req.company, deadline)
      : [''];
  const units: ExtractedUnit[] = [];
  for (const division of divisions) {
    req.onUnit?.({ division });
    const unitPrefix = entity.scope === 'division' && req.division === undefined ? joinKey(req.prefix, division) : req.prefix;
    const outcome = await extractUnit({ ...req, division, unitPrefix, deadline });
    if (outcome.status !== 'complete') {
      throw new Error(`extraction of ${entity.id} company ${req.company} did not finish before its deadline`);
    }
    units.push({ division, unitPrefix, manifest: outcome.manifest });
  }
  return units;
}
