// `npm run bench:extract`: extraction speed against the emulator with a configured latency and rate
// limit (as a share of what those limits allow), and the extractor's peak memory at 10k to 1M records.
// The emulator runs in its own process; each extraction runs in a fresh process so peaks are its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { machineLine } from './machine.ts';

const TSX = ['--import', 'tsx'];
// Retry warnings would drown the figures; the workers report counts instead.
const ENV = { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' };

async function startEmulator(options: object): Promise<{ child: ChildProcess; ionapi: Record<string, string> }> {
  const child = spawn(process.execPath, [...TSX, 'bench/emulatorProcess.ts', JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'], env: ENV });
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  return { child, ionapi: (JSON.parse(first) as { ionapi: Record<string, string> }).ionapi };
}

export interface ExtractionRun {
  records: number;
  seconds: number;
  calls: number;
  rateLimited: number;
  peakRssMb: number;
  peakHeapMb: number;
}

async function runWorker(job: object, nodeFlags: string[] = []): Promise<ExtractionRun> {
  const child = spawn(process.execPath, [...nodeFlags, ...TSX, 'bench/extractWorker.ts', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'], env: ENV });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`extraction worker exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as ExtractionRun;
}

async function withEmulator<T>(options: object, fn: (ionapi: Record<string, string>) => Promise<T>): Promise<T> {
  const { child, ionapi } = await startEmulator(options);
  try {
    return await fn(ionapi);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

export const THROUGHPUT_SETUP = { latencyMs: 20, rateLimit: { requestsPerSecond: 20, burst: 5, retryAfter: 'seconds' as const }, pageSize: 500, records: 60_000 };

export interface Throughput extends ExtractionRun {
  label: string;
  recordsPerSecond: number;
  theoreticalMax: number;
  share: number;
}

/**
 * Sequential MI calls, so the ceiling is pageSize records per call × min(rate limit, 1 / latency)
 * calls per second; the share says how close the extractor gets.
 */
export async function measureThroughput(maxRequestsPerSecond?: number): Promise<Throughput> {
  const { latencyMs, rateLimit, pageSize, records } = THROUGHPUT_SETUP;
  const run = await withEmulator(
    { seed: 1, knobs: { latencyMs, rateLimit }, volume: { companies: ['100'], glTransactions: records } },
    (ionapi) => runWorker({ ionapi, entity: 'gl_transactions', company: '100', pageSize, ...(maxRequestsPerSecond ? { maxRequestsPerSecond } : {}) }),
  );
  const theoreticalMax = pageSize * Math.min(rateLimit.requestsPerSecond, 1000 / latencyMs);
  const recordsPerSecond = run.records / run.seconds;
  return {
    ...run, label: maxRequestsPerSecond ? `paced at ${maxRequestsPerSecond} req/s` : 'unpaced',
    recordsPerSecond, theoreticalMax, share: recordsPerSecond / theoreticalMax,
  };
}

/** Peak memory of one extraction of `size` GL transactions (no latency, no rate limit). */
export async function measureMemory(size: number, nodeFlags: string[] = []): Promise<ExtractionRun> {
  return withEmulator({ seed: 2, volume: { companies: ['100'], glTransactions: size } }, (ionapi) =>
    runWorker({ ionapi, entity: 'gl_transactions', company: '100', pageSize: 2000 }, nodeFlags),
  );
}

export function describeThroughput(t: Throughput): string[] {
  const { latencyMs, rateLimit, pageSize } = THROUGHPUT_SETUP;
  return [
    `throughput (${t.label}): ${t.records} gl_transactions in ${t.seconds.toFixed(1)} s with ${latencyMs} ms latency, a ${rateLimit.requestsPerSecond} req/s limit (burst ${rateLimit.burst}) and pages of ${pageSize}`,
    `  ${Math.round(t.recordsPerSecond)} records/s = ${(100 * t.share).toFixed(1)}% of the ${t.theoreticalMax} records/s those limits allow; ${t.calls} calls (${(t.records / t.calls).toFixed(0)} records/call), ${t.rateLimited} answered 429`,
  ];
}

export function describeMemory(m: ExtractionRun, flags = ''): string {
  return `memory${flags ? ` (${flags})` : ''}: ${m.records} records in ${m.seconds.toFixed(1)} s (${Math.round(m.records / m.seconds)} records/s): peak RSS ${m.peakRssMb.toFixed(0)} MiB, peak heap ${m.peakHeapMb.toFixed(0)} MiB`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(machineLine());
  for (const pacing of [undefined, 19]) describeThroughput(await measureThroughput(pacing)).forEach(say);
  for (const size of [10_000, 1_000_000]) say(describeMemory(await measureMemory(size)));
}
