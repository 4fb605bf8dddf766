// Public API of the CloudSuite (ION API gateway + M3 MI REST) emulator; see README.md in this folder.
export { startCloudSuiteEmulator } from './emulator.ts';
export { runCloudSuiteEmulatorCli, type CloudSuiteEmulatorCliOptions } from './cli.ts';
export type {
  ChangeCounts,
  ChangeSummary,
  CloudSuiteEmulator,
  CloudSuiteEmulatorOptions,
  Counters,
  FaultKind,
  FaultRule,
  Knobs,
  M3Row,
  MiCallInfo,
  MutationPlan,
  RateLimitKnob,
  RetryAfterStyle,
  TableInfo,
  Volume,
} from './types.ts';
export { DEFAULT_KNOBS, DEFAULT_VOLUME } from './types.ts';
