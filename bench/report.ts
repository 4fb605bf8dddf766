// `npm run bench`: every benchmark side by side on this machine, written to bench/RESULTS.md.
// Extraction (throughput under latency and a rate limit; peak memory at 10k/100k/1M records, the
// emulator in its own process), loading (statements and bytes per 100k records, rows/s), token
// grants under maximum fan-out, a mid-market day and a first backfill through the real state machine, and a
// split backfill of a large GL table (one unit vs its year sub-units, under the tenant's call budget), and a key
// sweep against a reconcile's complete read of the same purchase order lines.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import flowsConfig from '../infra/flows.config.ts';
import { logger } from '../shared/observability/logger.ts';
import { runLocalSync } from '../infra/local/runLocalSync.ts';
import type { CloudSuiteEmulator } from '../infra/local/emulators/cloudsuite/index.ts';
import { describeBackfill, measureBackfill } from './backfill.bench.ts';
import { describeSweep, measureSweep } from './sweep.bench.ts';
import { describeMemory, describeThroughput, measureMemory, measureThroughput } from './extract.bench.ts';
import { describeBackfills, describeLoad, measureLoad } from './load.bench.ts';
import { machineLine } from './machine.ts';
import { describePipeline, measurePipeline, MID_MARKET_DAY } from './pipeline.bench.ts';

process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
logger.setLogLevel('ERROR'); // the shared logger was built before this line ran (ESM imports come first)
const sections: { title: string; lines: string[] }[] = [];
const progress = (line: string) => process.stderr.write(`${line}\n`);
const section = (title: string, lines: string[]) => {
  sections.push({ title, lines });
  process.stdout.write(`\n## ${title}\n${lines.join('\n')}\n`);
};
const started = performance.now();

section('Machine', [machineLine(), `load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`]);

progress('extraction throughput…');
section('Extraction throughput', [
  ...describeThroughput(await measureThroughput()),
  ...describeThroughput(await measureThroughput(19)),
]);

progress('extraction memory…');
const memory: string[] = [];
for (const size of [10_000, 100_000, 1_000_000]) memory.push(describeMemory(await measureMemory(size)));
memory.push(describeMemory(await measureMemory(1_000_000, ['--max-old-space-size=160']), 'node --max-old-space-size=160'));
section('Extraction peak memory (the emulator runs in its own process)', memory);

progress('loading…');
const loads = await measureLoad(100_000);
section('Loading into the warehouse emulator (real @databricks/sql driver), merge and copy mode', [...loads.map(describeLoad), ...describeBackfills(loads)]);

progress('split backfill of a large GL table…');
// BENCH_BACKFILL_RECORDS: fewer rows on a busy machine (one unit of a million rows reads for about 20 minutes).
section('A backfill split into sub-units by accounting year', describeBackfill(await measureBackfill(Number(process.env.BENCH_BACKFILL_RECORDS ?? 1_000_000))));

progress('key sweep against a reconcile of the same table…');
section('A key sweep against a reconcile of the same table', describeSweep(await measureSweep()));

/** A full local sync through the real state machine; counts password grants at the emulator. */
async function localRun(label: string, volume: object, maxConcurrency: number) {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-report-'));
  let emulator: CloudSuiteEmulator | undefined;
  try {
    const t0 = performance.now();
    const result = await runLocalSync(
      { stateDir: dir, progress: () => undefined, config: { ...flowsConfig, maxConcurrency } },
      {
        emulator: { seed: 1, volume },
        onCloudSuite: (e) => {
          emulator = e;
        },
      },
    );
    const seconds = (performance.now() - t0) / 1000;
    const records = result.units.reduce((n, u) => n + (u.recordsLoaded ?? 0), 0);
    return {
      label, status: result.status, units: result.units.length, records, seconds,
      grants: emulator?.counters.passwordGrants ?? 0, refreshes: emulator?.counters.refreshGrants ?? 0,
      miCalls: emulator?.counters.miCalls ?? 0, historyEvents: result.awsHistoryEvents,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

progress('token grants under maximum fan-out…');
const fanOut = await localRun('default tenant, Map concurrency 40', {}, 40);
section('Token grants under maximum fan-out', [
  `${fanOut.label}: ${fanOut.units} units extracted concurrently, ${fanOut.miCalls} MI calls, ${fanOut.grants} password grant(s), ${fanOut.refreshes} refresh grant(s) (the token is shared through the encrypted DynamoDB token cache with a refresh lease), ${fanOut.status}`,
]);

progress('mid-market day…');
section('A mid-market day through the real state machine', describePipeline(await measurePipeline(MID_MARKET_DAY, progress)));

progress('first backfill of about 1M records…');
const scale = 6;
const backfillVolume = Object.fromEntries(Object.entries(MID_MARKET_DAY.volume).map(([k, v]) => [k, (v as number) * scale]));
const backfill = await localRun(`first sync of a tenant ${scale}× the mid-market one`, backfillVolume, flowsConfig.maxConcurrency ?? 10);
section('A first backfill through the real state machine', [
  `${backfill.label}: ${backfill.records} records in ${backfill.units} units, ${backfill.seconds.toFixed(0)} s (${Math.round(backfill.records / backfill.seconds)} records/s end to end), ${backfill.miCalls} MI calls, ${backfill.grants} password grant(s), ${backfill.historyEvents} history events, ${backfill.status}`,
]);

const minutes = ((performance.now() - started) / 60_000).toFixed(1);
const markdown = [
  '# Benchmark results',
  '',
  `Written by \`npm run bench\` (bench/report.ts) on ${new Date().toISOString()} in ${minutes} minutes. Figures, not assertions: the`,
  'machine is shared, so expect some noise between runs. Emulator latencies are not a real tenant\'s or warehouse\'s.',
  '',
  ...sections.flatMap((s) => [`## ${s.title}`, '', '```', ...s.lines, '```', '']),
].join('\n');
await writeFile(path.join(import.meta.dirname, 'RESULTS.md'), markdown);
process.stdout.write(`\nwrote bench/RESULTS.md (${minutes} min)\n`);
