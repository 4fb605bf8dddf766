// The PipelineMetrics port in Lambda: EMF log lines through Powertools (CloudWatch reads them from the logs,
// no PutMetricData permission needed).
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, METRICS_SERVICE, type MetricPoint, type PipelineMetrics } from '../pipeline/pipelineMetrics.ts';

/** One metric blob per point, so each carries exactly its own dimensions. */
export class PowertoolsPipelineMetrics implements PipelineMetrics {
  constructor(private readonly metrics: Metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE })) {}

  publish(points: readonly MetricPoint[]): void {
    for (const point of points) {
      const single = this.metrics.singleMetric();
      if (point.flow !== undefined) single.addDimension('Flow', point.flow);
      if (point.schema !== undefined) single.addDimension('Schema', point.schema);
      single.addMetric(point.name, point.unit === 'Count' ? MetricUnit.Count : MetricUnit.Seconds, point.value);
    }
  }
}
