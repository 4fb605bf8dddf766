// `sync --reset` deletes only a state folder the tool created (it carries a marker file) or an empty one.
// `--state-dir . --reset` in a working tree used to `rm -rf` it. Here the CLI is run as a user would, in a
// folder that looks like a checkout: it refuses with the path named, and every file is still there.
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureStateFolder, resetStateFolder, STATE_FOLDER_MARKER, StateFolderError } from '../../infra/local/stateFolder.ts';
import { runCli } from '../support/runCli.ts';
import { expectCliError, filesUnder, USER_ENV } from './support/hostile.ts';

/** A folder with what a working tree holds. */
async function workingTree(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hostile-reset-'));
  await mkdir(path.join(dir, '.git'));
  await writeFile(path.join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  await mkdir(path.join(dir, 'src'));
  await writeFile(path.join(dir, 'src', 'index.ts'), 'export {};\n');
  await writeFile(path.join(dir, 'README.md'), '# my project\n');
  return dir;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('sync --reset on a folder the tool did not create', () => {
  it('`--state-dir . --reset` in a working tree: refused naming the folder; nothing is deleted or written', async () => {
    const dir = await workingTree();
    const before = await filesUnder(dir);
    const res = await runCli(['sync', '--state-dir', '.', '--reset'], { cwd: dir, env: USER_ENV });
    expectCliError(res, new RegExp(`^error: --reset refuses to delete ${escape(dir)}: it is not a state folder this tool created \\(no ${escape(STATE_FOLDER_MARKER)} file in it\\) and it is not empty \\(3 entries, e\\.g\\. `));
    expect(res.stderr).toMatch(/nothing was deleted/);
    expect(await filesUnder(dir)).toEqual(before);
    expect(await readdir(dir)).not.toContain(STATE_FOLDER_MARKER);
  }, 60_000);

  it('an explicit path to any non-empty folder is refused the same way; a file is refused as not a folder', async () => {
    const dir = await workingTree();
    await expect(resetStateFolder(path.join(dir, 'src'))).rejects.toThrow(StateFolderError);
    await expect(resetStateFolder(path.join(dir, 'src'))).rejects.toThrow(new RegExp(`^--reset refuses to delete ${escape(path.join(dir, 'src'))}: .*1 entry, e\\.g\\. "index\\.ts"`));
    await expect(resetStateFolder(path.join(dir, 'README.md'))).rejects.toThrow(/is a file, not a folder/);
    expect(await filesUnder(dir)).toEqual(['.git/HEAD', 'README.md', 'src/index.ts']);
  });

  it('a folder the tool used but did not create (it held files first) is not marked, so --reset still refuses it', async () => {
    const dir = await workingTree();
    await ensureStateFolder(dir);
    expect(await readdir(dir)).not.toContain(STATE_FOLDER_MARKER);
    await expect(resetStateFolder(dir)).rejects.toThrow(StateFolderError);
  });
});

describe('sync --reset on a folder the tool created', () => {
  it('a state folder created by the tool is marked, and --reset deletes it with everything in it', async () => {
    const parent = await mkdtemp(path.join(tmpdir(), 'hostile-reset-own-'));
    const state = path.join(parent, '.cloudsuite-sync');
    await ensureStateFolder(state);
    expect(await readdir(state)).toEqual([STATE_FOLDER_MARKER]);
    await mkdir(path.join(state, 'dynamodb'));
    await writeFile(path.join(state, 'dynamodb', 'data'), 'x');
    await resetStateFolder(state);
    expect(await readdir(parent)).toEqual([]);
  });

  it('an empty folder (e.g. from mkdtemp) or a missing one may be reset, and is marked when first used', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'hostile-reset-empty-'));
    await resetStateFolder(empty);
    await resetStateFolder(path.join(empty, 'missing'));
    await ensureStateFolder(empty);
    expect(await readdir(empty)).toEqual([STATE_FOLDER_MARKER]);
  });
});
