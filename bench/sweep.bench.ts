// `npm run bench:sweep [orders]`: a key sweep against a reconcile's complete read of the same purchase order lines
// table (company 100; default 12,000 orders ≈ 49,000 lines) on the CloudSuite emulator in its own process, each
// read in a fresh process as Extract runs it. The latency model of the other extract benchmarks (backfill.bench.ts):
// every MI call takes 250 ms on top of the emulator's work, the gateway's spike arrest at 20 calls/s (burst 5).
// Extraction only: a sweep's load stages keys and runs one UPDATE per unit; a reconcile's load merges every row
// (bench:load has those figures). Figures, not assertions.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { BACKFILL_SETUP } from './backfill.bench.ts';
import { machineLine } from './machine.ts';

const TSX = ['--import', 'tsx'];
const ENV = { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' };

export interface SweepReadResult {
  seconds: number;
  records: number;
  calls: number;
  stagedBytes: number;
}

async function startEmulator(options: object): Promise<{ child: ChildProcess; ionapi: Record<string, string> }> {
  const child = spawn(process.execPath, [...TSX, 'bench/emulatorProcess.ts', JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'], env: ENV });
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  return { child, ionapi: (JSON.parse(first) as { ionapi: Record<string, string> }).ionapi };
}

async function runWorker(job: object): Promise<SweepReadResult> {
  const child = spawn(process.execPath, [...TSX, 'bench/sweepWorker.ts', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'], env: ENV });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`sweep worker exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as SweepReadResult;
}

/** The sweep, then the reconcile's read, of the same table on one emulator. */
export async function measureSweep(orders = 12_000): Promise<{ sweep: SweepReadResult; reconcile: SweepReadResult }> {
  const { callsPerSecond, burst, latencyMs, maxConcurrency } = BACKFILL_SETUP;
  const { child, ionapi } = await startEmulator({
    seed: 5, volume: { companies: ['100'], purchaseOrders: orders, linesPerOrder: 4 },
    knobs: { latencyMs, rateLimit: { requestsPerSecond: callsPerSecond, burst, retryAfter: 'seconds' } },
  });
  try {
    const job = { ionapi, callsPerSecond, maxConcurrency };
    const sweep = await runWorker({ ...job, keysOnly: true });
    const reconcile = await runWorker({ ...job, keysOnly: false });
    return { sweep, reconcile };
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

export function describeSweep({ sweep, reconcile }: { sweep: SweepReadResult; reconcile: SweepReadResult }): string[] {
  const { latencyMs, callsPerSecond, burst } = BACKFILL_SETUP;
  const per10k = (r: SweepReadResult) => ((10_000 * r.calls) / r.records).toFixed(1);
  return [
    `model: ${latencyMs} ms per MI call (emulator latency) on top of its work, gateway spike arrest ${callsPerSecond} calls/s (burst ${burst}); purchase_order_lines of one company, ${reconcile.records} rows`,
    `sweep: ${sweep.calls} MI calls, ${sweep.seconds.toFixed(1)} s; reconcile: ${reconcile.calls} MI calls, ${reconcile.seconds.toFixed(1)} s; ` +
      `ratio ${(reconcile.calls / sweep.calls).toFixed(1)}× fewer calls, ${(reconcile.seconds / sweep.seconds).toFixed(1)}× less time`,
    `  per 10,000 rows: sweep ${per10k(sweep)} calls, reconcile ${per10k(reconcile)} calls; staged ${(sweep.stagedBytes / 2 ** 20).toFixed(1)} MiB of keys vs ${(reconcile.stagedBytes / 2 ** 20).toFixed(1)} MiB of records` +
      `${sweep.records === reconcile.records ? '' : ` (keys ${sweep.records} ≠ records ${reconcile.records}!)`}`,
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(machineLine());
  describeSweep(await measureSweep(Number(process.argv[2] ?? process.env.BENCH_SWEEP_ORDERS ?? 12_000))).forEach(say);
}
