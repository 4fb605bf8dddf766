// The folder state table under the local sync's real-systems path: what the folder adds to the contract tests
// (test/state/*.test.ts run every port on it): one process per state folder, changes that are all-or-nothing
// and serialized per partition, clear errors for a damaged file, and DynamoDB's TTL clean-up.
import { mkdir, mkdtemp, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderStateTable, LocalStateError } from '#shared/state/folderStateTable.ts';
import { folderSyncState } from '#shared/state/folderSyncState.ts';

const newDir = () => mkdtemp(path.join(tmpdir(), 'folder-table-'));

describe('the folder state table', () => {
  it('is used by one process at a time: a second opener is refused, naming the folder; after close the state is there', async () => {
    const dir = await newDir();
    const table = await FolderStateTable.open(dir);
    await folderSyncState({ table }).watermarks.advance(
      { tenant: 'ACME_PRD', entity: 'suppliers', company: '100', division: '' },
      { changeDate: '20261120', changeStamp: '2026112000001000000000000000001', runId: 'r1' },
    );
    const refused = await FolderStateTable.open(dir).then(() => undefined, (e: unknown) => e as Error);
    expect(refused).toBeInstanceOf(LocalStateError);
    expect(refused!.message).toBe(`${dir} is in use by another cloudsuite-sync process (one process at a time per state folder): wait for it to finish, or use another --state-dir`);
    await table.close();

    const again = await FolderStateTable.open(dir);
    expect(await folderSyncState({ table: again }).watermarks.list('ACME_PRD')).toMatchObject([{ entity: 'suppliers', runId: 'r1' }]);
    await again.close();
  });

  it('takes over the lock of a process that died (not refreshed for longer than the stale time)', async () => {
    const dir = await newDir();
    const lock = path.join(dir, '.lock');
    await mkdir(lock);
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    const table = await FolderStateTable.open(dir);
    await table.close();
  });

  it('applies concurrent changes of one partition one after another, and writes nothing for a change that throws', async () => {
    const dir = await newDir();
    const table = await FolderStateTable.open(dir);
    const bump = () => table.change('counter#x', (p) => p.set('n', { n: ((p.get('n')?.n as number | undefined) ?? 0) + 1 }));
    await Promise.all(Array.from({ length: 50 }, bump));
    expect(await table.get('counter#x', 'n')).toEqual({ n: 50 });

    const failed = await table.change('counter#x', (p) => {
      p.set('n', { n: -1 });
      throw new Error('condition failed');
    }).catch((e: unknown) => e as Error);
    expect(failed.message).toBe('condition failed');
    expect(await table.get('counter#x', 'n')).toEqual({ n: 50 });
    await table.close();
    // Complete files only: no temporary file is left beside them.
    const files = (await readdir(dir)).filter((f) => f !== '.lock');
    expect(files).toHaveLength(1);
    expect(JSON.parse(await readFile(path.join(dir, files[0]!), 'utf8'))).toMatchObject({ pk: 'counter#x', items: { n: { n: 50 } } });
  });

  it('says which file is damaged and what to do', async () => {
    const dir = await newDir();
    const table = await FolderStateTable.open(dir);
    await table.change('run#exec-1', (p) => p.set('run', { status: 'running' }));
    await table.close();
    const [file] = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    await writeFile(path.join(dir, file!), '{"pk": "run#exec-1", "items": {"run": {"sta');
    const error = await FolderStateTable.open(dir).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(LocalStateError);
    expect(error!.message).toMatch(new RegExp(`^${path.join(dir, file!).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a state file of cloudsuite-sync \\(.*\\): restore it, or delete the state folder to start over$`));
  });

  it('deletes partitions whose items have all expired when it opens (DynamoDB\'s TTL), and keeps the rest', async () => {
    const dir = await newDir();
    const table = await FolderStateTable.open(dir);
    const past = Math.floor(Date.now() / 1000) - 10;
    const future = past + 86_400;
    await table.change('run#old', (p) => (p.set('run', { ttl: past }), p.set('unit#a', { ttl: past })));
    await table.change('run#mixed', (p) => (p.set('run', { ttl: future }), p.set('unit#a', { ttl: past })));
    await table.change('wm#ACME_PRD', (p) => p.set('suppliers#100#', { changeStamp: '1' }));
    await table.close();

    const reopened = await FolderStateTable.open(dir);
    expect(await reopened.query('run#old')).toEqual([]);
    expect(await reopened.query('run#mixed')).toHaveLength(2);
    expect(await reopened.query('wm#ACME_PRD')).toHaveLength(1);
    expect((await readdir(dir)).filter((f) => f.endsWith('.json'))).toHaveLength(2);
    await reopened.close();
  });
});
