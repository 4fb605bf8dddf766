// Reads the .ionapi credentials file downloaded from Infor OS Portal into a validated config with the
// derived token, revoke and API URLs. The file is a secret: the config redacts its secrets when
// serialised or inspected, and no error message ever quotes the file's contents.
import { readFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import * as z from 'zod';
import { registerSecret } from '../observability/redaction.ts';
import { IonApiFileError } from './errors.ts';

const REDACTED = '[redacted]';
const FIX = 'download the file again from Infor OS Portal > API Gateway > Authorized Apps';

/**
 * How a backend app gets its tokens: with a service account (saak/sask: the resource-owner password grant),
 * or, for the client-credentials apps newer Infor OS issues (no saak/sask in the file), the client
 * credentials grant.
 */
export type IonApiGrant = 'password' | 'client-credentials';

export interface IonApiConfigFields {
  /** Where the config came from (file path or description); used in messages. */
  source: string;
  tenant: string;
  clientId: string;
  clientSecret: string;
  /** Both present for a service-account app, both absent for a client-credentials app. */
  serviceAccountAccessKey?: string;
  serviceAccountSecretKey?: string;
  tokenUrl: string;
  revokeUrl: string | undefined;
  apiBaseUrl: string;
  appName?: string;
  /** Keys the file had that this version does not know (ignored; a caller may warn). */
  unknownKeys: string[];
}

/**
 * The parsed .ionapi file. Secrets are held in a private field behind getters, so JSON.stringify,
 * util.inspect, structured logs and object spread do not carry them.
 */
export class IonApiConfig {
  readonly source: string;
  readonly tenant: string;
  readonly clientId: string;
  readonly tokenUrl: string;
  readonly revokeUrl: string | undefined;
  readonly apiBaseUrl: string;
  readonly appName?: string;
  readonly unknownKeys: readonly string[];
  readonly grant: IonApiGrant;
  readonly #secrets: { clientSecret: string; accessKey: string | undefined; secretKey: string | undefined };

  constructor(fields: IonApiConfigFields) {
    this.source = fields.source;
    this.tenant = fields.tenant;
    this.clientId = fields.clientId;
    this.tokenUrl = fields.tokenUrl;
    this.revokeUrl = fields.revokeUrl;
    this.apiBaseUrl = fields.apiBaseUrl;
    if (fields.appName !== undefined) this.appName = fields.appName;
    this.unknownKeys = Object.freeze([...fields.unknownKeys]);
    this.grant = fields.serviceAccountAccessKey === undefined ? 'client-credentials' : 'password';
    this.#secrets = {
      clientSecret: fields.clientSecret,
      accessKey: fields.serviceAccountAccessKey,
      secretKey: fields.serviceAccountSecretKey,
    };
    // Masked by value from now on, wherever text leaves the process (also as the HTTP Basic credentials).
    registerSecret(fields.clientSecret);
    registerSecret(fields.serviceAccountAccessKey);
    registerSecret(fields.serviceAccountSecretKey);
    registerSecret(Buffer.from(`${fields.clientId}:${fields.clientSecret}`, 'utf8').toString('base64'));
  }

  get clientSecret(): string {
    return this.#secrets.clientSecret;
  }

  /** Undefined for a client-credentials app. */
  get serviceAccountAccessKey(): string | undefined {
    return this.#secrets.accessKey;
  }

  get serviceAccountSecretKey(): string | undefined {
    return this.#secrets.secretKey;
  }

  toJSON(): Record<string, unknown> {
    return {
      source: this.source,
      tenant: this.tenant,
      clientId: this.clientId,
      clientSecret: REDACTED,
      grant: this.grant,
      ...(this.grant === 'password' ? { serviceAccountAccessKey: REDACTED, serviceAccountSecretKey: REDACTED } : {}),
      tokenUrl: this.tokenUrl,
      revokeUrl: this.revokeUrl,
      apiBaseUrl: this.apiBaseUrl,
      appName: this.appName,
      unknownKeys: this.unknownKeys,
    };
  }

  [inspect.custom](): string {
    return `IonApiConfig ${inspect(this.toJSON())}`;
  }
}

const requiredString = z.string().min(1);
const optionalString = z.string().optional();
// Undocumented keys (type code, environment version, file version, scopes): accepted, not used.
const ignoredScalar = z.union([z.string(), z.number()]).optional();

