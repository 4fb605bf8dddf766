// The local state folder (default .cloudsuite-sync) and what `sync --reset` may delete. The tool marks a
// folder as its own with a marker file when it creates it (or finds it empty), and --reset deletes only a
// folder with that marker, or an empty one: `--state-dir . --reset` used to `rm -rf` a working tree (found by
// the hardening review). Anything else is refused with the path named, and nothing is deleted.
import { lstat, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../shared/config/configError.ts';

/** The file that says "this folder is a cloudsuite-sync state folder, created by the tool". */
export const STATE_FOLDER_MARKER = '.cloudsuite-sync-state';

/** --reset was asked to delete a folder the tool did not create. */
export class StateFolderError extends ConfigError {
  override name = 'StateFolderError';
}

/** The entries of `dir`; undefined when it does not exist. */
async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw new StateFolderError(`state folder ${dir} is a file, not a folder; choose another --state-dir`, [], { cause: error });
    throw error;
  }
}

async function hasMarker(dir: string): Promise<boolean> {
  const marker = await lstat(path.join(dir, STATE_FOLDER_MARKER)).catch(() => undefined);
  return marker?.isFile() === true;
}

/**
 * Creates the state folder if needed. The marker goes into a folder created now or found empty, never into a
 * folder that already holds something else: that one stays the user's, and --reset will refuse it.
 */
export async function ensureStateFolder(dir: string): Promise<void> {
  const entries = await entriesOf(dir);
  if (entries !== undefined && entries.length > 0) return;
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, STATE_FOLDER_MARKER),
    'This folder holds the local state of cloudsuite-sync (watermarks, run ledger, staged files, the local warehouse).\n' +
      '`cloudsuite-sync sync --reset` deletes it; without this file it refuses to.\n',
    { flag: 'wx' },
  ).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
}

/** Deletes the state folder for `sync --reset`: only one the tool created (the marker) or an empty one. */
export async function resetStateFolder(dir: string): Promise<void> {
  const entries = await entriesOf(dir);
  if (entries === undefined) return;
  if (entries.length > 0 && !(await hasMarker(dir))) {
    const shown = entries.slice(0, 3).map((e) => JSON.stringify(e)).join(', ');
    throw new StateFolderError(
      `--reset refuses to delete ${dir}: it is not a state folder this tool created (no ${STATE_FOLDER_MARKER} file in it) and it is ` +
        `not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, e.g. ${shown}); nothing was deleted. Give --state-dir the ` +
        'folder of an earlier sync, or delete this one yourself if that is really what you want',
    );
  }
  await rm(dir, { recursive: true, force: true });
}
