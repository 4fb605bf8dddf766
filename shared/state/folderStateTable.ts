// The state table in a local folder, for the local sync against real systems (no DynamoDB emulator to start):
// the items of the DynamoDB table (stateTable.ts: pk, sk, kind, ttl), one JSON file per partition key. Every
// change is a read-check-write of one partition, serialized within the process and written atomically (a
// temporary file renamed over the old one: a crash leaves the previous or the next version, never a torn
// one), which gives the adapters the single-item conditional writes DynamoDB gives theirs.
// One process at a time: open() takes an exclusive lock on the folder (proper-lockfile, refreshed while held,
// taken over only once it is stale, i.e. its holder died); a second process is refused with LocalStateError.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
import { SyncError } from '../errors/syncError.ts';
import { isLive } from './stateTable.ts';

/** An item as DynamoDB's document client would return it: JSON values only. */
export type StateItem = Record<string, unknown>;

/** The problem is in the state folder (in use, unreadable, lock lost); the message says which file and what to do. */
export class LocalStateError extends SyncError {
  override name = 'LocalStateError';
}

/**
 * The items of one partition key by sort key, as a change function sees them. Replace an item with set()
 * (never edit one in place): only a partition that was set or deleted is written back.
 */
export class Partition {
  private changed = false;

  constructor(private readonly items: Map<string, StateItem>) {}

  get(sk: string): StateItem | undefined {
    return this.items.get(sk);
  }

  set(sk: string, item: StateItem): void {
    this.items.set(sk, item);
    this.changed = true;
  }

  delete(sk: string): boolean {
    const had = this.items.delete(sk);
    this.changed ||= had;
    return had;
  }

  get isChanged(): boolean {
    return this.changed;
  }

  entries(): [string, StateItem][] {
    return [...this.items.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

interface PartitionFile {
  pk: string;
  items: Record<string, StateItem>;
}

/** How long a held lock lasts without a refresh before another process may take it over (ms). */
const LOCK_STALE_MS = 10_000;

export class FolderStateTable {
  private readonly queues = new Map<string, Promise<unknown>>();
  private lost: Error | undefined;

  private constructor(
    readonly dir: string,
    private readonly unlock: () => Promise<void>,
  ) {}

  /** Opens (creating it if needed) the state folder and locks it for this process until close(). */
  static async open(dir: string): Promise<FolderStateTable> {
    await mkdir(dir, { recursive: true });
    let table: FolderStateTable | undefined;
    let unlock: () => Promise<void>;
    try {
      unlock = await lockfile.lock(dir, {
        lockfilePath: path.join(dir, '.lock'),
        stale: LOCK_STALE_MS,
        retries: 0,
        // The default throws from a timer (the process dies); here the next state operation fails instead.
        onCompromised: (error) => {
          if (table) table.lost = error;
        },
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
        throw new LocalStateError(
          `${dir} is in use by another cloudsuite-sync process (one process at a time per state folder): wait for it to finish, or use another --state-dir`,
          { cause: error },
        );
      }
      throw new LocalStateError(`${dir}: cannot lock the state folder: ${(error as Error).message}`, { cause: error });
    }
    table = new FolderStateTable(dir, unlock);
    await table.removeExpiredPartitions();
    return table;
  }

  /** The item, or undefined (expired items too: the adapters check ttl, as they do on DynamoDB). */
  async get(pk: string, sk: string): Promise<StateItem | undefined> {
    return (await this.read(pk)).get(sk);
  }

  /** The partition's items whose sort key starts with the prefix, in sort-key order. */
  async query(pk: string, skPrefix = ''): Promise<StateItem[]> {
    return [...(await this.read(pk)).entries()].filter(([sk]) => sk.startsWith(skPrefix)).map(([, item]) => item);
  }

  /**
   * Runs `change` on the partition's current items and writes the partition back if it set or deleted
   * anything; changes of one partition run one after another. What `change` throws aborts the change.
   */
  change<T>(pk: string, change: (partition: Partition) => T): Promise<T> {
    const run = async () => {
      this.checkLock();
      const partition = new Partition(await this.read(pk));
      const result = change(partition);
      if (partition.isChanged) await this.write(pk, partition);
      return result;
    };
    const previous = this.queues.get(pk) ?? Promise.resolve();
    const next = previous.then(run);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(pk, settled);
    void settled.then(() => {
      if (this.queues.get(pk) === settled) this.queues.delete(pk);
    });
    return next;
  }

  /** Waits for pending changes and releases the folder's lock. */
  async close(): Promise<void> {
    await Promise.all(this.queues.values());
    await this.unlock().catch(() => undefined);
  }

  private fileOf(pk: string): string {
    // Readable, and unique whatever the file system's case sensitivity or the key's characters.
    const readable = pk.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').slice(0, 60);
    const hash = createHash('sha256').update(pk).digest('hex').slice(0, 16);
    return path.join(this.dir, `${readable}.${hash}.json`);
  }

  private async read(pk: string): Promise<Map<string, StateItem>> {
    const file = this.fileOf(pk);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw new LocalStateError(`${file}: cannot read the state file: ${(error as Error).message}`, { cause: error });
    }
    return new Map(Object.entries(parsePartition(file, text).items));
  }

  private async write(pk: string, partition: Partition): Promise<void> {
    const file: PartitionFile = { pk, items: Object.fromEntries(partition.entries()) };
    try {
      await writeFileAtomic(this.fileOf(pk), `${JSON.stringify(file, null, 1)}\n`, { mode: 0o600 });
    } catch (error) {
      throw new LocalStateError(`${this.fileOf(pk)}: cannot write the state file: ${(error as Error).message}`, { cause: error });
    }
  }

  private checkLock(): void {
    if (this.lost) {
      throw new LocalStateError(
        `${this.dir}: this process lost its lock on the state folder (${this.lost.message}); another process may be using it: stop, and run again`,
        { cause: this.lost },
      );
    }
  }

  /** What DynamoDB's TTL does eventually: partitions whose every item has expired (old runs) are deleted. */
  private async removeExpiredPartitions(): Promise<void> {
    const now = Date.now();
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const file = path.join(this.dir, name);
      const { items } = parsePartition(file, await readFile(file, 'utf8'));
      const all = Object.values(items);
      if (all.length > 0 && all.every((item) => typeof item.ttl === 'number' && !isLive(item, now))) await rm(file, { force: true });
    }
  }
}

function parsePartition(file: string, text: string): PartitionFile {
  try {
    const parsed = JSON.parse(text) as PartitionFile;
    if (typeof parsed?.pk === 'string' && parsed.items && typeof parsed.items === 'object') return parsed;
  } catch (error) {
    throw new LocalStateError(`${file} is not a state file of cloudsuite-sync (${(error as Error).message}): restore it, or delete the state folder to start over`, {
      cause: error,
    });
  }
  throw new LocalStateError(`${file} is not a state file of cloudsuite-sync (no pk and items): restore it, or delete the state folder to start over`);
}
