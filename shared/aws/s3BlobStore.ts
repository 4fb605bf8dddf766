// BlobStore over S3: what the extract and load Lambdas stage through. Uploads stream in multipart
// parts with bounded memory; the object appears only when the upload completes, and a failed upload
// is aborted so no partial object or orphaned parts remain. Integrity is checked by the staging layer
// (sha256 in the manifest), not by S3 checksum headers, so the same code runs against the local emulator.
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { BlobNotFoundError, joinKey, type BlobStore } from '../staging/blobStore.ts';

const MIB = 1024 * 1024;

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Prefix under which every key of this store lives, e.g. "staging"; keys are relative to it. */
  prefix?: string;
  /** Multipart part size (S3 minimum 5 MiB). Memory held per upload is about partSize × queueSize. */
  partSizeBytes?: number;
  /** Parts uploaded in parallel per upload. */
  queueSize?: number;
}

export class S3BlobStore implements BlobStore {
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(options: S3BlobStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = joinKey(options.prefix);
    this.partSize = Math.max(5 * MIB, options.partSizeBytes ?? 8 * MIB);
    this.queueSize = Math.max(1, options.queueSize ?? 2);
  }

  private fullKey(key: string): string {
    if (joinKey(key) === '') throw new Error(`staging key "${key}" is empty`);
    return joinKey(this.prefix, key);
  }

  async put(key: string, body: Readable): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.fullKey(key), Body: body },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      // The upload stops reading on failure: release the source so its producer is not left blocked.
      body.destroy();
      throw error;
    }
  }

  async get(key: string): Promise<Readable> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
      // In Node the body is an http.IncomingMessage (a Readable) mixed with SDK helpers.
      return response.Body as Readable;
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') {
        throw new BlobNotFoundError(this.describe(key), { cause: error });
      }
      if ((error as { name?: string }).name === 'AccessDenied' && !(await this.exists(key))) {
        throw new BlobNotFoundError(this.describe(key), { cause: error });
      }
      throw error;
    }
  }

  /**
   * S3 answers a missing key with 403 unless the caller may list the bucket, and a role's listing may be
   * limited to a prefix (Plan may list only plans/): asking for exactly this key tells a missing object
   * from a denied one. True when it exists or the listing is denied too (then the 403 stands).
   */
  private async exists(key: string): Promise<boolean> {
    const fullKey = this.fullKey(key);
    try {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: fullKey, MaxKeys: 1 }));
      return (page.Contents ?? []).some((object) => object.Key === fullKey);
    } catch {
      return true;
    }
  }

  /** Keys under the prefix (a folder: "a/b" lists "a/b/…", not "a/bc"), relative to the store prefix, sorted. */
  async list(prefix: string): Promise<string[]> {
    const folder = joinKey(this.prefix, prefix);
    const s3Prefix = folder === '' ? undefined : `${folder}/`;
    const strip = this.prefix === '' ? 0 : this.prefix.length + 1;
    const keys: string[] = [];
    const pages = paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: s3Prefix });
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) keys.push(object.Key.slice(strip));
      }
    }
    return keys.sort();
  }

  /** S3 answers a missing key with 204 like any other delete. */
  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
  }

  describe(key: string): string {
    return `s3://${this.bucket}/${joinKey(this.prefix, key)}`;
  }

  /** Where a warehouse reads the object: its s3:// URL (through an external location over the bucket). */
  warehouseUrl(key: string): string {
    return `s3://${this.bucket}/${joinKey(this.prefix, key)}`;
  }
}