/**
 * The tenant id becomes a path segment of every API URL (iu/ti/M3/…) and a key part of the token cache:
 * letters, digits, _ and - only, so no ti can reach another path or tenant (found by the hardening review).
 */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const ionApiFileSchema = z.object({
  ti: requiredString.regex(TENANT_ID_PATTERN),
  ci: requiredString,
  cs: requiredString,
  iu: requiredString,
  pu: requiredString,
  ot: requiredString,
  // A service account's keys (password grant); a client-credentials app's file has neither.
  saak: requiredString.optional(),
  sask: requiredString.optional(),
  cn: optionalString,
  oa: optionalString,
  or: z.string().min(1).optional(),
  dt: ignoredScalar,
  ev: ignoredScalar,
  v: ignoredScalar,
  sc: z.union([z.string(), z.array(z.string())]).optional(),
});

const KNOWN_KEYS = new Set(Object.keys(ionApiFileSchema.shape));

function fileError(source: string, problem: string, field?: string, cause?: unknown): IonApiFileError {
  return new IonApiFileError(`ionapi file "${source}": ${problem}`, source, field, cause ? { cause } : undefined);
}

/** Describes one zod issue by field and kind only: zod messages and inputs may contain the values. */
function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): { field: string; problem: string } {
  const field = String(issue.path[0] ?? '');
  const value = raw[field];
  if (value === undefined || value === null) return { field, problem: `field "${field}" is missing` };
  if (issue.code === 'too_small') return { field, problem: `field "${field}" is empty` };
  if (field === 'ti' && typeof value === 'string') {
    return { field, problem: `field "ti" must be a tenant id of letters, digits, _ and - (at most 64), got ${value.length} character(s) with others` };
  }
  if (field === 'sc') return { field, problem: 'field "sc" must be a string or a list of strings' };
  const expected = issue.code === 'invalid_type' ? issue.expected : 'string';
  return { field, problem: `field "${field}" must be a ${expected === 'string' ? 'string' : expected}, got ${typeOf(value)}` };
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** An absolute https URL; http only for loopback hosts (the local emulators). */
function checkUrl(source: string, field: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw fileError(source, `field "${field}" is not a valid absolute URL; ${FIX}`, field);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return url;
  throw fileError(
    source,
    `field "${field}" must be an https:// URL (http:// is accepted only for loopback hosts such as the local emulators); ${FIX}`,
    field,
  );
}

/** Parses the text of a .ionapi file; `source` names it in error messages. */
export function parseIonApiFile(text: string, source: string): IonApiConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    // JSON.parse messages quote the text around the fault, which may be a secret: report the position only.
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    throw fileError(source, `is not valid JSON${position ? ` (syntax error at position ${position})` : ''}; ${FIX}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw fileError(source, `must contain a JSON object, got ${typeOf(raw)}; ${FIX}`);
  }
  const record = raw as Record<string, unknown>;
  const parsed = ionApiFileSchema.safeParse(record);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => describeIssue(issue, record));
    throw fileError(source, `${problems.map((p) => p.problem).join(', ')}; ${FIX}`, problems[0]?.field);
  }
  const file = parsed.data;
  if ((file.saak === undefined) !== (file.sask === undefined)) {
    const missing = file.saak === undefined ? 'saak' : 'sask';
    throw fileError(
      source,
      `field "${missing}" is missing: a service account needs both "saak" and "sask" (a client-credentials app has neither); ${FIX}`,
      missing,
    );
  }

  checkUrl(source, 'iu', file.iu);
  checkUrl(source, 'pu', file.pu);
  const iu = file.iu.replace(/\/+$/, '');
  const pu = file.pu.endsWith('/') ? file.pu : `${file.pu}/`;
  const tokenUrl = pu + file.ot;
  checkUrl(source, 'ot', tokenUrl);
  const revokeUrl = file.or === undefined ? undefined : pu + file.or;
  if (revokeUrl !== undefined) checkUrl(source, 'or', revokeUrl);

  return new IonApiConfig({
    source,
    tenant: file.ti,
    clientId: file.ci,
    clientSecret: file.cs,
    ...(file.saak !== undefined && file.sask !== undefined ? { serviceAccountAccessKey: file.saak, serviceAccountSecretKey: file.sask } : {}),
    tokenUrl,
    revokeUrl,
    apiBaseUrl: `${iu}/${file.ti}`,
    ...(file.cn === undefined ? {} : { appName: file.cn }),
    unknownKeys: Object.keys(record).filter((key) => !KNOWN_KEYS.has(key)),
  });
}

/** Reads and parses a .ionapi file from disk. */
export async function loadIonApiFile(path: string): Promise<IonApiConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'read error';
    throw fileError(path, `cannot be read (${code}); check the path, or ${FIX}`, undefined, error);
  }
  return parseIonApiFile(text, path);
}
