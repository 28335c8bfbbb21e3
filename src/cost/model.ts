/**
 * The distill-guard cost model: dollars per month and per million monitored requests, component by component, for
 * the two ingestion paths (docs/cost.md). Plain TypeScript, no AWS imports; prices from ./prices (cited list prices).
 *
 * Hand-written: no library models this pipeline. Every assumption is an input with a documented default, so a
 * deployment can replace a guess with its own measurement (`npx distill-guard cost --json` prints the inputs used).
 */
import { monthlyCost, PRICES, type Price } from './prices';

export type IngestPath = 'cwl' | 'firehose';
export type StreamMode = 'ON_DEMAND' | 'PROVISIONED';

export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const GB = 1024 ** 3;
const MIB = 1024 ** 2;

export interface CostInputs {
  /** Monitored API requests per second (monthly average). */
  rps: number;
  /** Ingestion path: API Gateway -> CloudWatch Logs -> subscription filter -> Kinesis (shipped), or -> Firehose -> S3. @default 'cwl' */
  path: IngestPath;
  /** Distinct customer accounts active in the scorer's lookback. @default 10000 */
  activeAccounts: number;
  /** Hours per day an average active account sends traffic (sets accounts active per hour and windows per account). @default 6 */
  activeHoursPerAccountPerDay: number;
  /** Bytes of one access-log line (docs/contract.md, "Access-log record"); measured from a realistic record by src/cost/record.ts. @default 440 */
  recordBytes: number;
  /** Overhead CloudWatch Logs adds per log event when sizing ingestion (PutLogEvents: 26 bytes per event). @default 26 */
  cwlEventOverheadBytes: number;
  /** Compressed / raw size of a gzip'd batch of access-log lines (measured: 0.13-0.16 on sample records). @default 0.155 */
  gzipRatio: number;
  /** Log events in one CloudWatch Logs subscription envelope (= one Kinesis record). @default 100 */
  eventsPerEnvelope: number;
  /** Days the access-log group keeps records (cwl path). @default 7 */
  accessLogRetentionDays: number;
  /** Kinesis capacity mode (cwl path, and the usage-event stream). @default 'ON_DEMAND' */
  streamMode: StreamMode;
  /** Headroom over the average write rate when sizing provisioned shards (surges). @default 2 */
  shardHeadroom: number;
  /** Serving tier puts one usage event (docs/contract.md, "Usage event") per request on the stream. @default false */
  usageEvents: boolean;
  /** Bytes of one usage event. @default 250 */
  usageEventBytes: number;
  /** Kinesis records per aggregator invocation (event source mapping BatchSize). @default 1000 */
  aggregatorBatchSize: number;
  /** Seconds the event source mapping waits to fill a batch. @default 5 */
  batchingWindowSeconds: number;
  /** Concurrent batches per shard. @default 1 */
  parallelizationFactor: number;
  /** Aggregator memory (MB). @default 1024 */
  aggregatorMemoryMb: number;
  /** Aggregator in-process throughput per vCPU: decode + parse + aggregate (target: 100k/s). @default 100000 */
  aggregatorEventsPerVcpuSecond: number;
  /** Wall time of one feature-table UpdateItem round trip (ms); the aggregator issues them `writeConcurrency` at a time. @default 8 */
  ddbWriteLatencyMs: number;
  /** Concurrent UpdateItem calls per aggregator invocation. @default 16 */
  writeConcurrency: number;
  /** Fixed per-invocation overhead (ms): handler entry, metrics flush. @default 15 */
  invocationOverheadMs: number;
  /**
   * Distinct accounts in one aggregator batch (= feature-table writes per batch: one UpdateItem per (account, hour)).
   * When unset: expected distinct accounts when `heavyTrafficShare` of the events come from `heavyAccountShare` of the
   * accounts active in the hour and the rest from the others, each class uniform (`expectedDistinctAccounts`).
   */
  accountsPerBatch?: number;
  /** Share of requests sent by the heaviest accounts (traffic is heavy-tailed). @default 0.8 */
  heavyTrafficShare: number;
  /** Share of active accounts that are the heavy ones. @default 0.05 */
  heavyAccountShare: number;
  /**
   * Projection of the features table's byHour GSI (lib/aggregate `byHourProjection`). 'ALL' writes every UpdateItem
   * to the index too (2x WRU) and the scorer Queries whole windows; 'KEYS_ONLY' writes the index only when the window
   * is created, and the scorer BatchGets every window each run; 'INCLUDE_CHANGES' (shipped) also projects the change
   * marker `upd`, so the index entry is rewritten at most once per 5-minute bucket a window is written in, and a warm
   * scorer BatchGets only the windows written since its previous run (plus each cached window every
   * `scorerCacheMaxAgeMinutes`).
   * @default 'INCLUDE_CHANGES'
   */
  gsiProjection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE_CHANGES';
  /** How long a warm scorer reuses an unchanged window before reading it again (INCLUDE_CHANGES). @default 360 */
  scorerCacheMaxAgeMinutes: number;
  /** Capacity mode of the features table: on-demand (shipped), or provisioned with auto scaling. @default 'ON_DEMAND' */
  featuresCapacity: 'ON_DEMAND' | 'PROVISIONED';
  /** Auto-scaling target utilisation of a provisioned features table. @default 0.7 */
  provisionedUtilization: number;
  /** Models seen per batch (one conditional `MODEL#<model>/FIRST` write each). @default 3 */
  modelsPerBatch: number;
  /** Size of one AccountWindow item (KB); writes cost ceil(KB) WRU on the table plus the same on the byHour GSI (projection ALL). @default 2 */
  featureItemKb: number;
  /** Days feature windows are kept (TTL). @default 30 */
  featuresRetentionDays: number;
  /** Minutes between scorer runs. @default 5 */
  scoreIntervalMinutes: number;
  /** Hours of windows each scorer run reads (the shipped scorer re-reads the whole lookback every run). @default 72 */
  scoreLookbackHours: number;
  /** Scorer memory (MB). @default 1769 */
  scorerMemoryMb: number;
  /** Scorer CPU time per window read (profiles, linkage, scoring), microseconds at one vCPU. @default 20 */
  scorerUsPerWindow: number;
  /** Share of active accounts the scorer writes a SCORE item for each run (decision above allow). @default 0.01 */
  flaggedShare: number;
  /** Share of active accounts per day that open a case (workflow execution). @default 0.001 */
  suspiciousAccountRatePerDay: number;
  /** State transitions per workflow execution. @default 10 */
  transitionsPerExecution: number;
  /** Ban events (EventBridge) per case: Flagged, Suspended, later Reinstated. @default 2 */
  banEventsPerCase: number;
  /** Share of cases that go to human review (SQS task token: send, receive, delete, ~3 extra polls). @default 0.5 */
  reviewShare: number;
  /** Customer-managed KMS keys of the stack. @default 5 */
  kmsKeys: number;
  /** Firehose buffer interval (s), 0..900 (firehose path). @default 60 */
  firehoseBufferSeconds: number;
  /** Firehose buffer size (MiB, before compression), 1..128 (firehose path). @default 64 */
  firehoseBufferMiB: number;
  /** Days the raw access-log objects stay in S3 (lifecycle rule; firehose path). @default 7 */
  s3RetentionDays: number;
}

