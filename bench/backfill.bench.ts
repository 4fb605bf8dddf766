// `npm run bench:backfill [records]`: a first backfill of a large GL table (default 1,000,000 rows in one
// company) against the CloudSuite emulator, as one unit and as the sub-units Plan makes of it (one per accounting
// year, shared/pipeline/keyRanges.ts), extracted concurrently. Modeled: every MI call takes the emulator's
// `latencyMs` on top of its real work (an EXPORTMI page on a real tenant takes that long or longer), and the
// gateway's spike arrest is a token bucket at the tenant's licensed calls per second; each extraction paces
// itself at the share Plan gives it. Not modeled: the tenant's own database load, Lambda cold starts; here the
// emulator and every extraction share two local cores, so the speed-up is a floor. Figures, not assertions.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { machineLine } from './machine.ts';

const TSX = ['--import', 'tsx'];
const ENV = { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' };

/** The model: a tenant licensed for 20 MI calls/s (burst 5), 250 ms per EXPORTMI call, Map concurrency 10. */
export const BACKFILL_SETUP = { callsPerSecond: 20, burst: 5, latencyMs: 250, maxConcurrency: 10, currentYear: 2026 };

/** A first backfill reads years of ledger: six years of manual vouchers (the emulator's default is 400 days). */
const GL_HISTORY_DAYS = 6 * 365;

interface WorkerResult {
  units: number;
  share: number;
  seconds: number;
  records: number;
  calls: number;
  rateLimited: number;
  perUnit: { records: number; calls: number; seconds: number }[];
}

async function startEmulator(options: object): Promise<{ child: ChildProcess; ionapi: Record<string, string> }> {
  const child = spawn(process.execPath, [...TSX, 'bench/emulatorProcess.ts', JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'], env: ENV });
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  return { child, ionapi: (JSON.parse(first) as { ionapi: Record<string, string> }).ionapi };
}

async function runWorker(job: object): Promise<WorkerResult> {
  const child = spawn(process.execPath, [...TSX, 'bench/backfillWorker.ts', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'], env: ENV });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`backfill worker exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as WorkerResult;
}

/** One unit, then the split, against one emulator (the same data; the bucket refills between the runs). */
export async function measureBackfill(records = 1_000_000): Promise<{ one: WorkerResult; split: WorkerResult }> {
  const { callsPerSecond, burst, latencyMs, maxConcurrency, currentYear } = BACKFILL_SETUP;
  const { child, ionapi } = await startEmulator({
    seed: 3, startDate: `${currentYear}1120`, volume: { companies: ['100'], glTransactions: records, glHistoryDays: GL_HISTORY_DAYS },
    knobs: { latencyMs, rateLimit: { requestsPerSecond: callsPerSecond, burst, retryAfter: 'seconds' } },
  });
  try {
    const job = { ionapi, callsPerSecond, maxConcurrency, currentYear };
    const one = await runWorker({ ...job, split: false });
    const split = await runWorker({ ...job, split: true });
    return { one, split };
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

export function describeBackfill({ one, split }: { one: WorkerResult; split: WorkerResult }): string[] {
  const { callsPerSecond, burst, latencyMs } = BACKFILL_SETUP;
  const line = (label: string, r: WorkerResult) =>
    `${label}: ${r.records} records in ${r.seconds.toFixed(1)} s (${Math.round(r.records / r.seconds)} records/s), ${r.calls} MI calls = ` +
    `${(r.calls / r.seconds).toFixed(1)} calls/s against the ${callsPerSecond} calls/s limit (${((100 * r.calls) / r.seconds / callsPerSecond).toFixed(0)}%), ` +
    `${r.rateLimited} answered 429; each unit paced at ${r.share.toFixed(2)} calls/s`;
  const slowest = Math.max(...split.perUnit.map((u) => u.seconds));
  return [
    `model: ${latencyMs} ms per MI call (emulator latency) on top of its work, gateway spike arrest ${callsPerSecond} calls/s (burst ${burst}); emulator and extractions share this machine's cores`,
    line('one unit', one),
    line(`${split.units} sub-units by accounting year`, split),
    `  sub-units: ${split.perUnit.map((u) => `${u.records} rec/${u.calls} calls/${u.seconds.toFixed(0)} s`).join(', ')} (the slowest sets the time: ${slowest.toFixed(0)} s)`,
    `speed-up over one unit: ${(one.seconds / split.seconds).toFixed(2)}× (same ${one.records === split.records ? 'records' : `records? ${one.records} vs ${split.records}`})`,
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const records = Number(process.argv[2] ?? process.env.BENCH_BACKFILL_RECORDS ?? 1_000_000);
  say(machineLine());
  describeBackfill(await measureBackfill(records)).forEach(say);
}
