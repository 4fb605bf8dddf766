// Readable accounts of chaos scenarios: one progress line each, and the full story of a counterexample
// (what went wrong, the executions with their faults, the plan) for the test message and test/chaos/chaos.ts.
import type { ScenarioOutcome } from './runScenario.ts';

export function outcomeLine(outcome: ScenarioOutcome): string {
  const failed = outcome.executions.filter((e) => e.status === 'failed').length;
  const fired = outcome.fired;
  const faults =
    `gateway ${fired.gateway}, 429 ${fired.rateLimited}, 401 ${fired.unauthorized}, aws ${fired.aws}, lambda ${fired.task}, mid-run ${fired.midRun}`;
  return (
    `seed ${outcome.seed}: ${outcome.converged ? 'converged' : 'NOT CONVERGED'} in ${(outcome.durationMs / 1000).toFixed(1)} s ` +
    `(${outcome.plan.days.length} days, ${outcome.executions.length} executions, ${failed} failed; fired: ${faults}; ` +
    `hidden: ${outcome.hidden.silentlyChanged} silent changes, ${outcome.hidden.deleted} deletes; reconcile repaired ${outcome.hidden.repairedSilentChanges}, soft-deleted ${outcome.hidden.softDeletedKeys})`
  );
}

export function describeCounterexample(outcome: ScenarioOutcome, replay: string): string {
  const lines = [
    `counterexample: seed ${outcome.seed}`,
    `  ${outcome.verdict.split('\n')[0]}`,
    ...outcome.report.problems.map((p) => `  - ${p}`),
    '  executions:',
    ...outcome.executions.map(
      (e) =>
        `    day ${e.day} ${e.kind}${e.rerunOf ? ` of ${e.rerunOf}` : ''} ${e.name}: ${e.status}` +
        `${e.error ? ` (${e.error})` : ''}${e.failedUnits ? ` failed units ${JSON.stringify(e.unitErrors)}` : ''}` +
        `${e.faults.length ? ` faults [${e.faults.join(', ')}]` : ''}${e.fired.length ? ` fired [${e.fired.join(', ')}]` : ''}` +
        `${e.cause && e.status === 'failed' ? `\n      ${e.cause.replace(/\s+/g, ' ')}` : ''}`,
    ),
    `  state folder (kept): ${outcome.stateDir}`,
    `  replay: ${replay}`,
    `  plan: ${JSON.stringify(outcome.plan)}`,
  ];
  return lines.join('\n');
}
