// `emulate cloudsuite|databricks`: the bundled emulators, standalone, for trying the CLI by hand.
import { UsageError } from '../output.ts';
import { parseEmulatorKnobs } from '../emulatorKnobs.ts';

export async function emulateCloudSuiteCommand(options: { port?: string; seed?: string; ionapi?: string; knobs?: string }): Promise<number> {
  const port = options.port === undefined ? 0 : Number(options.port);
  const seed = options.seed === undefined ? 1 : Number(options.seed);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got "${options.port}"`);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got "${options.seed}"`);
  const knobs = options.knobs === undefined ? undefined : parseEmulatorKnobs(options.knobs, '--knobs');
  const { runCloudSuiteEmulatorCli } = await import('../../local/emulators/cloudsuite/index.ts');
  try {
    await runCloudSuiteEmulatorCli({ port, seed, ionapiPath: options.ionapi ?? '.cloudsuite-sync/emulator.ionapi', ...(knobs ? { knobs } : {}) });
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`--knobs: ${error.message}`);
    throw error;
  }
  return 0;
}

export async function emulateDatabricksCommand(options: { port?: string; db?: string }): Promise<number> {
  const port = options.port === undefined ? 0 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got "${options.port}"`);
  const { runWarehouseEmulatorCli } = await import('../../local/emulators/databricks/index.ts');
  await runWarehouseEmulatorCli({ port, ...(options.db ? { dbFile: options.db } : {}) });
  return 0;
}
