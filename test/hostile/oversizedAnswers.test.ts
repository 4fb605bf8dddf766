// Oversized MI answers. A 100 MB answer used to be read whole (1.5 GB RSS: a 1 GB Lambda would be killed) and its
// 100 MB value sent back as the next page's start key ("network error persisted after 5 attempts"). Now an
// answer is refused by its Content-Length before it is read, or cut off once the bytes streamed in pass the
// limit; and a key value longer than its field's metadata length never becomes a start key or cursor. Each
// case fails the unit with one clear error and stages nothing. The big answers are generated lazily by the
// server (it stops writing when the client hangs up), so no test process holds them either.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { defaultCatalog } from '#shared/catalog/defaultCatalog.ts';
import { KeyValueTooLongError } from '#shared/extract/cursorValues.ts';
import { extractUnit } from '#shared/extract/extractUnit.ts';
import { ResponseTooLargeError } from '#shared/http/httpErrors.ts';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import { connect, emulatorConfig } from '../ionapi/support.ts';
import { runCli } from '../support/runCli.ts';
import { expectCliError, filesUnder, startMiProxy, USER_ENV, withRecords, type MiCallSeen } from './support/hostile.ts';

const MIB = 1024 * 1024;

/** Writes `total` bytes of an endless MI-looking JSON string, chunk by chunk as the client reads; counts what it wrote. */
function endlessAnswer(res: http.ServerResponse, total: number, declare: boolean, written: { bytes: number }): void {
  res.writeHead(200, { 'content-type': 'application/json', ...(declare ? { 'content-length': String(total) } : {}) });
  const chunk = Buffer.alloc(64 * 1024, 'S');
  const head = Buffer.from('{"results":[{"transaction":"LstSuppliers","records":[{"CONO":"100","SUNO":"');
  let sent = 0;
  let closed = false;
  res.on('close', () => (closed = true));
  const pump = () => {
    while (!closed && sent < total) {
      const piece = sent === 0 ? head : chunk.subarray(0, Math.min(chunk.length, total - sent));
      sent += piece.length;
      written.bytes += piece.length;
      if (!res.write(piece)) return void res.once('drain', pump);
    }
    if (!closed) res.end();
  };
  pump();
}

interface StreamingProxy {
  url: string;
  ionapi: Record<string, string>;
  written: { bytes: number };
  close(): Promise<void>;
}

/** In front of the emulator: LstSuppliers answers with `total` bytes; everything else (tokens too) passes through. */
async function oversizedSuppliers(emulator: CloudSuiteEmulator, total: number, declare: boolean): Promise<StreamingProxy> {
  const target = new URL(emulator.url);
  const written = { bytes: 0 };
  const server = http.createServer((req, res) => {
    if (req.url?.includes('/CRS620MI/LstSuppliers')) return endlessAnswer(res, total, declare, written);
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    written,
    ionapi: Object.fromEntries(Object.entries(emulator.ionapi).map(([k, v]) => [k, v.split(emulator.url).join(url)])),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let emulator: CloudSuiteEmulator;
let dir: string;

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 91 });
  dir = await mkdtemp(path.join(tmpdir(), 'hostile-oversized-'));
});
afterAll(() => emulator.close());

