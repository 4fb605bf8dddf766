// The gateway's spike-arrest policy: a token bucket over MI calls (requestsPerSecond refill, burst
// capacity). An empty bucket answers 429 with Retry-After in the style the knob asks for.
import type { RateLimitKnob, RetryAfterStyle } from './types.ts';

export type TakeResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

export class TokenBucket {
  private tokens = 0;
  private lastMs = 0;
  private config: RateLimitKnob | undefined;
  private configKey = '';

  /** Forgets the bucket: the next limit configured starts full. */
  reset(): void {
    this.config = undefined;
  }

  /** Takes one token under `config`; a new or changed config starts a full bucket. */
  take(config: RateLimitKnob, nowMs = performance.now()): TakeResult {
    const key = `${config.requestsPerSecond}|${config.burst}`;
    const burst = Math.max(1, config.burst);
    if (config !== this.config || key !== this.configKey) {
      this.config = config;
      this.configKey = key;
      this.tokens = burst;
      this.lastMs = nowMs;
    }
    const rate = Math.max(0, config.requestsPerSecond);
    this.tokens = Math.min(burst, this.tokens + ((nowMs - this.lastMs) / 1000) * rate);
    this.lastMs = nowMs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    // With no refill the wait is unknown; a minute is what a quota gateway would say.
    const retryAfterSeconds = rate > 0 ? Math.max(1, Math.ceil((1 - this.tokens) / rate)) : 60;
    return { ok: false, retryAfterSeconds };
  }
}

/** The Retry-After header value for a style, or undefined when the header is left out. */
export function retryAfterHeader(style: RetryAfterStyle, seconds: number, nowMs = Date.now()): string | undefined {
  switch (style) {
    case 'seconds':
      return String(seconds);
    case 'http-date':
      // An HTTP date has whole seconds: rounded up, so honouring it never retries before the bucket refilled.
      return new Date(Math.ceil((nowMs + seconds * 1000) / 1000) * 1000).toUTCString();
    case 'none':
      return undefined;
  }
}
