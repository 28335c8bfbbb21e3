/**
 * The one configured Logger, Metrics and Tracer every handler imports (the Powertools `examples/app` layout).
 * Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE, set by the
 * `DistillGuardFunction` construct.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'distill-guard' });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'DistillGuard',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'distill-guard',
});
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'distill-guard' });
export { MetricUnit } from '@aws-lambda-powertools/metrics';
