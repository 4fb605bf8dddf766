// BlobStore over a local folder: what `extract --out DIR` and the local sync use.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobNotFoundError, type BlobStore } from './blobStore.ts';

export class LocalFolderBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  private pathOf(key: string): string {
    const resolved = path.resolve(this.root, key);
    const root = path.resolve(this.root);
    if (resolved !== root && !resolved.startsWith(root + path.sep)) {
      throw new Error(`staging key "${key}" points outside ${root}`);
    }
    return resolved;
  }

  async put(key: string, body: Readable): Promise<void> {
    const file = this.pathOf(key);
    await mkdir(path.dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    try {
      await pipeline(body, createWriteStream(partial));
      await rename(partial, file);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<Readable> {
    const file = this.pathOf(key);
    try {
      await stat(file);
    } catch (error) {
      throw new BlobNotFoundError(this.describe(key), { cause: error });
    }
    return createReadStream(file);
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.pathOf(prefix);
    let entries: string[];
    try {
      entries = (await readdir(base, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile() && !e.name.endsWith('.partial'))
        .map((e) => path.relative(path.resolve(this.root), path.join(e.parentPath, e.name)).split(path.sep).join('/'));
    } catch {
      return [];
    }
    return entries.sort();
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  describe(key: string): string {
    return this.pathOf(key);
  }
}
