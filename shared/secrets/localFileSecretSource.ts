// SecretSource over a local folder with one file per secret (the file name is the secret name; a name
// with '/' is a sub-folder path): what the local sync and the tests use in place of Secrets Manager.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SecretAccessError, SecretNotFoundError, type SecretSource } from './secretSource.ts';

export class LocalFileSecretSource implements SecretSource {
  constructor(readonly folder: string) {}

  private pathOf(name: string): string {
    const root = path.resolve(this.folder);
    const file = path.resolve(root, name);
    if (name === '' || path.isAbsolute(name) || !file.startsWith(root + path.sep)) {
      throw new SecretAccessError(name, `the name must be a relative file name inside ${root}`);
    }
    return file;
  }

  async getSecretString(name: string): Promise<string> {
    const file = this.pathOf(name);
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new SecretNotFoundError(name, `the folder ${path.resolve(this.folder)}`, { cause: error });
      throw new SecretAccessError(name, `reading ${file} failed (${code ?? 'read error'})`, { cause: error });
    }
  }
}
