// TableLease over the folder state table (folderStateTable.ts), with the items and guarantees of
// DynamoTableLease: acquire takes a free or expired lease, renew and release act only for the acquisition
// that holds it (holder and token), each one change of the lease's partition.
import { randomUUID } from 'node:crypto';
import type { FolderStateTable, StateItem } from './folderStateTable.ts';
import { epochSeconds, keyOf } from './stateTable.ts';
import { LeaseLostError, type Lease, type LeaseInfo, type TableLease } from './tableLease.ts';

export interface FolderTableLeaseOptions {
  table: FolderStateTable;
  now?: () => number;
}

const LEASE_SK = 'lease';
const CLEANUP_AFTER_S = 86_400;

const pkOf = (tableName: string) => keyOf('lease', tableName);

function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new Error(`lease ttlMs must be a positive number, got ${ttlMs}`);
}

function holds(item: StateItem | undefined, lease: Lease): item is StateItem {
  return item !== undefined && item.holder === lease.holder && item.token === lease.token;
}

export class FolderTableLease implements TableLease {
  private readonly table: FolderStateTable;
  private readonly now: () => number;

  constructor(options: FolderTableLeaseOptions) {
    this.table = options.table;
    this.now = options.now ?? Date.now;
  }

  async acquire(tableName: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    checkTtl(ttlMs);
    const nowMs = this.now();
    const pk = pkOf(tableName);
    return this.table.change(pk, (partition) => {
      const current = partition.get(LEASE_SK);
      if (current !== undefined && !((current.expiresAt as number) < nowMs)) return undefined;
      const lease: Lease = { tableName, holder, token: randomUUID(), acquiredAt: new Date(nowMs).toISOString(), expiresAtMs: nowMs + ttlMs };
      partition.set(LEASE_SK, {
        pk, sk: LEASE_SK, kind: 'lease', tableName, holder, token: lease.token, acquiredAt: lease.acquiredAt,
        expiresAt: lease.expiresAtMs, ttl: epochSeconds(lease.expiresAtMs) + CLEANUP_AFTER_S,
      });
      return lease;
    });
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease> {
    checkTtl(ttlMs);
    const expiresAtMs = this.now() + ttlMs;
    return this.table.change(pkOf(lease.tableName), (partition) => {
      const current = partition.get(LEASE_SK);
      if (!holds(current, lease)) throw new LeaseLostError(lease.tableName, lease.holder);
      partition.set(LEASE_SK, { ...current, expiresAt: expiresAtMs, ttl: epochSeconds(expiresAtMs) + CLEANUP_AFTER_S });
      return { ...lease, expiresAtMs };
    });
  }

  async release(lease: Lease): Promise<boolean> {
    return this.table.change(pkOf(lease.tableName), (partition) => holds(partition.get(LEASE_SK), lease) && partition.delete(LEASE_SK));
  }

  async current(tableName: string): Promise<LeaseInfo | undefined> {
    const item = await this.table.get(pkOf(tableName), LEASE_SK);
    if (item === undefined || (item.expiresAt as number) < this.now()) return undefined;
    return { tableName: item.tableName as string, holder: item.holder as string, acquiredAt: item.acquiredAt as string, expiresAtMs: item.expiresAt as number };
  }
}
