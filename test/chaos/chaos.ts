// Proof that nothing is lost, at scale: runs many seeded chaos scenarios (test/chaos) over the real local
// sync — days of CloudSuite changes under gateway, AWS, warehouse and Lambda faults, reruns, duplicate
// starts — and checks after each that the warehouse converged to CloudSuite.
//
//   npx tsx test/chaos/chaos.ts --scenarios 200 [--seed 1] [--minutes 25] [--jobs 1] [--days 2-4] [--companies 100,200] [--keep-going]
//
// Scenario i runs seed S+i. Progress goes to stderr; stdout gets exactly one line,
//   scenarios: N, converged: N, lost records: 0, duplicated rows: 0
// followed, when a scenario did not converge, by the first counterexample with its seed and the command
// that replays it (exit code 1). It stops at the first counterexample unless --keep-going; with --minutes
// (or on Ctrl-C) it starts no new scenario after that time and reports the scenarios it ran.
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// Waits (backoff, Retry-After, lease polling) are scaled instead of slept, as in the tests; the pipeline's
// own logs would drown the progress lines. Both are read when the modules load, so set them first.
process.env.CLOUDSUITE_SYNC_TIME_SCALE ??= '0.001';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    jobs: { type: 'string' },
    days: { type: 'string', default: '2-4' },
    companies: { type: 'string', default: '100,200' },
    'keep-going': { type: 'boolean', default: false },
    minutes: { type: 'string' },
    worker: { type: 'boolean', default: false },
  },
});

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npx tsx test/chaos/chaos.ts --scenarios N [--seed S] [--minutes M] [--jobs J] [--days MIN-MAX] [--companies 100,200] [--keep-going]\n`);
  process.exit(2);
}

const count = Number(values.scenarios);
const firstSeed = Number(values.seed);
if (!Number.isInteger(count) || count < 1) usage(`--scenarios must be a positive whole number, got "${values.scenarios}"`);
if (!Number.isInteger(firstSeed)) usage(`--seed must be a whole number, got "${values.seed}"`);
const daysMatch = /^(\d+)(?:-(\d+))?$/.exec(values.days);
if (!daysMatch) usage(`--days must be N or MIN-MAX, got "${values.days}"`);
const days: [number, number] = [Number(daysMatch[1]), Number(daysMatch[2] ?? daysMatch[1])];
if (days[0] < 1 || days[1] < days[0]) usage(`--days must be at least 1 and MIN <= MAX, got "${values.days}"`);
const budgetMs = values.minutes === undefined ? Infinity : Number(values.minutes) * 60_000;
if (!(budgetMs > 0)) usage(`--minutes must be a positive number, got "${values.minutes}"`);
const companies = values.companies.split(',').map((c) => c.trim()).filter(Boolean);
if (companies.length === 0 || companies.some((c) => !/^[1-9]\d{0,2}$/.test(c))) usage(`--companies must list company numbers, got "${values.companies}"`);
// One scenario keeps about one core busy (the warehouse emulator, dynalite, s3rver and the handlers share the
// process): on the 2-core CI machine kind a second job gained nothing, so one is the default.
const jobs = Math.min(count, values.jobs ? Number(values.jobs) : 1);
if (!Number.isInteger(jobs) || jobs < 1 || jobs > availableParallelism() * 2) usage(`--jobs must be 1..${availableParallelism() * 2}, got "${values.jobs}"`);

/** What a worker sends back per scenario: enough to count, print progress, and tell a counterexample. */
interface ScenarioResult {
  seed: number;
  converged: boolean;
  lostRecords: number;
  duplicatedRows: number;
  line: string;
  /** The full account, for a scenario that did not converge. */
  counterexample?: string;
}

function replayCommand(seed: number): string {
  const shape = `${values.days !== '2-4' ? ` --days ${values.days}` : ''}${values.companies !== '100,200' ? ` --companies ${values.companies}` : ''}`;
  return `npx tsx test/chaos/chaos.ts --scenarios 1 --seed ${seed}${shape}`;
}

async function runOne(seed: number): Promise<ScenarioResult> {
  const { planScenario, DEFAULT_SHAPE } = await import('./scenarioPlan.ts');
  const { runScenario } = await import('./runScenario.ts');
  const { describeCounterexample, outcomeLine } = await import('./describeOutcome.ts');
  const outcome = await runScenario(planScenario(seed, { ...DEFAULT_SHAPE, days, companies }));
  return {
    seed,
    converged: outcome.converged,
    lostRecords: outcome.report.lostRecords,
    duplicatedRows: outcome.report.duplicatedRows,
    line: outcomeLine(outcome),
    ...(outcome.converged ? {} : { counterexample: describeCounterexample(outcome, replayCommand(seed)) }),
  };
}

if (values.worker) {
  // A worker process: runs the seeds the parent sends, one at a time, and answers each. Ctrl-C reaches the
  // whole process group: the parent decides when to stop, the worker finishes its scenario.
  process.on('SIGINT', () => undefined);
  process.on('message', (message: { seed?: number }) => {
    if (typeof message.seed !== 'number') process.exit(0);
    runOne(message.seed).then(
      (result) => process.send!(result),
      (error: unknown) => process.send!({ seed: message.seed, converged: false, lostRecords: 0, duplicatedRows: 0, line: `seed ${message.seed}: harness error`, counterexample: `counterexample: seed ${message.seed}\n  the harness failed: ${(error as Error).stack ?? String(error)}\n  replay: ${replayCommand(message.seed!)}` }),
    );
  });
  process.send!({ ready: true });
} else {
  const started = performance.now();
  const seeds = Array.from({ length: count }, (_, i) => firstSeed + i);
  const results: ScenarioResult[] = [];
  let next = 0;
  let stop = false;
  const say = (line: string) => process.stderr.write(`${line}\n`);
  say(`chaos: ${count} scenario(s) from seed ${firstSeed}, ${days[0]}-${days[1]} days, companies ${companies.join(',')}, ${jobs} job(s)` +
    (Number.isFinite(budgetMs) ? `, no new scenario after ${values.minutes} min` : ''));
  // Ctrl-C (or the time budget) starts no new scenario; the running ones finish and the result line is printed.
  const halt = (why: string) => {
    if (!stop) say(`chaos: ${why}: finishing the running scenario(s), then stopping`);
    stop = true;
  };
  process.on('SIGINT', () => halt('interrupted'));
  process.on('SIGTERM', () => halt('terminated'));
  const overBudget = () => {
    if (performance.now() - started > budgetMs) halt(`the ${values.minutes}-minute budget is spent`);
    return stop;
  };

  const accept = (result: ScenarioResult) => {
    results.push(result);
    const elapsed = (performance.now() - started) / 1000;
    say(`[${results.length}/${count}] ${result.line} — ${elapsed.toFixed(0)} s elapsed`);
    if (!result.converged && !values['keep-going']) stop = true;
  };

  if (jobs === 1) {
    for (const seed of seeds) {
      if (overBudget()) break;
      accept(await runOne(seed));
    }
  } else {
    const script = fileURLToPath(import.meta.url);
    const workers: Promise<void>[] = [];
    for (let j = 0; j < jobs; j++) {
      workers.push(
        new Promise<void>((resolve, reject) => {
          const child: ChildProcess = fork(script, ['--worker', '--days', values.days, '--companies', values.companies], {
            execArgv: process.execArgv,
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          });
          let inFlight: number | undefined;
          const dispatch = () => {
            inFlight = overBudget() || next >= seeds.length ? undefined : seeds[next++];
            child.send(inFlight === undefined ? {} : { seed: inFlight });
          };
          child.on('message', (message: ScenarioResult | { ready: true }) => {
            if ('ready' in message) dispatch();
            else {
              accept(message);
              dispatch();
            }
          });
          child.on('exit', (code) => {
            // A worker that died mid-scenario (a crash the harness did not catch) is a counterexample too.
            if (inFlight !== undefined) {
              accept({
                seed: inFlight, converged: false, lostRecords: 0, duplicatedRows: 0, line: `seed ${inFlight}: the worker exited with code ${code}`,
                counterexample: `counterexample: seed ${inFlight}\n  the worker process exited with code ${code} during the scenario\n  replay: ${replayCommand(inFlight)}`,
              });
            }
            resolve();
          });
          child.on('error', reject);
        }),
      );
    }
    await Promise.all(workers);
  }

  const converged = results.filter((r) => r.converged).length;
  const lost = results.reduce((n, r) => n + r.lostRecords, 0);
  const duplicated = results.reduce((n, r) => n + r.duplicatedRows, 0);
  const seconds = (performance.now() - started) / 1000;
  say(`chaos: ${results.length} scenario(s) in ${seconds.toFixed(0)} s (${(seconds / Math.max(1, results.length)).toFixed(1)} s per scenario with ${jobs} job(s))`);
  process.stdout.write(`scenarios: ${results.length}, converged: ${converged}, lost records: ${lost}, duplicated rows: ${duplicated}\n`);
  const first = results.filter((r) => !r.converged).sort((a, b) => a.seed - b.seed)[0];
  if (first) {
    process.stdout.write(`${first.counterexample ?? `counterexample: seed ${first.seed}\n  replay: ${replayCommand(first.seed)}`}\n`);
    process.exitCode = 1;
  }
}
