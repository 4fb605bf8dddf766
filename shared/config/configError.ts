// One way to report invalid configuration: name the source, the path of each bad field and the fix.
import type { z } from 'zod';
import { SyncError } from '../errors/syncError.ts';

export class ConfigError extends SyncError {
  override name = 'ConfigError';
  constructor(message: string, readonly issues: string[] = [], options?: ErrorOptions) {
    super(message, options);
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), '');
}

/** Turns a zod error into a ConfigError whose message lists every issue as `<where>: <path>: <message>`. */
export function configErrorFromZod(where: string, error: z.ZodError): ConfigError {
  const issues = error.issues.map((issue) => {
    const path = formatPath(issue.path);
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  return new ConfigError(`${where} is invalid:\n  - ${issues.join('\n  - ')}`, issues, { cause: error });
}
