// The one logger: Powertools structured JSON logs. In Lambda they go to CloudWatch; in the CLI every
// line goes to stderr so stdout carries only results. Never log a secret, a token or a record; should one
// slip into a log line anyway (an error echoing what a server sent), every string of the line, errors and
// their causes included, has the secrets this process holds masked and is bounded (redaction.ts).
import { Console } from 'node:console';
import { Logger } from '@aws-lambda-powertools/logger';
import { safeText } from './redaction.ts';

export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error' | 'appendKeys' | 'createChild'>;

export const logger = new Logger({
  serviceName: 'cloudsuite-sync',
  logLevel: (process.env.POWERTOOLS_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'INFO') as 'INFO',
  jsonReplacerFn: (_key, value) => (typeof value === 'string' ? safeText(value) : value),
});

/** CLI runs: route every log line (all levels) to stderr. */
export function routeLogsToStderr(target: Logger = logger): void {
  (target as unknown as { console: Console }).console = new Console({ stdout: process.stderr, stderr: process.stderr });
}
