// The credentials of the emulated tenant and the .ionapi file that carries them, in the shape Infor OS
// Portal downloads for a backend-service app. Secrets derive from the seed so runs are reproducible.
import { createHash } from 'node:crypto';

export interface Credentials {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Service-account access key (saak), the password grant's username. */
  readonly accessKey: string;
  /** Service-account secret key (sask), the password grant's password. */
  readonly secretKey: string;
}

function secret(seed: number, tenant: string, purpose: string, length: number): string {
  let out = '';
  for (let i = 0; out.length < length; i++) {
    out += createHash('sha256').update(`${seed}|${tenant}|${purpose}|${i}`).digest('base64url');
  }
  return out.slice(0, length);
}

export function credentialsFor(seed: number, tenant: string): Credentials {
  return {
    clientId: `${tenant}~${secret(seed, tenant, 'ci', 43)}`,
    clientSecret: secret(seed, tenant, 'cs', 86),
    accessKey: `${tenant}#${secret(seed, tenant, 'saak', 86)}`,
    secretKey: secret(seed, tenant, 'sask', 86),
  };
}

/**
 * The .ionapi object for an emulator at `url` (no trailing slash). A service-account app's file carries
 * saak/sask (password grant); a client-credentials app's, as newer Infor OS issues them, does not.
 */
export function ionApiFile(
  url: string,
  tenant: string,
  credentials: Credentials,
  app: 'service-account' | 'client-credentials' = 'service-account',
): Record<string, string> {
  const file: Record<string, string> = {
    ti: tenant,
    cn: 'cloudsuite-sync',
    dt: '12',
    ci: credentials.clientId,
    cs: credentials.clientSecret,
    iu: url,
    pu: `${url}/${tenant}/as/`,
    oa: 'authorization.oauth2',
    ot: 'token.oauth2',
    or: 'revoke_token.oauth2',
    ev: 'V1',
    v: '1.0',
    saak: credentials.accessKey,
    sask: credentials.secretKey,
  };
  if (app === 'client-credentials') {
    delete file.saak;
    delete file.sask;
  }
  return file;
}
