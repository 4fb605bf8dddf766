// Run ids: sortable by time, unique enough for one tenant, safe in S3 keys and table values.
import { randomBytes } from 'node:crypto';

export function newRunId(kind: string, at = new Date()): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${kind}-${stamp}-${randomBytes(3).toString('hex')}`;
}
