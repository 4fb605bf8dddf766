// The one loader of the flows configuration, used by the CDK app, the Lambdas and the local runner. The CDK
// app and the local sync hand it infra/flows.config.ts (or a given object); the stack inlines the validated
// configuration into the Plan bundle as an esbuild define (base64 JSON), so a deployed Plan reads the copy it
// was deployed with: a config change is a new deployment (versioned with the code), and no size limit of
// environment variables applies.
import { ConfigError } from './configError.ts';
import { validateFlowsConfig, type ValidatedFlowsConfig } from './flowsConfig.ts';

/** The file an operator edits. */
export const FLOWS_CONFIG_FILE = 'infra/flows.config.ts';

declare const CLOUDSUITE_SYNC_FLOWS_CONFIG: string | undefined;

/** The esbuild `define` that carries a configuration into the Plan bundle (quoted for the bundling shell). */
export function flowsConfigDefine(config: unknown): Record<string, string> {
  return { CLOUDSUITE_SYNC_FLOWS_CONFIG: `'"${Buffer.from(JSON.stringify(config), 'utf8').toString('base64')}"'` };
}

let bundled: ValidatedFlowsConfig | undefined;

/**
 * The validated configuration: `given` (the operator's file or a test's object) when passed, otherwise the
 * copy bundled at deploy time. Errors are ConfigErrors naming the source, flow and field.
 */
export function loadFlowsConfig(given?: { raw: unknown; source?: string }): ValidatedFlowsConfig {
  if (given) return validateFlowsConfig(given.raw, given.source ?? FLOWS_CONFIG_FILE);
  if (bundled) return bundled;
  if (typeof CLOUDSUITE_SYNC_FLOWS_CONFIG !== 'string') {
    throw new ConfigError(`this function was built without a flows configuration; deploy it with \`cdk deploy\` (which bundles ${FLOWS_CONFIG_FILE})`);
  }
  const raw: unknown = JSON.parse(Buffer.from(CLOUDSUITE_SYNC_FLOWS_CONFIG, 'base64').toString('utf8'));
  bundled = validateFlowsConfig(raw, 'the deployed flows configuration');
  return bundled;
}
