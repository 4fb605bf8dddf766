// The flows configuration the Plan Lambda was deployed with: the CDK app validates infra/flows.config.ts and
// esbuild inlines it (base64 JSON) as CLOUDSUITE_SYNC_FLOWS_CONFIG, so a config change is a new deployment
// of Plan (versioned with the code) and no size limit of environment variables applies.
import { ConfigError } from '../../shared/config/configError.ts';
import { validateFlowsConfig, type ValidatedFlowsConfig } from '../../shared/config/flowsConfig.ts';

declare const CLOUDSUITE_SYNC_FLOWS_CONFIG: string | undefined;

/** The esbuild `define` that carries a configuration into the Plan bundle (quoted for the bundling shell). */
export function flowsConfigDefine(config: unknown): Record<string, string> {
  return { CLOUDSUITE_SYNC_FLOWS_CONFIG: `'"${Buffer.from(JSON.stringify(config), 'utf8').toString('base64')}"'` };
}

let validated: ValidatedFlowsConfig | undefined;

export function bundledFlowsConfig(): ValidatedFlowsConfig {
  if (validated) return validated;
  if (typeof CLOUDSUITE_SYNC_FLOWS_CONFIG !== 'string') {
    throw new ConfigError('this Plan function was built without a flows configuration; deploy it with `cdk deploy` from infra/');
  }
  const raw: unknown = JSON.parse(Buffer.from(CLOUDSUITE_SYNC_FLOWS_CONFIG, 'base64').toString('utf8'));
  validated = validateFlowsConfig(raw, 'the deployed flows configuration');
  return validated;
}
