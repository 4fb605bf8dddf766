// The port the staging code writes through: a local folder for the CLI, S3 in Lambda.
import type { Readable } from 'node:stream';
import { SyncError } from '../errors/syncError.ts';

export interface BlobStore {
  /** Stores the whole stream under key; the object appears only once it is complete. */
  put(key: string, body: Readable): Promise<void>;
  /** A stream of the stored bytes; rejects with BlobNotFoundError when there is no such key. */
  get(key: string): Promise<Readable>;
  /** Keys under the prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Removes the object; a key that is not there is no error. */
  delete(key: string): Promise<void>;
  /** A human-readable location for messages, e.g. s3://bucket/key or a file path. */
  describe(key: string): string;
  /**
   * The URL a warehouse reads the object (or folder) at, e.g. s3://bucket/key; absent where no warehouse can
   * read the store (a local folder). Copy-mode loads need it.
   */
  warehouseUrl?(key: string): string;
}

export class BlobNotFoundError extends SyncError {
  override name = 'BlobNotFoundError';
  constructor(readonly location: string, options?: ErrorOptions) {
    super(`staged object not found: ${location}`, options);
  }
}

/** Joins key segments with '/', skipping empty ones. */
export function joinKey(...parts: (string | undefined)[]): string {
  return parts
    .filter((p): p is string => p !== undefined && p !== '')
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
}
