// Secrets masked by value, and text kept to a bounded length, wherever text leaves the process: every
// credential and token this process holds is registered here the moment it is read or obtained (the .ionapi
// secrets, ION access and refresh tokens, the warehouse token or client secret), and every log line, error
// message, ledger item and CLI line is passed through `redact`. Masking by pattern ("Bearer …", "token=…")
// misses a gateway that echoes a token in plain words (found by the hardening review); by value it cannot.
// Truncation keeps a hostile 5 MB error text from reaching stderr, a Step Functions cause or the ledger.

export const REDACTED = '[redacted]';

/** Shorter values are not masked: they would blank ordinary words and numbers, and no credential is that short. */
const MIN_SECRET_LENGTH = 8;

/** The values a long-lived process (a warm Lambda renewing tokens hourly) keeps masking: the newest win. */
const MAX_REGISTERED = 500;

/** The longest error message this project produces or passes on (characters), with room for a list of units. */
export const MAX_MESSAGE_CHARS = 4_000;

const secrets = new Set<string>();
/** The registered values longest first (one secret may contain another), rebuilt only when one is added. */
let longestFirst: string[] = [];

function remember(value: string): void {
  if (value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  if (secrets.size > MAX_REGISTERED) secrets.delete(secrets.values().next().value as string);
  longestFirst = [...secrets].sort((a, b) => b.length - a.length);
}

/**
 * Masks `value` from now on, also in the encodings it travels in: percent-encoded (a URL or form body) and
 * form-encoded (spaces as '+'). Call it as soon as a secret is in memory, before any request can echo it.
 */
export function registerSecret(value: string | undefined): void {
  if (value === undefined) return;
  remember(value);
  remember(encodeURIComponent(value));
  remember(new URLSearchParams({ v: value }).toString().slice(2));
}

/** `text` with every registered secret replaced by [redacted]. */
export function redact(text: string): string {
  if (text.length < MIN_SECRET_LENGTH) return text;
  let result = text;
  for (const secret of longestFirst) {
    if (result.includes(secret)) result = result.split(secret).join(REDACTED);
  }
  return result;
}

/** `text` cut to at most `max` characters, saying how long it was. */
export function bounded(text: string, max = MAX_MESSAGE_CHARS): string {
  if (text.length <= max) return text;
  const note = `… [truncated: ${text.length} characters in all]`;
  return text.slice(0, Math.max(0, max - note.length)) + note;
}

/** What may leave the process as a message: secrets masked, then bounded. */
export function safeText(text: string, max = MAX_MESSAGE_CHARS): string {
  return bounded(redact(text), max);
}