export const DEFAULT_INPUTS: Omit<CostInputs, 'rps'> = {
  path: 'cwl',
  activeAccounts: 10_000,
  activeHoursPerAccountPerDay: 6,
  recordBytes: 440,
  cwlEventOverheadBytes: 26,
  gzipRatio: 0.155,
  eventsPerEnvelope: 100,
  accessLogRetentionDays: 7,
  streamMode: 'ON_DEMAND',
  shardHeadroom: 2,
  usageEvents: false,
  usageEventBytes: 250,
  aggregatorBatchSize: 1000,
  batchingWindowSeconds: 5,
  parallelizationFactor: 1,
  aggregatorMemoryMb: 1024,
  aggregatorEventsPerVcpuSecond: 100_000,
  ddbWriteLatencyMs: 8,
  writeConcurrency: 16,
  invocationOverheadMs: 15,
  heavyTrafficShare: 0.8,
  heavyAccountShare: 0.05,
  gsiProjection: 'INCLUDE_CHANGES',
  scorerCacheMaxAgeMinutes: 360,
  featuresCapacity: 'ON_DEMAND',
  provisionedUtilization: 0.7,
  modelsPerBatch: 3,
  featureItemKb: 2,
  featuresRetentionDays: 30,
  scoreIntervalMinutes: 5,
  scoreLookbackHours: 72,
  scorerMemoryMb: 1769,
  scorerUsPerWindow: 20,
  flaggedShare: 0.01,
  suspiciousAccountRatePerDay: 0.001,
  transitionsPerExecution: 10,
  banEventsPerCase: 2,
  reviewShare: 0.5,
  kmsKeys: 5,
  firehoseBufferSeconds: 60,
  firehoseBufferMiB: 64,
  s3RetentionDays: 7,
};

export type Stage = 'ingest' | 'aggregate' | 'detect' | 'escalate' | 'notify' | 'platform';

export interface CostLine {
  /** Short name, e.g. "CloudWatch Logs ingestion". */
  component: string;
  stage: Stage;
  service: string;
  monthlyUsd: number;
  perMillionRequestsUsd: number;
  /** Monthly usage in the price's unit, and the unit. */
  usage: number;
  unit: string;
  priceIds: string[];
}

export interface Sizing {
  requestsPerMonth: number;
  /** Ingested access-log bytes per second (raw lines). */
  rawBytesPerSecond: number;
  kinesisRecordsPerSecond: number;
  kinesisBytesPerSecond: number;
  /** Shards the stream needs for its writes (on-demand scales to this itself; provisioned = this x headroom). */
  shardsNeeded: number;
  provisionedShards: number;
  aggregatorInvocationsPerSecond: number;
  eventsPerInvocation: number;
  accountsPerBatch: number;
  aggregatorSecondsPerInvocation: number;
  /** Average concurrent aggregator executions. */
  aggregatorConcurrency: number;
  /** Concurrent batches the Kinesis mapping allows (shards x parallelizationFactor); null on the firehose path (SQS scales out). */
  aggregatorLanes: number | null;
  /** Whether the aggregator keeps up on average (concurrency below the lanes, with 30% headroom). */
  aggregatorKeepsUp: boolean;
  /** Share of the aggregator's time spent in CPU (decode, parse, aggregate) rather than waiting on DynamoDB. */
  aggregatorCpuShare: number;
  featureWritesPerSecond: number;
  /** Write request units per second on the features table (table + GSI + model-first writes). */
  featureWruPerSecond: number;
  accountsActivePerHour: number;
  windowsReadPerScorerRun: number;
  /** Windows the scorer BatchGets (or Queries whole, ALL) per run. */
  windowsFetchedPerScorerRun: number;
  scorerBytesReadPerRun: number;
  scorerSecondsPerRun: number;
  casesPerDay: number;
  firehoseObjectsPerSecond: number;
  /** Typical seconds from request to feature-table write. */
  ingestLatencySeconds: number;
}

