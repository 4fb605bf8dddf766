// Wires one tenant's ION API access: the .ionapi config, a token provider over a TokenCache
// (in-process for the CLI, shared and encrypted in AWS) and the MI client that uses it.
import type { IonApiConfig } from '../ionapi/ionApiFile.ts';
import { InMemoryTokenCache, type TokenCache } from '../ionapi/tokenCache.ts';
import { TokenProvider } from '../ionapi/tokenProvider.ts';
import { MiClient } from '../m3/miClient.ts';
import { logger, type Log } from '../observability/logger.ts';

export interface CloudSuiteConnection {
  config: IonApiConfig;
  tokens: TokenProvider;
  mi: MiClient;
}

export interface ConnectOptions {
  cache?: TokenCache;
  log?: Log;
  /** Client-side pacing of MI calls (see MiClient); set it to the tenant's licensed rate. */
  maxRequestsPerSecond?: number;
  /** The largest MI answer read (see MiClient); default 32 MiB. */
  maxAnswerBytes?: number;
  /** Per-attempt timeout of MI calls (real ms; see MiClient for the default). */
  attemptTimeoutMs?: number;
}

export function connectCloudSuite(config: IonApiConfig, options: ConnectOptions = {}): CloudSuiteConnection {
  const log = options.log ?? logger;
  // Unknown keys are accepted (Infor adds keys over time) but never silently: the CLI commands and the
  // pipeline all connect here, so one warning, naming the keys and never a value, reaches every caller
  // (before test/hostile found it, only `check` mentioned them).
  if (config.unknownKeys.length > 0) {
    const keys = config.unknownKeys.map((key) => JSON.stringify(key.slice(0, 40))).join(', ');
    log.warn(`.ionapi from ${config.source}: ignoring key(s) this version does not use: ${keys}; if one is a misspelt key, fix the file or download it again`, {
      tenant: config.tenant,
    });
  }
  const tokens = new TokenProvider({ config, cache: options.cache ?? new InMemoryTokenCache(), log });
  const mi = new MiClient({
    apiBaseUrl: config.apiBaseUrl, tokens, log,
    ...(options.maxRequestsPerSecond ? { maxRequestsPerSecond: options.maxRequestsPerSecond } : {}),
    ...(options.maxAnswerBytes ? { maxAnswerBytes: options.maxAnswerBytes } : {}),
    ...(options.attemptTimeoutMs ? { attemptTimeoutMs: options.attemptTimeoutMs } : {}),
  });
  return { config, tokens, mi };
}
