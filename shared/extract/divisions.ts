// The divisions of a company, for division-scoped entities (MNS100MI/LstDivisions).
import type { Deadline } from '../runtime/deadline.ts';
import type { MiExecutor } from './miExecutor.ts';

export async function listDivisions(mi: MiExecutor, company: string, deadline: Deadline): Promise<string[]> {
  const { records } = await mi.execute(
    { program: 'MNS100MI', transaction: 'LstDivisions', inputs: { CONO: company }, outputFields: ['CONO', 'DIVI'], maxRecords: 0, company },
    { deadline },
  );
  const divisions = [...new Set(records.map((r) => r.DIVI ?? '').filter((d) => d.trim() !== ''))].sort();
  return divisions;
}
