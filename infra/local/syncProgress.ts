// The progress text of a local sync (stderr by default): which CloudSuite and Databricks the run uses, and a
// line per unit and table as the state machine moves on.
import type { PipelineFunctionName } from '../stack/stateNames.ts';
import { StateNames } from '../stack/stateNames.ts';
import type { RefreshMartsResult } from '../../shared/pipeline/refreshMarts.ts';

/** The first lines of a session: where records come from and go to. */
export function describeSources(cloudSuite: { description: string }, warehouse: { description: string }): string[] {
  return [`CloudSuite: ${cloudSuite.description}`, `Databricks: ${warehouse.description}`];
}

/** A line for a Task state's answer, or undefined for states that print none. */
export function describeOutcome(state: string, output: Record<string, unknown>): string | undefined {
  switch (state) {
    case StateNames.plan:
      return `plan: ${String(output.message)}`;
    case StateNames.extract:
      return output.status === 'continue'
        ? `  … ${String(output.unitId)}: ${String(output.records)} records so far, continuing (invocation ${String(output.invocation)})`
        : `  ✓ ${String(output.unitId)}: ${String(output.records)} records extracted`;
    case StateNames.recordExtractFailure:
    case StateNames.recordTableFailure:
      return `  ✗ failed: ${(output.failed as string[]).join(', ')}`;
    case StateNames.load: {
      if (output.status === 'continue') {
        return `  … ${String(output.table)}: ${String(output.records)} records staged so far, continuing (invocation ${String(output.invocation)})`;
      }
      const refused = (output.refused as string[] | undefined) ?? [];
      const quality = (output.quality as { company: string; changedWithoutNewStamp: number; softDeleted: number }[] | undefined) ?? [];
      const found = quality
        .map((q) => `company ${q.company}: ${q.changedWithoutNewStamp} changed without a new stamp, ${q.softDeleted} deleted at source`)
        .join('; ');
      return (
        `  ✓ ${String(output.table)}: ${String(output.records)} records loaded` +
        (found ? `; data quality: ${found}` : '') +
        (refused.length ? `; refused (too many keys would vanish): ${refused.join(', ')}` : '')
      );
    }
    case StateNames.refreshMarts:
      return describeMarts(output as unknown as RefreshMartsResult);
    case StateNames.finish:
    case StateNames.finishStopped:
      return `run ${String(output.status)}: ${String(output.units)} unit(s), ${String(output.failed)} failed`;
    default:
      return undefined;
  }
}

/** A line for a failed Extract, Load or Commit invocation (the state machine may retry it), else undefined. */
export function describeTaskFailure(state: string, fn: PipelineFunctionName, event: unknown, error: unknown): string | undefined {
  if (fn !== 'extract' && fn !== 'load' && fn !== 'commit') return undefined;
  const what = (event as { unitId?: string; table?: string }).unitId ?? (event as { table?: string }).table;
  return `  ✗ ${state} ${what ?? ''}: ${(error as Error).name}: ${(error as Error).message.split('\n')[0]}`;
}

/** One line per schema: marts created, skipped (and why), failed, and the unbalanced vouchers found. */
export function describeMarts(result: RefreshMartsResult): string {
  return result.schemas
    .map((s) => {
      const parts = [`marts in ${s.schema}: ${s.created.length} created`];
      if (s.unbalancedVouchers !== undefined) parts.push(`${s.unbalancedVouchers} unbalanced GL voucher(s)`);
      for (const skip of s.skipped) parts.push(`${skip.mart} skipped (${skip.reason})`);
      for (const failure of s.failed) parts.push(`${failure.mart} FAILED (${failure.error})`);
      return `  ${parts[0]}${parts.length > 1 ? `; ${parts.slice(1).join('; ')}` : ''}`;
    })
    .join('\n');
}
