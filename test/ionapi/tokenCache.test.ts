// The shared ION API token cache (the TokenCache port) on both adapters: DynamoDB + an Encryptor (Lambdas,
// the local sync's emulator path) and the state folder (the local sync with real systems). One token per
// tenant, sealed at rest, and a lock so one caller at a time obtains a new one.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalKeyEncryptor } from '#shared/aws/encryptor.ts';
import { keyOf } from '#shared/state/stateTable.ts';
import { capturingLog } from '../support/cloudSuite.ts';
import { stateBackends } from '../support/stateBackends.ts';

const TOKEN = { accessToken: 'eyJ-canary-access-token-0001', refreshToken: 'canary-refresh-token-0002', expiresAtMs: Date.now() + 7_200_000, obtainedAtMs: Date.now() };

describe.each(stateBackends())('the token cache on $name', (backend) => {
  afterAll(() => backend.close());

  it('shares one token per tenant and stores it sealed: the item holds no readable token', async () => {
    const state = await backend.fresh();
    const keyFile = path.join(await mkdtemp(path.join(tmpdir(), 'token-key-')), 'token-cache.key');
    const encryptor = await LocalKeyEncryptor.fromKeyFile(keyFile);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const writer = state.tokens({ encryptor });
    const reader = state.tokens({ encryptor: await LocalKeyEncryptor.fromKeyFile(keyFile) });

    expect(await reader.read('ACME_PRD')).toBeUndefined();
    await writer.write('ACME_PRD', TOKEN);
    expect(await reader.read('ACME_PRD')).toEqual(TOKEN);
    expect(await reader.read('OTHER')).toBeUndefined();

    const item = await state.rawItem(keyOf('token', 'ACME_PRD'), 'token');
    const stored = JSON.stringify(item);
    expect(stored).not.toContain(TOKEN.accessToken);
    expect(stored).not.toContain(TOKEN.refreshToken);
    expect(item).toMatchObject({ kind: 'token', expiresAtMs: TOKEN.expiresAtMs, ttl: expect.any(Number) });
    expect(await readFile(keyFile, 'utf8')).not.toContain(TOKEN.accessToken);
  });

  it('treats a token sealed under another key or for another tenant as absent (a new one is obtained)', async () => {
    const state = await backend.fresh();
    const log = capturingLog();
    const mine = state.tokens({ encryptor: LocalKeyEncryptor.fromKey(randomBytes(32)), log });
    const theirs = state.tokens({ encryptor: LocalKeyEncryptor.fromKey(randomBytes(32)), log });
    await theirs.write('ACME_PRD', TOKEN);
    expect(await mine.read('ACME_PRD')).toBeUndefined();
    expect(log.lines.map((l) => l.message)).toContain('the cached ION API token cannot be opened; a new one will be obtained');
    expect(JSON.stringify(log.lines)).not.toContain(TOKEN.accessToken);
  });

  it('lets one process at a time renew: the lock is exclusive, expires, and only its holder releases it', async () => {
    const state = await backend.fresh();
    let now = 1_000_000;
    const cache = state.tokens({ encryptor: LocalKeyEncryptor.fromKey(randomBytes(32)), now: () => now });
    const first = await cache.tryLock('ACME_PRD', 30_000);
    expect(first).toBeDefined();
    expect(await cache.tryLock('ACME_PRD', 30_000)).toBeUndefined();
    expect(await cache.tryLock('OTHER', 30_000)).toBeDefined();
    now += 31_000;
    const second = await cache.tryLock('ACME_PRD', 30_000);
    expect(second).toBeDefined();
    await first!.release(); // expired holder: must not free its successor's lock
    expect(await cache.tryLock('ACME_PRD', 30_000)).toBeUndefined();
    await second!.release();
    expect(await cache.tryLock('ACME_PRD', 30_000)).toBeDefined();
  });
});
