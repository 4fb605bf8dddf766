// How a command's failure is printed: our errors (SyncError) as one "error:" line, anything else as an
// unexpected error; exit code 1 either way, no stack trace unless CLOUDSUITE_SYNC_DEBUG is set.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { action, UsageError } from '../../../infra/cli/output.ts';
import { MiHttpError } from '#shared/m3/miErrors.ts';
import { SecretNotFoundError } from '#shared/secrets/secretSource.ts';

function capturedStderr(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  process.exitCode = 0;
});

describe('action', () => {
  it.each([
    ['a usage error', new UsageError('give --ionapi FILE')],
    // Neither was in the list of names the CLI used to keep: the hierarchy covers them.
    ['an HTTP refusal of the gateway', new MiHttpError('CRS620MI', 'LstSuppliers', 404)],
    ['a missing secret', new SecretNotFoundError('cloudsuite/acme', 'Secrets Manager')],
  ])('prints %s as one error line and exits 1', async (_label, error) => {
    const stderr = capturedStderr();
    await action(async () => Promise.reject(error))();
    expect(stderr).toEqual([`error: ${error.message}\n`]);
    expect(process.exitCode).toBe(1);
  });

  it('prints any other failure as unexpected, with its stack only when debugging', async () => {
    const stderr = capturedStderr();
    await action(async () => Promise.reject(new TypeError('x is not a function')))();
    expect(stderr).toEqual(['unexpected error: x is not a function\n']);
    expect(process.exitCode).toBe(1);

    vi.stubEnv('CLOUDSUITE_SYNC_DEBUG', '1');
    stderr.length = 0;
    await action(async () => Promise.reject(new TypeError('x is not a function')))();
    expect(stderr[1]).toMatch(/^TypeError: x is not a function\n\s+at /);
  });
});