describe('an MI answer above the size limit', () => {
  it('`extract`: a 100 MB answer is refused by its Content-Length (default limit 32 MiB), unread; one clear error, nothing staged', async () => {
    const proxy = await oversizedSuppliers(emulator, 100 * MIB, true);
    try {
      const file = path.join(dir, 'declared.ionapi');
      await writeFile(file, JSON.stringify(proxy.ionapi));
      const out = path.join(dir, 'out-declared');
      const res = await runCli(['extract', '--ionapi', file, '--entity', 'suppliers', '--company', '100', '--out', out], { env: USER_ENV });
      expectCliError(
        res,
        /^error: CRS620MI\/LstSuppliers: the answer is 104857600 bytes \(Content-Length\), above the 33554432-byte limit; nothing was taken from it\. An MI page this large is not M3 data/,
        [emulator.ionapi.cs!, emulator.ionapi.sask!],
      );
      expect(res.stderr).not.toMatch(/network error|persisted after/);
      expect(await filesUnder(out)).toEqual([]);
      // The client hung up instead of reading: far less than the answer left the server.
      expect(proxy.written.bytes).toBeLessThan(100 * MIB);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('an answer without Content-Length is cut off once the streamed bytes pass the limit (maxAnswerBytes 1 MiB)', async () => {
    const proxy = await oversizedSuppliers(emulator, 64 * MIB, false);
    try {
      const { mi } = connect(emulator, { config: emulatorConfig(emulator, { iu: proxy.url }), mi: { maxAnswerBytes: MIB } });
      const failure = await mi.execute({ program: 'CRS620MI', transaction: 'LstSuppliers', inputs: { CONO: '100' } }).then(() => undefined, (e: unknown) => e as Error);
      expect(failure).toBeInstanceOf(ResponseTooLargeError);
      expect(failure!.message).toMatch(/^CRS620MI\/LstSuppliers: the answer is more than 1048576 bytes \(stopped reading there\), above the 1048576-byte limit; nothing was taken from it\./);
      expect(proxy.written.bytes).toBeLessThan(64 * MIB);
    } finally {
      await proxy.close();
    }
  }, 60_000);
});

describe('a key value longer than its field (below the size limit)', () => {
  const LONG = 5_000;

  async function extractThrough(entityId: string, rewrite: (call: MiCallSeen, body: Buffer) => Buffer | undefined) {
    const calls: MiCallSeen[] = [];
    const proxy = await startMiProxy(emulator, (call, body) => {
      calls.push(call);
      return rewrite(call, body);
    });
    const root = await mkdtemp(path.join(tmpdir(), 'hostile-longkey-'));
    try {
      const { mi } = connect(emulator, { config: emulatorConfig(emulator, { iu: proxy.url }) });
      const failure = await extractUnit({
        tenant: 'ACME_PRD', entity: defaultCatalog.get(entityId)!, company: '100', division: '', runId: 'r1', runStartedAt: new Date().toISOString(),
        window: { since: null, until: null }, mi, store: new LocalFolderBlobStore(root), unitPrefix: `runs/${entityId}/100`,
      }).then(() => undefined, (e: unknown) => e as Error);
      return { failure, calls, staged: await new LocalFolderBlobStore(root).list('') };
    } finally {
      await proxy.close();
    }
  }

  it('an MI list: the page is refused before its last SUNO becomes the next start key (FRSU)', async () => {
    const { failure, calls, staged } = await extractThrough('suppliers', (call, body) =>
      call.transaction === 'LstSuppliers' ? withRecords(body, (records) => void (records.at(-1)!.SUNO = 'S'.repeat(LONG))) : undefined,
    );
    expect(failure).toBeInstanceOf(KeyValueTooLongError);
    expect(failure!.message).toMatch(
      /^CRS620MI\/LstSuppliers \(company 100\): key field SUNO of the page's last record holds 5000 characters \(starting "SSSSSSSSSSSSSSSSSSSS"\), more than its length A10 in M3's metadata; it would be sent back as the next call's start key, so nothing of this page was staged\./,
    );
    expect(calls.filter((c) => c.transaction === 'LstSuppliers')).toHaveLength(1);
    expect(calls.every((c) => (c.url.searchParams.get('FRSU') ?? '').length <= 10)).toBe(true);
    expect(staged).toEqual([]);
  });

  it('EXPORTMI: the page is refused before its last PUNO becomes a key-cursor condition', async () => {
    const { failure, calls, staged } = await extractThrough('purchase_orders', (call, body) => {
      const query = call.url.searchParams.get('QERY') ?? '';
      const separator = call.url.searchParams.get('SEPC');
      if (call.program !== 'EXPORTMI' || !query.includes(' from MPHEAD') || !separator) return undefined;
      // Every column group of the page gets the same long PUNO in its last row, so the groups still join.
      const columns = query.split(' from ')[0]!.split(', ');
      const at = columns.indexOf('IAPUNO');
      return withRecords(body, (records) => {
        const last = records.at(-1);
        if (!last || at < 0) return;
        const values = last.REPL!.split(separator);
        values[at] = 'P'.repeat(LONG);
        last.REPL = values.join(separator);
      });
    });
    expect(failure).toBeInstanceOf(KeyValueTooLongError);
    expect(failure!.message).toMatch(/^EXPORTMI\/Select on MPHEAD \(company 100\): key field PUNO of the page's last record holds 5000 characters/);
    expect(calls.every((c) => !(c.url.searchParams.get('QERY') ?? '').includes('P'.repeat(100)))).toBe(true);
    expect(staged).toEqual([]);
  });
});
