// Helpers for the hostile-input tests: a proxy that damages MI answers on their way from the CloudSuite
// emulator (what a broken gateway, a re-encoding proxy or odd M3 data does), the checks every CLI error
// must pass (one line, no stack trace, no secret), and listings that prove nothing was written.
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'vitest';
import type { CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import type { CliResult } from '../../support/runCli.ts';

/** The environment a user's shell has: no log level forced by the test runner (the CLI then logs warnings). */
export const USER_ENV = { POWERTOOLS_LOG_LEVEL: '' };

export interface MiCallSeen {
  program: string;
  transaction: string;
  url: URL;
  /** The access token the call carried (what a gateway could echo back). */
  accessToken: string;
  /** The session company as sent (a matrix parameter `;cono=`, or a query parameter). */
  company: string | null;
}

/** Returns the bytes to answer instead, or undefined to pass the emulator's answer through. */
export type MiRewrite = (call: MiCallSeen, body: Buffer) => Buffer | undefined;

export interface MiProxy {
  url: string;
  /** The emulator's .ionapi with every URL pointing at the proxy (tokens are fetched through it too). */
  ionapi: Record<string, string>;
  close(): Promise<void>;
}

const EXECUTE = /\/M3\/m3api-rest\/v2\/execute\/([A-Za-z0-9_]+)\/([A-Za-z0-9_]+)/;

/** An HTTP proxy in front of the emulator that lets `rewrite` replace successful MI answers. */
export async function startMiProxy(emulator: CloudSuiteEmulator, rewrite: MiRewrite): Promise<MiProxy> {
  const target = new URL(emulator.url);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const upstream = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            let bytes: Buffer = Buffer.concat(body);
            const url = new URL(req.url ?? '/', target);
            const match = EXECUTE.exec(url.pathname);
            const accessToken = (req.headers.authorization ?? '').replace(/^Bearer /, '');
            const company = /;cono=([^;/?]*)/.exec(url.pathname)?.[1] ?? url.searchParams.get('cono');
            if (match && answer.statusCode === 200) bytes = rewrite({ program: match[1]!, transaction: match[2]!, url, accessToken, company }, bytes) ?? bytes;
            const headers = { ...answer.headers, 'content-length': String(bytes.length) };
            delete headers['transfer-encoding'];
            res.writeHead(answer.statusCode ?? 502, headers);
            res.end(bytes);
          });
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ionapi = Object.fromEntries(Object.entries(emulator.ionapi).map(([k, v]) => [k, v.split(emulator.url).join(url)]));
  return {
    url,
    ionapi,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type MiJson = { results?: { records?: Record<string, string>[] }[] };

/** Rewrites the records of an MI JSON answer (the first result's list). */
export function withRecords(body: Buffer, change: (records: Record<string, string>[]) => void): Buffer {
  const json = JSON.parse(body.toString('utf8')) as MiJson;
  change(json.results?.[0]?.records ?? []);
  return Buffer.from(JSON.stringify(json), 'utf8');
}

/** Replaces every occurrence of `marker` (ASCII) in the bytes with `bytes`: how invalid UTF-8 gets in. */
export function spliceBytes(body: Buffer, marker: string, bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (let at = body.indexOf(marker, from); at >= 0; at = body.indexOf(marker, from)) {
    parts.push(body.subarray(from, at), bytes);
    from = at + marker.length;
  }
  parts.push(body.subarray(from));
  return Buffer.concat(parts);
}

/** "Malmö" as ISO-8859-1: the ö (0xF6) is not UTF-8. What a proxy re-encoding to Latin-1 produces. */
export const LATIN1_MALMO = Buffer.from('Malmö', 'latin1');

/**
 * A CLI failure a user can act on: exit code 1, exactly one `error: …` line matching `message`, no stack
 * trace, not reported as "unexpected", and none of the secrets anywhere in the output.
 */
export function expectCliError(res: CliResult, message: RegExp, secrets: readonly string[] = []): string {
  const output = res.stdout + res.stderr;
  expect(res.code, output).toBe(1);
  const errors = res.stderr.split('\n').filter((line) => line.startsWith('error: '));
  expect(errors, res.stderr).toHaveLength(1);
  expect(errors[0]).toMatch(message);
  expect(output).not.toMatch(/unexpected error/);
  expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  for (const secret of secrets) expect(output.includes(secret), 'a secret in the CLI output').toBe(false);
  return errors[0]!;
}

/** Every file under `dir` (relative, sorted); [] when the folder does not exist. */
export async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
      .sort();
  } catch {
    return [];
  }
}
