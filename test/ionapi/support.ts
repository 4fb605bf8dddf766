// Test helpers for the ION API and MI client tests: an emulator-backed connection with a log that
// records every line, so tests can assert on retries logged and on secrets never logged.
import { inspect } from 'node:util';
import type { CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { parseIonApiFile, type IonApiConfig } from '#shared/ionapi/ionApiFile.ts';
import { InMemoryTokenCache, type TokenCache } from '#shared/ionapi/tokenCache.ts';
import { TokenProvider, type TokenProviderOptions } from '#shared/ionapi/tokenProvider.ts';
import { MiClient, type MiClientOptions } from '#shared/m3/miClient.ts';
import type { Log } from '#shared/observability/logger.ts';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  extra: unknown[];
}

export type CapturingLog = Log & { lines: LogLine[]; text(): string; warnings(): LogLine[] };

/** A Log that keeps every line (message and structured fields). */
export function capturingLog(): CapturingLog {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (message: unknown, ...extra: unknown[]): void => {
      lines.push({ level, message: String(message), extra });
    };
  const log = {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    appendKeys: () => undefined,
    createChild: () => log,
    text: () => lines.map((line) => `${line.level} ${line.message} ${inspect(line.extra, { depth: 10 })}`).join('\n'),
    warnings: () => lines.filter((line) => line.level === 'warn'),
  };
  return log as unknown as CapturingLog;
}

export function emulatorConfig(emulator: CloudSuiteEmulator, overrides: Record<string, string> = {}): IonApiConfig {
  return parseIonApiFile(JSON.stringify({ ...emulator.ionapi, ...overrides }), 'emulator.ionapi');
}

export interface Connection {
  config: IonApiConfig;
  cache: TokenCache;
  tokens: TokenProvider;
  mi: MiClient;
  log: CapturingLog;
}

export function connect(
  emulator: CloudSuiteEmulator,
  options: {
    cache?: TokenCache;
    tokens?: Partial<Omit<TokenProviderOptions, 'config' | 'cache' | 'log'>>;
    mi?: Partial<Omit<MiClientOptions, 'apiBaseUrl' | 'tokens' | 'log'>>;
    config?: IonApiConfig;
  } = {},
): Connection {
  const log = capturingLog();
  const config = options.config ?? emulatorConfig(emulator);
  const cache = options.cache ?? new InMemoryTokenCache();
  const tokens = new TokenProvider({ config, cache, log, ...options.tokens });
  const mi = new MiClient({ apiBaseUrl: config.apiBaseUrl, tokens, log, ...options.mi });
  return { config, cache, tokens, mi, log };
}
