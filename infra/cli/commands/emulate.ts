// `emulate cloudsuite|databricks`: the bundled emulators, standalone, for trying the CLI by hand.
import { ensureStateFolder } from '../../local/stateFolder.ts';
import { UsageError } from '../output.ts';
import { parseEmulatorKnobs } from '../emulatorKnobs.ts';

const DEFAULT_IONAPI = '.cloudsuite-sync/emulator.ionapi';

export async function emulateCloudSuiteCommand(options: { port?: string; seed?: string; ionapi?: string; knobs?: string }): Promise<number> {
  const port = options.port === undefined ? 0 : Number(options.port);
  const seed = options.seed === undefined ? 1 : Number(options.seed);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got "${options.port}"`);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got "${options.seed}"`);
  const knobs = options.knobs === undefined ? undefined : parseEmulatorKnobs(options.knobs, '--knobs');
  const ionapiPath = options.ionapi ?? DEFAULT_IONAPI;
  // The default file lives in the default state folder: created here, it is the tool's (sync --reset may delete it).
  if (ionapiPath === DEFAULT_IONAPI) await ensureStateFolder('.cloudsuite-sync');
  const { runCloudSuiteEmulatorCli } = await import('../../local/emulators/cloudsuite/index.ts');
  try {
    await runCloudSuiteEmulatorCli({ port, seed, ionapiPath, ...(knobs ? { knobs } : {}) });
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
