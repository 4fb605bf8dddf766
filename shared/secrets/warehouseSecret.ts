// The Databricks connection secret: workspace host, SQL warehouse HTTP path and exactly one credential,
// a personal access token or an OAuth M2M service principal. A flat JSON object, so it can be edited in
// the Secrets Manager console's key/value view:
//   {"host": "adb-123.4.azuredatabricks.net", "httpPath": "/sql/1.0/warehouses/abc", "token": "dapi…"}
//   {"host": "…", "httpPath": "…", "clientId": "…", "clientSecret": "…"}
// The parsed object keeps credentials behind getters, so JSON.stringify, inspect, logs and spreads
// show "[redacted]" or nothing; no error message quotes the secret's contents.
import { inspect } from 'node:util';
import * as z from 'zod';
import { ConfigError, configErrorFromZod } from '../config/configError.ts';
import { registerSecret } from '../observability/redaction.ts';
import type { SecretSource } from './secretSource.ts';

const REDACTED = '[redacted]';

export class PatAuth {
  readonly kind = 'pat' as const;
  readonly #token: string;

  constructor(token: string) {
    this.#token = token;
    registerSecret(token);
  }

  get token(): string {
    return this.#token;
  }

  toJSON(): Record<string, unknown> {
    return { kind: this.kind, token: REDACTED };
  }

  [inspect.custom](): string {
    return `PatAuth ${inspect(this.toJSON())}`;
  }
}

export class OAuthM2mAuth {
  readonly kind = 'oauth-m2m' as const;
  readonly #clientSecret: string;

  constructor(
    readonly clientId: string,
    clientSecret: string,
  ) {
    this.#clientSecret = clientSecret;
    registerSecret(clientSecret);
  }

  get clientSecret(): string {
    return this.#clientSecret;
  }

  toJSON(): Record<string, unknown> {
    return { kind: this.kind, clientId: this.clientId, clientSecret: REDACTED };
  }

  [inspect.custom](): string {
    return `OAuthM2mAuth ${inspect(this.toJSON())}`;
  }
}

export type WarehouseAuth = PatAuth | OAuthM2mAuth;

export class WarehouseSecret {
  constructor(
    /** Where it came from, for messages, e.g. secret "cloudsuite-sync/databricks". */
    readonly source: string,
    /** Workspace host name (and port, for a local emulator), without scheme. */
    readonly host: string,
    /** The SQL warehouse's HTTP path, starting with /sql/. */
    readonly httpPath: string,
    readonly auth: WarehouseAuth,
  ) {}

  toJSON(): Record<string, unknown> {
    return { source: this.source, host: this.host, httpPath: this.httpPath, auth: this.auth.toJSON() };
  }

  [inspect.custom](): string {
    return `WarehouseSecret ${inspect(this.toJSON())}`;
  }
}

// Messages name the field and the rule only; zod is never asked to echo an input.
// configErrorFromZod prefixes each message with the field's name.
const text = () => z.string({ error: (issue) => (issue.input === undefined ? 'is missing' : 'must be a string') });

const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d{1,5})?$/;

const warehouseSecretSchema = z
  .object({
    host: text()
      .min(1, { error: 'is empty', abort: true })
      .refine((v) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(v), {
        error: 'must be the workspace host name without a scheme: drop the "https://"',
        abort: true,
      })
      .refine((v) => HOST_NAME.test(v), {
        error: 'must be a host name only (e.g. adb-1234567890123456.7.azuredatabricks.net), without a path or spaces',
      }),
    httpPath: text().refine((v) => /^\/sql\/\S+$/.test(v), {
      error: 'must start with /sql/ (copy it from the SQL warehouse\'s Connection details)',
    }),
    token: text().min(1, { error: 'is empty' }).optional(),
    clientId: text().min(1, { error: 'is empty' }).optional(),
    clientSecret: text().min(1, { error: 'is empty' }).optional(),
  }, { error: 'must be a JSON object' })
  .superRefine((secret, ctx) => {
    const pat = secret.token !== undefined;
    const m2m = secret.clientId !== undefined || secret.clientSecret !== undefined;
    if (pat && m2m) {
      ctx.addIssue({ code: 'custom', message: 'has both "token" and "clientId"/"clientSecret": keep exactly one way to sign in' });
    } else if (!pat && !m2m) {
      ctx.addIssue({
        code: 'custom',
        message: 'has no credential: add "token" (a personal access token) or "clientId" and "clientSecret" (OAuth M2M)',
      });
    } else if (m2m && secret.clientId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'is missing (OAuth M2M needs clientId and clientSecret)' });
    } else if (m2m && secret.clientSecret === undefined) {
      ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'is missing (OAuth M2M needs clientId and clientSecret)' });
    }
  });

/** Parses the warehouse secret's text; `name` names the secret in errors (ConfigError). */
export function parseWarehouseSecret(text: string, name: string): WarehouseSecret {
  const where = `secret "${name}"`;
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    // JSON.parse messages quote the text around the fault, which may be the token: report the position
    // only, and do not keep that error as the cause.
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    throw new ConfigError(
      `${where} is not valid JSON${position ? ` (syntax error at position ${position})` : ''}; ` +
        'store a JSON object with "host", "httpPath" and either "token" or "clientId" and "clientSecret"',
    );
  }
  const parsed = warehouseSecretSchema.safeParse(raw);
  if (!parsed.success) throw configErrorFromZod(where, parsed.error);
  const { host, httpPath, token, clientId, clientSecret } = parsed.data;
  const auth = token !== undefined ? new PatAuth(token) : new OAuthM2mAuth(clientId as string, clientSecret as string);
  return new WarehouseSecret(where, host, httpPath, auth);
}

/** Reads and validates the Databricks connection secret. */
export async function readWarehouseSecret(source: SecretSource, name: string): Promise<WarehouseSecret> {
  return parseWarehouseSecret(await source.getSecretString(name), name);
}
