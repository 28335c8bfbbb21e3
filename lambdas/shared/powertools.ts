/**
 * The one configured Logger, Metrics and Tracer every handler imports (the Powertools `examples/app` layout).
 * Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE, set by the
 * `DistillGuardFunction` construct. No handler calls the Tracer, but constructing it matters: the functions run
 * with active X-Ray tracing (lib/shared/distill-guard-function.ts), and a Tracer patches http(s) and fetch on
 * construction, so every AWS SDK call of every handler shows up as a subsegment of the invocation's trace.
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
