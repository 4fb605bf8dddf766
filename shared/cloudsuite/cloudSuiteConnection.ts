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

export function connectCloudSuite(config: IonApiConfig, options: { cache?: TokenCache; log?: Log } = {}): CloudSuiteConnection {
  const log = options.log ?? logger;
  const tokens = new TokenProvider({ config, cache: options.cache ?? new InMemoryTokenCache(), log });
  const mi = new MiClient({ apiBaseUrl: config.apiBaseUrl, tokens, log });
  return { config, tokens, mi };
}
