/**
 * The package entry point (`import { DistillGuard } from 'distill-guard'`): the product construct, the deployable
 * stack, and each stage construct with its props, for an app that composes the stages itself.
 */
export { DistillGuard, type DistillGuardProps, type DistillGuardResourceProps } from './distill-guard';
export { DistillGuardStack, type DistillGuardStackProps } from './distill-guard-stack';
export { CONTEXT_KEY, type DistillGuardConfig, configFor, resolveConfig } from './config';
export { acknowledgeNagFindings, NAG_ACKNOWLEDGEMENTS, type NagAcknowledgement } from './nag-acknowledgements';

// ingest
export { IngestionStream, type IngestionStreamProps } from './ingest/ingestion-stream';
export { AccessLogIngestion, type AccessLogIngestionProps } from './ingest/access-log-ingestion';
export { FirehoseAccessLogs, type FirehoseAccessLogsProps } from './ingest/firehose-access-logs';
export { DemoApi, type DemoApiProps } from './ingest/demo-api';
export { accessLogFormat, accessLogFormatString } from './ingest/access-log-format';
// aggregate
export { Aggregator, type AggregatorProps } from './aggregate/aggregator';
export { ObjectAggregator, type ObjectAggregatorProps } from './aggregate/object-aggregator';
// detect
export { Scorer, type ScorerProps } from './detect/scorer';
export { ShardedLinkage, type ShardedLinkageProps } from './detect/sharded-linkage';
// escalate
export { Escalation, type EscalationProps } from './escalate/escalation';
export { ReviewApi, type ReviewApiProps } from './escalate/review-api';
// notify
export { BanEvents, type BanEventsProps } from './notify/ban-events';
// state, observability, shared
export { ControlTable, type ControlTableProps } from './state/control-table';
export { PipelineMonitoring, type PipelineMonitoringProps, type MonitoredFunction, type MonitoredQueue } from './observability/monitoring';
export { DistillGuardFunction, type DistillGuardFunctionProps } from './shared/distill-guard-function';

// the public formats: types generated from schemas/ (access-log record, usage event, replay report, ban events)
// and their validators, for producers and consumers
export * from '../src/contract';
