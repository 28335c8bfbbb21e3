/**
 * Tunables of the aggregate stage (the `Aggregator` construct; the object aggregator shares the retention and the IP
 * hash key): default, range, unit, construct prop and doc of each flat config key (lib/settings.ts).
 */
import type { SettingsTable } from '../settings';

export const AGGREGATE_SETTINGS = {
  aggregatorBatchSize: {
    type: 'integer',
    group: 'aggregate',
    default: 1000,
    min: 1,
    max: 10000,
    prop: 'batchSize',
    doc: 'Records per aggregator invocation (event source mapping BatchSize).',
  },
  aggregatorMaxBatchingWindowSeconds: {
    type: 'integer',
    group: 'aggregate',
    default: 5,
    min: 0,
    max: 300,
    unit: 'seconds',
    prop: 'maxBatchingWindow',
    doc: 'Seconds the mapping waits to fill a batch.',
  },
  aggregatorParallelizationFactor: {
    type: 'integer',
    group: 'aggregate',
    default: 1,
    min: 1,
    max: 10,
    prop: 'parallelizationFactor',
    doc: 'Concurrent aggregator batches per shard. Above 1 the access-log subscription distributes by log stream (a bounded set of partition keys for the per-key watermarks), and usage producers must key records by account id.',
  },
  aggregatorRetryAttempts: {
    type: 'integer',
    group: 'aggregate',
    default: 5,
    min: 0,
    max: 10000,
    prop: 'retryAttempts',
    doc: 'Retries of a failing batch (each retry bisects it) before its records go to the on-failure queue.',
  },
  aggregatorMaxRecordAgeSeconds: {
    type: 'integer',
    group: 'aggregate',
    default: 86400,
    min: 60,
    max: 604800,
    unit: 'seconds',
    prop: 'maxRecordAge',
    doc: 'Records older than this go to the on-failure queue instead of being processed.',
  },
  featuresRetentionDays: {
    type: 'integer',
    group: 'aggregate',
    default: 30,
    min: 1,
    max: 3650,
    prop: 'featureRetention',
    doc: 'Days feature windows are kept (DynamoDB TTL); bounds how long pseudonymised IP data is held.',
  },
  aggregatorMemoryMb: {
    type: 'integer',
    group: 'aggregate',
    default: 1024,
    min: 128,
    max: 10240,
    prop: 'memorySize',
    doc: 'Memory of the aggregator function in MB (CPU scales with it).',
  },
  featuresIndexProjection: {
    type: 'enum',
    group: 'aggregate',
    default: 'INCLUDE_CHANGES',
    values: ['INCLUDE_CHANGES', 'KEYS_ONLY', 'ALL'],
    prop: 'byHourProjection',
    doc: "Projection of the features table's `byHour` index: keys + change marker (the scorer re-reads only changed windows), keys only, or the whole item (every window write billed twice). An existing index cannot change projection in place (docs/aggregate.md).",
  },
  publicIpHashKey: {
    type: 'boolean',
    group: 'aggregate',
    default: false,
    prop: 'publicIpHashKey',
    doc: 'Demo only: hash source IPs with the public default key instead of the per-deployment secret (reversible hashes); refused unless the context flag `distill-guard:demo` is true.',
  },
} as const satisfies SettingsTable;
