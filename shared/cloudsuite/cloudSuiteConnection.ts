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
}

export function connectCloudSuite(config: IonApiConfig, options: ConnectOptions = {}): CloudSuiteConnection {
  const log = options.log ?? logger;
  const tokens = new TokenProvider({ config, cache: options.cache ?? new InMemoryTokenCache(), log });
  const mi = new MiClient({
    apiBaseUrl: config.apiBaseUrl, tokens, log,
    ...(options.maxRequestsPerSecond ? { maxRequestsPerSecond: options.maxRequestsPerSecond } : {}),
  });
  return { config, tokens, mi };
}
