// Runs the CloudSuite emulator in its own process for benchmarks, so its memory is not counted as
// the extractor's. Options come as JSON in argv[2]; the .ionapi object is printed on stdout.
import { startCloudSuiteEmulator, type CloudSuiteEmulatorOptions } from '../infra/local/emulators/cloudsuite/index.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as CloudSuiteEmulatorOptions;
const emulator = await startCloudSuiteEmulator(options);
process.stdout.write(`${JSON.stringify({ ionapi: emulator.ionapi, url: emulator.url })}\n`);
const stop = async () => {
  await emulator.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
