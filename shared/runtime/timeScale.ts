// One place that turns a wait the product wants (backoff, Retry-After, polling) into a real wait.
// Tests and benchmarks set CLOUDSUITE_SYNC_TIME_SCALE (e.g. 0.001) so retry logic runs unchanged but fast.

const DEFAULT_SCALE = 1;

export function timeScale(): number {
  const raw = process.env.CLOUDSUITE_SYNC_TIME_SCALE;
  if (raw === undefined || raw === '') return DEFAULT_SCALE;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale < 0) {
    throw new Error(`CLOUDSUITE_SYNC_TIME_SCALE must be a non-negative number, got "${raw}"`);
  }
  return scale;
}

/** The real number of milliseconds to wait for a nominal wait of `ms`. */
export function scaledMs(ms: number): number {
  return Math.max(0, Math.round(ms * timeScale()));
}