export interface CostEstimate {
  inputs: CostInputs;
  lines: CostLine[];
  monthlyUsd: number;
  perMillionRequestsUsd: number;
  sizing: Sizing;
}

/** Each of `keys` must be a finite number that `ok` accepts; the error names the key and the value received. */
function requireNumbers(inputs: CostInputs, keys: Array<keyof CostInputs>, what: string, ok: (v: number) => boolean): void {
  for (const k of keys) {
    const v = inputs[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new Error(`cost input '${k}' must be ${what}, got ${JSON.stringify(v)}`);
  }
}

/** Fills defaults and validates; errors name the key and the value received. */
export function resolveInputs(partial: Partial<CostInputs> & { rps: number }): CostInputs {
  const inputs: CostInputs = { ...DEFAULT_INPUTS, ...stripUndefined(partial) } as CostInputs;
  const positive: Array<keyof CostInputs> = [
    'rps',
    'activeAccounts',
    'recordBytes',
    'gzipRatio',
    'eventsPerEnvelope',
    'aggregatorBatchSize',
    'parallelizationFactor',
    'aggregatorMemoryMb',
    'aggregatorEventsPerVcpuSecond',
    'writeConcurrency',
    'featureItemKb',
    'scoreIntervalMinutes',
    'scoreLookbackHours',
    'scorerMemoryMb',
    'transitionsPerExecution',
    'firehoseBufferMiB',
    'shardHeadroom',
    'activeHoursPerAccountPerDay',
  ];
  requireNumbers(inputs, positive, 'a positive number', (v) => v > 0);
  const nonNegative: Array<keyof CostInputs> = [
    'cwlEventOverheadBytes',
    'accessLogRetentionDays',
    'usageEventBytes',
    'batchingWindowSeconds',
    'ddbWriteLatencyMs',
    'invocationOverheadMs',
    'modelsPerBatch',
    'featuresRetentionDays',
    'scorerUsPerWindow',
    'flaggedShare',
    'suspiciousAccountRatePerDay',
    'banEventsPerCase',
    'reviewShare',
    'kmsKeys',
    'firehoseBufferSeconds',
    's3RetentionDays',
    'heavyTrafficShare',
    'heavyAccountShare',
  ];
  requireNumbers(inputs, nonNegative, 'a non-negative number', (v) => v >= 0);
  if (inputs.path !== 'cwl' && inputs.path !== 'firehose')
    throw new Error(`cost input 'path' must be 'cwl' or 'firehose', got ${JSON.stringify(inputs.path)}`);
  if (inputs.streamMode !== 'ON_DEMAND' && inputs.streamMode !== 'PROVISIONED') {
    throw new Error(`cost input 'streamMode' must be 'ON_DEMAND' or 'PROVISIONED', got ${JSON.stringify(inputs.streamMode)}`);
  }
  if (inputs.activeHoursPerAccountPerDay > 24)
    throw new Error(`cost input 'activeHoursPerAccountPerDay' must be at most 24, got ${inputs.activeHoursPerAccountPerDay}`);
  if (inputs.firehoseBufferSeconds > 900)
    throw new Error(`cost input 'firehoseBufferSeconds' must be between 0 and 900, got ${inputs.firehoseBufferSeconds}`);
  if (inputs.firehoseBufferMiB > 128) throw new Error(`cost input 'firehoseBufferMiB' must be between 1 and 128, got ${inputs.firehoseBufferMiB}`);
  if (inputs.parallelizationFactor > 10)
    throw new Error(`cost input 'parallelizationFactor' must be between 1 and 10, got ${inputs.parallelizationFactor}`);
  if (!(inputs.heavyTrafficShare <= 1) || !(inputs.heavyAccountShare < 1)) {
    throw new Error(
      `cost inputs 'heavyTrafficShare' must be in [0,1] and 'heavyAccountShare' in [0,1), got ${inputs.heavyTrafficShare} and ${inputs.heavyAccountShare}`,
    );
  }
  if (inputs.featuresCapacity !== 'ON_DEMAND' && inputs.featuresCapacity !== 'PROVISIONED') {
    throw new Error(`cost input 'featuresCapacity' must be 'ON_DEMAND' or 'PROVISIONED', got ${JSON.stringify(inputs.featuresCapacity)}`);
  }
  if (!(inputs.provisionedUtilization > 0 && inputs.provisionedUtilization <= 1)) {
    throw new Error(`cost input 'provisionedUtilization' must be in (0, 1], got ${JSON.stringify(inputs.provisionedUtilization)}`);
  }
  if (inputs.gsiProjection !== 'ALL' && inputs.gsiProjection !== 'KEYS_ONLY' && inputs.gsiProjection !== 'INCLUDE_CHANGES') {
    throw new Error(`cost input 'gsiProjection' must be 'ALL', 'KEYS_ONLY' or 'INCLUDE_CHANGES', got ${JSON.stringify(inputs.gsiProjection)}`);
  }
  if (!(inputs.scorerCacheMaxAgeMinutes > 0)) {
    throw new Error(`cost input 'scorerCacheMaxAgeMinutes' must be a positive number, got ${JSON.stringify(inputs.scorerCacheMaxAgeMinutes)}`);
  }
  if (inputs.accountsPerBatch !== undefined && !(inputs.accountsPerBatch > 0)) {
    throw new Error(`cost input 'accountsPerBatch' must be a positive number, got ${JSON.stringify(inputs.accountsPerBatch)}`);
  }
  return inputs;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Expected distinct accounts among `events` events spread over `accounts` equally active accounts. */
export function expectedDistinctAccounts(events: number, accounts: number): number {
  if (accounts <= 0 || events <= 0) return 0;
  return accounts * -Math.expm1(-events / accounts);
}

/** Adds one line of the estimate: `usage` of `price` a month, plus `extraUsd` priced by the `extra` prices. */
type AddLine = (component: string, stage: Stage, price: Price, usage: number, extra?: Price[], extraUsd?: number) => void;

export function estimateCost(partial: Partial<CostInputs> & { rps: number }): CostEstimate {
  const x = resolveInputs(partial);
  const lines: CostLine[] = [];
  const requestsPerMonth = x.rps * SECONDS_PER_MONTH;
  const add: AddLine = (component, stage, price, usage, extra = [], extraUsd = 0) => {
    const monthlyUsd = monthlyCost(price, usage) + extraUsd;
    lines.push({
      component,
      stage,
      service: price.service,
      monthlyUsd,
      perMillionRequestsUsd: (monthlyUsd / requestsPerMonth) * 1e6,
      usage,
      unit: price.unit,
      priceIds: [price.id, ...extra.map((p) => p.id)],
    });
  };

  const rawBytesPerSecond = x.rps * x.recordBytes;
  const accountsActivePerHour = Math.max(1, x.activeAccounts * (x.activeHoursPerAccountPerDay / 24));
  const ingest = ingestCost(x, requestsPerMonth, rawBytesPerSecond, add);
  const agg = aggregateCost(x, ingest, rawBytesPerSecond, accountsActivePerHour, add);
  const detect = detectCost(x, accountsActivePerHour, add);
  const { casesPerDay } = escalateCost(x, detect.scoreWrites, add);
  const platform = platformCost(x, ingest, agg, add);
  // aggregator GB-s last so the Lambda tiers see the whole account's usage is NOT modelled: each function is priced at its own tiers
  add('Lambda aggregator (GB-s)', 'aggregate', PRICES.lambdaArmGbSecond, agg.aggGbSeconds);

  const order: Stage[] = ['ingest', 'aggregate', 'detect', 'escalate', 'notify', 'platform'];
  lines.sort((a, b) => order.indexOf(a.stage) - order.indexOf(b.stage));
  const monthlyUsd = lines.reduce((s, l) => s + l.monthlyUsd, 0);
  return {
    inputs: x,
    lines,
    monthlyUsd,
    perMillionRequestsUsd: (monthlyUsd / requestsPerMonth) * 1e6,
    sizing: {
      requestsPerMonth,
      rawBytesPerSecond,
      kinesisRecordsPerSecond: ingest.kinesisRecordsPerSecond,
      kinesisBytesPerSecond: ingest.kinesisBytesPerSecond,
      shardsNeeded: ingest.shardsNeeded,
      provisionedShards: ingest.provisionedShards,
      aggregatorInvocationsPerSecond: agg.aggregatorInvocationsPerSecond,
      eventsPerInvocation: agg.eventsPerInvocation,
      accountsPerBatch: agg.accountsPerBatch,
      aggregatorSecondsPerInvocation: agg.aggregatorSecondsPerInvocation,
      aggregatorConcurrency: platform.aggregatorConcurrency,
      aggregatorLanes: platform.aggregatorLanes,
      aggregatorKeepsUp: platform.aggregatorKeepsUp,
      aggregatorCpuShare: agg.cpuSeconds / agg.aggregatorSecondsPerInvocation,
      featureWritesPerSecond: agg.featureWritesPerSecond,
      featureWruPerSecond: agg.featureWruPerSecond,
      accountsActivePerHour,
      windowsReadPerScorerRun: detect.windowsReadPerScorerRun,
      windowsFetchedPerScorerRun: detect.windowsFetchedPerScorerRun,
      scorerBytesReadPerRun: detect.scorerBytesReadPerRun,
      scorerSecondsPerRun: detect.scorerSecondsPerRun,
      casesPerDay,
      firehoseObjectsPerSecond: ingest.firehoseObjectsPerSecond,
      ingestLatencySeconds: agg.ingestLatencySeconds,
    },
  };
}

interface IngestSizing {
  streamExists: boolean;
  kinesisRecordsPerSecond: number;
  kinesisBytesPerSecond: number;
  firehoseObjectsPerSecond: number;
  shardsNeeded: number;
  provisionedShards: number;
}

/** Ingestion: CloudWatch Logs or Firehose + S3 for the access logs, and the Kinesis stream (envelopes, usage events). */
function ingestCost(x: CostInputs, requestsPerMonth: number, rawBytesPerSecond: number, add: AddLine): IngestSizing {
  let kinesisRecordsPerSecond = 0;
  let kinesisBilledBytesPerSecond = 0; // on-demand: each record rounded up to 1 KB
  let kinesisBytesPerSecond = 0;
  let kinesisPutUnitsPerSecond = 0;
  let firehoseObjectsPerSecond = 0;
  const streamExists = x.path === 'cwl' || x.usageEvents;

  if (x.path === 'cwl') {
    const cwlBytesPerMonth = (x.recordBytes + x.cwlEventOverheadBytes) * requestsPerMonth;
    add('CloudWatch Logs ingestion (access logs)', 'ingest', PRICES.cwlIngestStandard, cwlBytesPerMonth / GB);
    const storedGb = ((rawBytesPerSecond * 86400 * x.accessLogRetentionDays) / GB) * x.gzipRatio;
    add('CloudWatch Logs storage', 'ingest', PRICES.cwlStorage, storedGb);
    const envelopeBytes = x.eventsPerEnvelope * x.recordBytes * x.gzipRatio + 200;
    const envelopesPerSecond = x.rps / x.eventsPerEnvelope;
    kinesisRecordsPerSecond += envelopesPerSecond;
    kinesisBytesPerSecond += envelopesPerSecond * envelopeBytes;
    kinesisBilledBytesPerSecond += envelopesPerSecond * Math.ceil(envelopeBytes / 1024) * 1024;
    kinesisPutUnitsPerSecond += envelopesPerSecond * Math.ceil(envelopeBytes / (25 * 1024));
  } else {
    // API Gateway -> Firehose (Direct PUT, one record per request, rounded up to 5 KB) -> S3 (gzip) -> S3 event -> SQS -> aggregator
    const billedBytes = Math.ceil(x.recordBytes / 5120) * 5120 * requestsPerMonth;
    add('Firehose ingestion (access logs, 5 KB/record)', 'ingest', PRICES.firehoseDirectPutGb, billedBytes / GB);
    const intervalObjects = 1 / Math.max(1, x.firehoseBufferSeconds);
    const sizeObjects = rawBytesPerSecond / (x.firehoseBufferMiB * MIB);
    firehoseObjectsPerSecond = Math.max(intervalObjects, sizeObjects);
    const objectsPerMonth = firehoseObjectsPerSecond * SECONDS_PER_MONTH;
    add('S3 PUT (Firehose objects)', 'ingest', PRICES.s3Put, objectsPerMonth);
    add('S3 GET (aggregator reads objects)', 'aggregate', PRICES.s3Get, objectsPerMonth);
    const s3StoredGb = ((rawBytesPerSecond * 86400 * x.s3RetentionDays) / GB) * x.gzipRatio;
    add('S3 storage (raw logs, gzip)', 'ingest', PRICES.s3StandardStorage, s3StoredGb);
    // S3 event notification -> SQS: send (by S3), receive + delete (by the mapping), ~1 empty receive per object
    add('SQS (S3 event notifications)', 'aggregate', PRICES.sqsRequest, objectsPerMonth * 4);
  }
  if (x.usageEvents) {
    kinesisRecordsPerSecond += x.rps;
    kinesisBytesPerSecond += x.rps * x.usageEventBytes;
    kinesisBilledBytesPerSecond += x.rps * Math.ceil(x.usageEventBytes / 1024) * 1024;
    kinesisPutUnitsPerSecond += x.rps * Math.ceil(x.usageEventBytes / (25 * 1024));
  }
  const shardsNeeded = streamExists ? Math.max(1, Math.ceil(Math.max(kinesisBytesPerSecond / MIB, kinesisRecordsPerSecond / 1000))) : 0;
  const provisionedShards = streamExists ? Math.max(1, Math.ceil(shardsNeeded * x.shardHeadroom)) : 0;
  if (streamExists) {
    const label = x.path === 'cwl' ? (x.usageEvents ? 'access-log envelopes + usage events' : 'access-log envelopes') : 'usage events';
    if (x.streamMode === 'ON_DEMAND') {
      add('Kinesis stream-hours (on-demand)', 'ingest', PRICES.kdsOnDemandStreamHour, HOURS_PER_MONTH);
      add(`Kinesis data in (${label})`, 'ingest', PRICES.kdsOnDemandIngestGb, (kinesisBilledBytesPerSecond * SECONDS_PER_MONTH) / GB);
      add('Kinesis data out (aggregator reads)', 'ingest', PRICES.kdsOnDemandRetrieveGb, (kinesisBytesPerSecond * SECONDS_PER_MONTH) / GB);
    } else {
      add(`Kinesis shard-hours (${provisionedShards} shards)`, 'ingest', PRICES.kdsShardHour, provisionedShards * HOURS_PER_MONTH);
      add(`Kinesis PUT payload units (${label})`, 'ingest', PRICES.kdsPutPayloadUnit, kinesisPutUnitsPerSecond * SECONDS_PER_MONTH);
    }
  }
  return { streamExists, kinesisRecordsPerSecond, kinesisBytesPerSecond, firehoseObjectsPerSecond, shardsNeeded, provisionedShards };
}

interface AggregateSizing {
  eventsPerInvocation: number;
  aggregatorInvocationsPerSecond: number;
  ingestLatencySeconds: number;
  accountsPerBatch: number;
  cpuSeconds: number;
  aggregatorSecondsPerInvocation: number;
  aggGbSeconds: number;
  featureWritesPerSecond: number;
  featureWruPerSecond: number;
}

/** Aggregation: the aggregator's invocations and the features table's writes and storage (its GB-s are added last). */
function aggregateCost(x: CostInputs, ingest: IngestSizing, rawBytesPerSecond: number, accountsActivePerHour: number, add: AddLine): AggregateSizing {
  const { shardsNeeded, firehoseObjectsPerSecond } = ingest;
  let eventsPerInvocation: number;
  let aggregatorInvocationsPerSecond: number;
  let ingestLatencySeconds: number;
  if (x.path === 'cwl') {
    // one batch per (shard, parallelization lane): full at BatchSize records, else whatever arrived in the window
    const lanes = shardsNeeded * x.parallelizationFactor;
    const envelopesPerLanePerSecond = x.rps / x.eventsPerEnvelope / lanes;
    // a Lambda invocation payload is at most 6 MB: base64 of the gzip'd envelopes
    const maxRecordsByPayload = Math.max(1, Math.floor((6 * 1000 * 1000) / (((x.eventsPerEnvelope * x.recordBytes * x.gzipRatio + 200) * 4) / 3)));
    const recordsPerInvocation = Math.max(
      1,
      Math.min(x.aggregatorBatchSize, maxRecordsByPayload, envelopesPerLanePerSecond * Math.max(1, x.batchingWindowSeconds)),
    );
    eventsPerInvocation = recordsPerInvocation * x.eventsPerEnvelope;
    aggregatorInvocationsPerSecond = x.rps / eventsPerInvocation;
    // subscription delivery (~1-3 s) + wait to fill the batch (at most the batching window) + processing
    ingestLatencySeconds = 2 + Math.min(x.batchingWindowSeconds, recordsPerInvocation / envelopesPerLanePerSecond);
  } else {
    eventsPerInvocation = x.rps / firehoseObjectsPerSecond;
    aggregatorInvocationsPerSecond = firehoseObjectsPerSecond;
    // buffer (interval, or time to fill the size) + S3 event -> SQS -> mapping poll (~2 s)
    ingestLatencySeconds = Math.min(Math.max(1, x.firehoseBufferSeconds), (x.firehoseBufferMiB * MIB) / rawBytesPerSecond) + 2;
  }
  if (x.usageEvents && x.path === 'firehose') {
    // usage events have their own (Kinesis) aggregator invocations; same batching rules, one event per record
    aggregatorInvocationsPerSecond +=
      x.rps / Math.max(1, Math.min(x.aggregatorBatchSize, (x.rps / (shardsNeeded * x.parallelizationFactor)) * Math.max(1, x.batchingWindowSeconds)));
  }
  const accountsPerBatch = Math.min(
    x.accountsPerBatch ??
      expectedDistinctAccounts(eventsPerInvocation * x.heavyTrafficShare, accountsActivePerHour * x.heavyAccountShare) +
        expectedDistinctAccounts(eventsPerInvocation * (1 - x.heavyTrafficShare), accountsActivePerHour * (1 - x.heavyAccountShare)),
    eventsPerInvocation,
    accountsActivePerHour,
  );
  const writesPerInvocation = accountsPerBatch + x.modelsPerBatch;
  const vcpu = x.aggregatorMemoryMb / 1769;
  const cpuSeconds = eventsPerInvocation / (x.aggregatorEventsPerVcpuSecond * Math.min(1, vcpu));
  const aggregatorSecondsPerInvocation =
    x.invocationOverheadMs / 1000 + cpuSeconds + (Math.ceil(writesPerInvocation / x.writeConcurrency) * x.ddbWriteLatencyMs) / 1000;
  const aggInvocationsPerMonth = aggregatorInvocationsPerSecond * SECONDS_PER_MONTH;
  add('Lambda aggregator requests', 'aggregate', PRICES.lambdaRequest, aggInvocationsPerMonth);
  const aggGbSeconds = aggInvocationsPerMonth * aggregatorSecondsPerInvocation * (x.aggregatorMemoryMb / 1024);
  const featureWritesPerSecond = aggregatorInvocationsPerSecond * accountsPerBatch;
  // table item, plus the byHour GSI: every update with projection ALL; with KEYS_ONLY only when the window is created;
  // with INCLUDE_CHANGES when it is created and when a write falls in a new 5-minute bucket of the change marker
  // (k writes spread over the hour hit 12 * (1 - (11/12)^k) of its 12 buckets on average)
  const windowsCreatedPerSecond = accountsActivePerHour / 3600;
  const writesPerWindowHour = (featureWritesPerSecond * 3600) / accountsActivePerHour;
  const markerBucketsPerWindow = Math.max(1, 12 * (1 - (11 / 12) ** writesPerWindowHour));
  const gsiWritesPerSecond =
    x.gsiProjection === 'ALL'
      ? featureWritesPerSecond * Math.ceil(x.featureItemKb)
      : x.gsiProjection === 'KEYS_ONLY'
        ? windowsCreatedPerSecond
        : windowsCreatedPerSecond * markerBucketsPerWindow;
  const featureWruPerSecond =
    featureWritesPerSecond * Math.ceil(x.featureItemKb) + gsiWritesPerSecond + aggregatorInvocationsPerSecond * x.modelsPerBatch;
  const featureWru = featureWruPerSecond * SECONDS_PER_MONTH;
  if (x.featuresCapacity === 'ON_DEMAND') {
    add(`DynamoDB feature writes (1 per account-hour per batch, GSI ${x.gsiProjection})`, 'aggregate', PRICES.ddbWriteRequestUnit, featureWru);
  } else {
    const wcu = Math.ceil(featureWruPerSecond / x.provisionedUtilization);
    add(
      `DynamoDB feature writes (provisioned ${wcu.toLocaleString('en-US')} WCU, GSI ${x.gsiProjection})`,
      'aggregate',
      PRICES.ddbProvisionedWcuHour,
      wcu * HOURS_PER_MONTH,
    );
  }
  const featureStorageGb =
    (accountsActivePerHour * 24 * x.featuresRetentionDays * (x.featureItemKb * 1024 * (x.gsiProjection === 'ALL' ? 2 : 1) + 100)) / GB;
  add('DynamoDB storage (features + GSI)', 'aggregate', PRICES.ddbStorage, featureStorageGb);
  return {
    eventsPerInvocation,
    aggregatorInvocationsPerSecond,
    ingestLatencySeconds,
    accountsPerBatch,
    cpuSeconds,
    aggregatorSecondsPerInvocation,
    aggGbSeconds,
    featureWritesPerSecond,
    featureWruPerSecond,
  };
}

/** Detection: the scheduled scorer's reads of the features table and its run time. */
function detectCost(x: CostInputs, accountsActivePerHour: number, add: AddLine) {
  const runsPerMonth = (HOURS_PER_MONTH * 60) / x.scoreIntervalMinutes;
  const windowsPerAccount = Math.min(x.scoreLookbackHours, (x.activeHoursPerAccountPerDay * x.scoreLookbackHours) / 24);
  const windowsReadPerScorerRun = x.activeAccounts * windowsPerAccount;
  // INCLUDE_CHANGES: a warm scorer re-reads the windows written in the last interval + marker bucket + margin
  // (5 + 5 + 5 minutes: about one window per account written in that time), plus each cached window once per
  // scorerCacheMaxAgeMinutes; a cold start reads everything once (not modelled: a few per day).
  const changedMinutes = x.scoreIntervalMinutes + 10;
  const changedEvents = x.rps * changedMinutes * 60;
  const windowsChangedPerRun = Math.min(
    windowsReadPerScorerRun,
    expectedDistinctAccounts(changedEvents * x.heavyTrafficShare, accountsActivePerHour * x.heavyAccountShare) +
      expectedDistinctAccounts(changedEvents * (1 - x.heavyTrafficShare), accountsActivePerHour * (1 - x.heavyAccountShare)) +
      (windowsReadPerScorerRun * x.scoreIntervalMinutes) / x.scorerCacheMaxAgeMinutes,
  );
  const windowsFetchedPerScorerRun = x.gsiProjection === 'INCLUDE_CHANGES' ? windowsChangedPerRun : windowsReadPerScorerRun;
  const scorerBytesReadPerRun = windowsFetchedPerScorerRun * x.featureItemKb * 1024;
  // ALL: Query, eventually consistent: 0.5 RRU per 4 KB of items read (sizes summed per page).
  // KEYS_ONLY / INCLUDE_CHANGES: Query the index entries (~100 B each, summed per page), then BatchGetItem each window
  // to read (0.5 RRU per started 4 KB, per item).
  const rruPerRun =
    x.gsiProjection === 'ALL'
      ? (scorerBytesReadPerRun / 4096) * 0.5
      : ((windowsReadPerScorerRun * 100) / 4096) * 0.5 + windowsFetchedPerScorerRun * Math.ceil(x.featureItemKb / 4) * 0.5;
  add(
    x.gsiProjection === 'INCLUDE_CHANGES'
      ? 'DynamoDB scorer reads (index listing + changed windows per run)'
      : 'DynamoDB scorer reads (full lookback per run)',
    'detect',
    PRICES.ddbReadRequestUnit,
    rruPerRun * runsPerMonth,
  );
  const scoreWrites = x.activeAccounts * x.flaggedShare * runsPerMonth;
  const scorerSecondsPerRun =
    1 + (windowsReadPerScorerRun * x.scorerUsPerWindow) / 1e6 / Math.min(1, x.scorerMemoryMb / 1769) + scorerBytesReadPerRun / (100 * MIB);
  add(
    'Lambda scorer (GB-s)',
    'detect',
    PRICES.lambdaArmGbSecond,
    runsPerMonth * scorerSecondsPerRun * (x.scorerMemoryMb / 1024),
    [PRICES.lambdaRequest],
    runsPerMonth * PRICES.lambdaRequest.usd,
  );
  return { scoreWrites, windowsReadPerScorerRun, windowsFetchedPerScorerRun, scorerBytesReadPerRun, scorerSecondsPerRun };
}

/** Escalation and notification: the cases' workflow, review queue, control-table writes and ban events. */
function escalateCost(x: CostInputs, scoreWrites: number, add: AddLine): { casesPerDay: number } {
  const casesPerDay = x.activeAccounts * x.suspiciousAccountRatePerDay;
  const casesPerMonth = casesPerDay * (HOURS_PER_MONTH / 24);
  add('Step Functions transitions', 'escalate', PRICES.sfnStandardTransition, casesPerMonth * x.transitionsPerExecution);
  add('SQS review queue', 'escalate', PRICES.sqsRequest, casesPerMonth * x.reviewShare * 6);
  // case + 3 audit + status + outbox put + outbox publish update ~ 8 writes of <= 2 KB; plus SCORE updates from the scorer
  add('DynamoDB control table writes (scores, cases, audit, outbox)', 'escalate', PRICES.ddbWriteRequestUnit, scoreWrites + casesPerMonth * 16);
  add('EventBridge ban events', 'notify', PRICES.eventBridgeCustomEvent, casesPerMonth * x.banEventsPerCase);
  // workflow steps + outbox publisher: ~6 invocations of ~300 ms at 512 MB per case
  add(
    'Lambda escalation + outbox (GB-s)',
    'escalate',
    PRICES.lambdaArmGbSecond,
    casesPerMonth * 6 * 0.3 * 0.5,
    [PRICES.lambdaRequest],
    casesPerMonth * 6 * PRICES.lambdaRequest.usd,
  );
  return { casesPerDay };
}

/** Platform: KMS, sized by the aggregator's concurrency and the stream's shards. */
function platformCost(x: CostInputs, ingest: IngestSizing, agg: AggregateSizing, add: AddLine) {
  const { streamExists, shardsNeeded } = ingest;
  const { aggregatorInvocationsPerSecond, aggregatorSecondsPerInvocation } = agg;
  const aggregatorConcurrency = aggregatorInvocationsPerSecond * aggregatorSecondsPerInvocation;
  const aggregatorLanes = x.path === 'cwl' ? shardsNeeded * x.parallelizationFactor : null;
  const aggregatorKeepsUp = aggregatorLanes === null || aggregatorConcurrency * 1.3 <= aggregatorLanes;
  // AWS services cache data keys ~5 min per principal/connection: Kinesis (producer + consumer per shard),
  // DynamoDB, SQS, CloudWatch Logs and Lambda per concurrent execution environment: ~12 requests/hour each.
  const kmsCallers = (streamExists ? shardsNeeded * 2 : 0) + Math.ceil(aggregatorConcurrency) + 6;
  add(
    'KMS requests + keys',
    'platform',
    PRICES.kmsRequest,
    kmsCallers * 12 * HOURS_PER_MONTH,
    [PRICES.kmsKeyMonth],
    x.kmsKeys * PRICES.kmsKeyMonth.usd,
  );
  return { aggregatorConcurrency, aggregatorLanes, aggregatorKeepsUp };
}

/** Both paths for the same inputs. */
export function comparePaths(partial: Partial<CostInputs> & { rps: number }): { cwl: CostEstimate; firehose: CostEstimate } {
  return { cwl: estimateCost({ ...partial, path: 'cwl' }), firehose: estimateCost({ ...partial, path: 'firehose' }) };
}

/**
 * Monthly cost of the feature table's write load in each DynamoDB capacity mode: on-demand, and provisioned with
 * auto scaling at `targetUtilization` (capacity follows the load, so this is the steady-state figure; surges above
 * the provisioned capacity throttle until auto scaling catches up, which the Kinesis mapping absorbs as iterator age).
 */
export function ddbCapacityModes(
  wruPerSecond: number,
  targetUtilization = 0.7,
): { onDemandUsd: number; provisionedUsd: number; provisionedWcu: number } {
  if (!(wruPerSecond >= 0)) throw new Error(`wruPerSecond must be a non-negative number, got ${wruPerSecond}`);
  if (!(targetUtilization > 0 && targetUtilization <= 1)) throw new Error(`targetUtilization must be in (0, 1], got ${targetUtilization}`);
  const provisionedWcu = Math.ceil(wruPerSecond / targetUtilization);
  return {
    onDemandUsd: wruPerSecond * SECONDS_PER_MONTH * PRICES.ddbWriteRequestUnit.usd,
    provisionedUsd: provisionedWcu * HOURS_PER_MONTH * PRICES.ddbProvisionedWcuHour.usd,
    provisionedWcu,
  };
}

/**
 * The smallest parallelizationFactor (1..10) at which the aggregator keeps up on the cwl path. More lanes mean
 * smaller batches, hence more feature writes per event, so this is a search, not a division. `null` when even 10
 * lanes per shard do not keep up (raise writeConcurrency, memory, or move to the firehose path).
 */
export function recommendParallelizationFactor(partial: Partial<CostInputs> & { rps: number }): number | null {
  for (let pf = 1; pf <= 10; pf++) {
    if (estimateCost({ ...partial, path: 'cwl', parallelizationFactor: pf }).sizing.aggregatorKeepsUp) return pf;
  }
  return null;
}
