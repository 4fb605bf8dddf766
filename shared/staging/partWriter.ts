// Writes one staged part file: JSON lines, gzip, streamed to the blob store with bounded memory,
// hashing the stored bytes on the way so the manifest can vouch for them.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, pipeline, Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { BlobStore } from './blobStore.ts';
import type { StagedFile } from './manifest.ts';

export class PartWriter {
  private readonly gzip = createGzip({ level: 6 });
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private records = 0;
  private readonly stored: Promise<void>;
  private failure: unknown;

  constructor(store: BlobStore, key: string, readonly name: string) {
    const hashing = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.hash.update(chunk);
        this.bytes += chunk.length;
        done(null, chunk);
      },
    });
    const body = new PassThrough();
    // pipeline carries an error either way: a failed store stops the writer, an aborted writer
    // fails the store's upload so no partial object appears.
    pipeline(this.gzip, hashing, body, (error) => {
      if (error) this.failure ??= error;
    });
    this.stored = store.put(key, body);
    this.stored.catch((error: unknown) => {
      this.failure = error;
      this.gzip.destroy();
    });
  }

  get recordCount(): number {
    return this.records;
  }

  async write(line: string): Promise<void> {
    if (this.failure) throw this.failure;
    this.records += 1;
    if (!this.gzip.write(line + '\n')) await once(this.gzip, 'drain');
  }

  async finish(): Promise<StagedFile> {
    this.gzip.end();
    await this.stored;
    return { name: this.name, records: this.records, sha256: this.hash.digest('hex'), bytes: this.bytes };
  }

  /** Stops writing after a failure elsewhere; the partial object never appears in the store. */
  abort(error: Error): void {
    this.gzip.destroy(error);
  }
}
