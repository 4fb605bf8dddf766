// Standalone runner (`emulate cloudsuite`): starts the emulator, writes its .ionapi file, prints the
// file's path on stdout (the only stdout line) and serves until SIGINT or SIGTERM.
import { resolve } from 'node:path';
import { startCloudSuiteEmulator } from './emulator.ts';
import { DEFAULT_KNOBS, type Knobs } from './types.ts';

export interface CloudSuiteEmulatorCliOptions {
  port?: number;
  seed?: number;
  /** Where to write the .ionapi file, default .cloudsuite-sync/emulator.ionapi. */
  ionapiPath?: string;
  /** Knobs for this run (e.g. tables lacking fields, a missing table). */
  knobs?: Partial<Knobs>;
}

export async function runCloudSuiteEmulatorCli({ port = 0, seed = 1, ionapiPath = '.cloudsuite-sync/emulator.ionapi', knobs }: CloudSuiteEmulatorCliOptions = {}): Promise<void> {
  const unknown = Object.keys(knobs ?? {}).filter((k) => !(k in DEFAULT_KNOBS));
  if (unknown.length > 0) throw new RangeError(`unknown knob(s) ${unknown.join(', ')}; knobs are ${Object.keys(DEFAULT_KNOBS).join(', ')}`);
  const emulator = await startCloudSuiteEmulator({ port, seed, ...(knobs ? { knobs } : {}) });
  const path = resolve(ionapiPath);
  await emulator.writeIonApiFile(path);
  process.stdout.write(`${path}\n`);
  process.stderr.write(`CloudSuite emulator (tenant ${emulator.tenant}, seed ${seed}, today ${emulator.clock.today()}) listening on ${emulator.url}; Ctrl+C stops it\n`);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await emulator.close();
}
