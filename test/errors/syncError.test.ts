// One rooted error hierarchy: every error class in shared/ is a SyncError, and whether one is worth trying
// again later is a property of its class.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTransient, SyncError } from '#shared/errors/syncError.ts';
import { TransientError } from '#shared/http/transientError.ts';
import { ConfigError } from '#shared/config/configError.ts';
import { LoadError, VanishedKeysError, WarehouseError, WarehouseUnavailableError } from '#shared/load/loadErrors.ts';
import { MiError, MiProtocolError } from '#shared/m3/miErrors.ts';
import { DeadlineExceededError } from '#shared/runtime/deadline.ts';
import { LeaseLostError, LeaseUnavailableError } from '#shared/state/tableLease.ts';

const SHARED = path.resolve(import.meta.dirname, '../../shared');

/** Every class exported by a module of shared/ that is an Error. */
async function sharedErrorClasses(): Promise<{ where: string; cls: new (...args: never[]) => Error }[]> {
  const files = (await readdir(SHARED, { recursive: true })).filter((f) => f.endsWith('.ts')).sort();
  const found: { where: string; cls: new (...args: never[]) => Error }[] = [];
  for (const file of files) {
    const module = (await import(path.join(SHARED, file))) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) {
      if (typeof value === 'function' && value.prototype instanceof Error) found.push({ where: `shared/${file}: ${name}`, cls: value as never });
    }
  }
  return found;
}

describe('SyncError', () => {
  it('is the root of every error class shared/ exports', async () => {
    const classes = await sharedErrorClasses();
    expect(classes.length).toBeGreaterThan(25);
    const outside = classes.filter(({ cls }) => (cls as unknown) !== SyncError && !(cls.prototype instanceof SyncError)).map(({ where }) => where);
    expect(outside).toEqual([]);
  });

  it('tells transient errors from the others by class', () => {
    const transient = [
      new TransientError('CRS620MI/LstSuppliers: HTTP 503 persisted', { operation: 'CRS620MI/LstSuppliers', attempts: 5 }),
      new LeaseUnavailableError('main.cloudsuite.suppliers', 'exec-2', 1_000, undefined),
      new WarehouseUnavailableError('warehouse answered HTTP 503', undefined),
    ];
    const permanent = [
      new ConfigError('flows.config.ts is invalid'),
      new MiError({ program: 'CRS620MI', transaction: 'LstSuppliers', miMessage: 'NOK', status: 400 }),
      new MiProtocolError('CRS620MI', 'LstSuppliers', 'garbled', true),
      new DeadlineExceededError('CRS620MI/LstSuppliers', 1, 0),
      new LeaseLostError('main.cloudsuite.suppliers', 'exec-1'),
      new WarehouseError('warehouse answered HTTP 403', undefined),
      new VanishedKeysError('too many keys would be marked deleted at once'),
    ];
    expect(transient.map(isTransient)).toEqual(transient.map(() => true));
    expect(permanent.map(isTransient)).toEqual(permanent.map(() => false));
    // Not our error: nothing is known about it, so it is not retried.
    expect(isTransient(Object.assign(new Error('throttled'), { transient: true }))).toBe(false);
  });

  it('keeps the subclass relations callers test with instanceof', () => {
    expect(new VanishedKeysError('x')).toBeInstanceOf(LoadError);
    expect(new WarehouseUnavailableError('x', undefined)).toBeInstanceOf(WarehouseError);
    expect(new WarehouseUnavailableError('x', undefined).name).toBe('WarehouseUnavailableError');
  });
});
