// The pipeline's metrics in Lambda (Extract, Load, Commit, FinishRun): EMF log lines through Powertools.
import { PowertoolsPipelineMetrics } from '../../shared/aws/powertoolsPipelineMetrics.ts';
import type { PipelineMetrics } from '../../shared/pipeline/pipelineMetrics.ts';

let metrics: PipelineMetrics | undefined;

export function awsMetrics(): PipelineMetrics {
  return (metrics ??= new PowertoolsPipelineMetrics());
}
