// A CloudSuite tenant's credentials: the .ionapi file's JSON stored as one secret per tenant (multi-tenant
// ION deployments have one secret each), validated exactly as the file itself would be.
import { parseIonApiFile, type IonApiConfig } from '../ionapi/ionApiFile.ts';
import type { SecretSource } from './secretSource.ts';

/** Reads and validates a tenant secret; errors (IonApiFileError) name the secret, never its contents. */
export async function readTenantSecret(source: SecretSource, name: string): Promise<IonApiConfig> {
  return parseIonApiFile(await source.getSecretString(name), `secret "${name}"`);
}
