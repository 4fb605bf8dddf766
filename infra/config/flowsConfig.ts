// The synth-time side of the flows configuration: infra/flows.config.ts validated by the one schema
// (shared/pipeline/flowsConfig.ts). `cdk synth` fails here, naming the flow and field, before any resource.
import flowsConfig from '../flows.config.ts';
import { validateFlowsConfig, type ValidatedFlowsConfig } from '../../shared/config/flowsConfig.ts';

export const FLOWS_CONFIG_FILE = 'infra/flows.config.ts';

export function loadFlowsConfig(raw: unknown = flowsConfig, source = FLOWS_CONFIG_FILE): ValidatedFlowsConfig {
  return validateFlowsConfig(raw, source);
}
