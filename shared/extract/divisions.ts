// The divisions of a company, for division-scoped entities (MNS100MI/LstDivisions). Each listed code becomes
// part of a unit id, a staging key (S3 or a local folder name) and a watermark key, so it must be a division
// code as the flows configuration defines one: a value such as "../x" or "A/B" from a damaged or hostile
// answer is refused before it is used (found by the hardening review).
import { DIVISION } from '../config/flowsConfig.ts';
import type { Deadline } from '../runtime/deadline.ts';
import { ExtractionError } from './extractErrors.ts';
import type { MiExecutor } from './miExecutor.ts';

/** M3 listed a division code that is not one. */
export class InvalidDivisionError extends ExtractionError {
  override name = 'InvalidDivisionError';
}

export async function listDivisions(mi: MiExecutor, company: string, deadline: Deadline): Promise<string[]> {
  const { records } = await mi.execute(
    { program: 'MNS100MI', transaction: 'LstDivisions', inputs: { CONO: company }, outputFields: ['CONO', 'DIVI'], maxRecords: 0, company },
    { deadline },
  );
  const divisions = [...new Set(records.map((r) => r.DIVI ?? '').filter((d) => d.trim() !== ''))].sort();
  const invalid = divisions.find((d) => !DIVISION.test(d));
  if (invalid !== undefined) {
    throw new InvalidDivisionError(
      `MNS100MI/LstDivisions for company ${company} listed the division ${JSON.stringify(invalid.slice(0, 40))}, which is not a ` +
        'division code (1-3 letters or digits); nothing was planned or extracted for it. Check the answer (a gateway or proxy ' +
        'altering it?), or list the divisions in the flow\'s "divisions" instead of "all"',
    );
  }
  return divisions;
}
