// `npm run bench:extract`: extraction speed against the emulator with a configured latency and rate
// limit (as a share of what those limits allow), and the extractor's peak memory at 10k and 1M records.
// The emulator runs in its own process; each extraction runs in a fresh process so peaks are its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { createInterface } from 'node:readline';

const TSX = ['--import', 'tsx'];
// Retry warnings would drown the figures; the workers report counts instead.
const ENV = { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' };

async function startEmulator(options: object): Promise<{ child: ChildProcess; ionapi: Record<string, string> }> {
  const child = spawn(process.execPath, [...TSX, 'bench/emulatorProcess.ts', JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'], env: ENV });
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  return { child, ionapi: (JSON.parse(first) as { ionapi: Record<string, string> }).ionapi };
}

interface WorkerResult {
  records: number;
  seconds: number;
  calls: number;
  rateLimited: number;
  peakRssMb: number;
  peakHeapMb: number;
}

async function runWorker(job: object): Promise<WorkerResult> {
  const child = spawn(process.execPath, [...TSX, 'bench/extractWorker.ts', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'], env: ENV });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`extraction worker exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as WorkerResult;
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

const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};

say(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);

// 1. Throughput under latency and a rate limit. Sequential MI calls, so the ceiling is
//    pageSize records per call × min(rate limit, 1 / latency) calls per second.
const latencyMs = 20;
const rateLimit = { requestsPerSecond: 20, burst: 5, retryAfter: 'seconds' as const };
const pageSize = 500;
const callsPerSecondMax = Math.min(rateLimit.requestsPerSecond, 1000 / latencyMs);
const theoreticalMax = pageSize * callsPerSecondMax;
for (const [label, maxRequestsPerSecond] of [['unpaced', undefined], ['paced at 19 req/s', 19]] as const) {
  const speed = await withEmulator(
    { seed: 1, knobs: { latencyMs, rateLimit }, volume: { companies: ['100'], glTransactions: 60_000 } },
    (ionapi) => runWorker({ ionapi, entity: 'gl_transactions', company: '100', pageSize, ...(maxRequestsPerSecond ? { maxRequestsPerSecond } : {}) }),
  );
  const rate = speed.records / speed.seconds;
  say(`throughput (${label}): ${speed.records} gl_transactions in ${speed.seconds.toFixed(1)} s with ${latencyMs} ms latency, a ${rateLimit.requestsPerSecond} req/s limit (burst ${rateLimit.burst}) and pages of ${pageSize}`);
  say(`  ${Math.round(rate)} records/s = ${((100 * rate) / theoreticalMax).toFixed(1)}% of the ${theoreticalMax} records/s those limits allow; ${speed.calls} calls (${(speed.records / speed.calls).toFixed(0)} records/call), ${speed.rateLimited} answered 429`);
}

// 2. Peak memory at 10k and 1M records (no latency, no rate limit).
for (const size of [10_000, 1_000_000]) {
  const result = await withEmulator({ seed: 2, volume: { companies: ['100'], glTransactions: size } }, (ionapi) =>
    runWorker({ ionapi, entity: 'gl_transactions', company: '100', pageSize: 2000 }),
  );
  say(`memory: ${result.records} records in ${result.seconds.toFixed(1)} s (${Math.round(result.records / result.seconds)} records/s): peak RSS ${result.peakRssMb.toFixed(0)} MiB, peak heap ${result.peakHeapMb.toFixed(0)} MiB`);
}
