// Where access tokens live between calls: a port, so many processes (Lambdas) can share one token
// per tenant through a shared store (a DynamoDB + KMS adapter), and a local run keeps it in memory.

export interface CachedToken {
  accessToken: string;
  refreshToken?: string;
  expiresAtMs: number;
  obtainedAtMs: number;
}

export interface TokenLock {
  release(): Promise<void>;
}

export interface TokenCache {
  read(tenant: string): Promise<CachedToken | undefined>;
  write(tenant: string, token: CachedToken): Promise<void>;
  /** Exclusive right to obtain a new token for the tenant for up to ttlMs; undefined when another holder has it. */
  tryLock(tenant: string, ttlMs: number): Promise<TokenLock | undefined>;
}

/** The token cache of one process: share one instance between all TokenProviders of the process. */
export class InMemoryTokenCache implements TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly locks = new Map<string, { owner: symbol; untilMs: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async read(tenant: string): Promise<CachedToken | undefined> {
    const token = this.tokens.get(tenant);
    return token === undefined ? undefined : { ...token };
  }

  async write(tenant: string, token: CachedToken): Promise<void> {
    this.tokens.set(tenant, { ...token });
  }

  async tryLock(tenant: string, ttlMs: number): Promise<TokenLock | undefined> {
    const held = this.locks.get(tenant);
    if (held !== undefined && held.untilMs > this.now()) return undefined;
    const owner = Symbol(tenant);
    this.locks.set(tenant, { owner, untilMs: this.now() + ttlMs });
    return {
      release: async () => {
        // A holder whose lock expired and was taken over must not release the new holder's lock.
        if (this.locks.get(tenant)?.owner === owner) this.locks.delete(tenant);
      },
    };
  }
}
