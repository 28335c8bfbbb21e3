/**
 * us-east-1 LIST prices used by the cost model (docs/cost.md). Looked up on 2026-11-28 from the pages cited in
 * `source`; they are list prices without free tiers, Savings Plans, reserved capacity or private pricing, and AWS
 * changes them: re-check every figure against the cited page before you quote a number to anyone.
 *
 * docs/cost.md ("How these were checked") says which of these were confirmed against a stored copy of the page and
 * which are long-standing list prices still to re-read.
 *
 * Units: "GB" is 2^30 bytes, as AWS bills data volume. Tiered prices list the size of each tier in the price's unit.
 */

export interface Price {
  /** Stable id used by the model. */
  readonly id: string;
  readonly service: string;
  /** What one unit is. */
  readonly unit: string;
  /** USD per unit (first tier when tiered). */
  readonly usd: number;
  /** Further tiers: `upTo` units per month at `usd` (cumulative bound; the last tier has upTo = Infinity). */
  readonly tiers?: ReadonlyArray<{ readonly upTo: number; readonly usd: number }>;
  readonly source: string;
  readonly sourceTitle: string;
  readonly note?: string;
}

/** The date the prices below were looked up (UTC). */
export const PRICES_AS_OF = '2026-11-28';
export const PRICES_REGION = 'us-east-1';

const CW = { source: 'https://aws.amazon.com/cloudwatch/pricing/', sourceTitle: 'Amazon CloudWatch Pricing' };
const KDS = { source: 'https://aws.amazon.com/kinesis/data-streams/pricing/', sourceTitle: 'Amazon Kinesis Data Streams pricing' };
const LAMBDA = { source: 'https://aws.amazon.com/lambda/pricing/', sourceTitle: 'AWS Lambda Pricing' };
const DDB = { source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/', sourceTitle: 'Amazon DynamoDB pricing for on-demand capacity' };
const DDB_PROVISIONED = {
  source: 'https://aws.amazon.com/dynamodb/pricing/provisioned/',
  sourceTitle: 'Amazon DynamoDB pricing for provisioned capacity',
};
const SFN = { source: 'https://aws.amazon.com/step-functions/pricing/', sourceTitle: 'AWS Step Functions Pricing' };
const EB = { source: 'https://aws.amazon.com/eventbridge/pricing/', sourceTitle: 'Amazon EventBridge Pricing' };
const SQS = { source: 'https://aws.amazon.com/sqs/pricing/', sourceTitle: 'Amazon SQS pricing' };
const KMS = { source: 'https://aws.amazon.com/kms/pricing/', sourceTitle: 'AWS Key Management Service Pricing' };
const FH = { source: 'https://aws.amazon.com/firehose/pricing/', sourceTitle: 'Amazon Data Firehose Pricing' };
const S3 = { source: 'https://aws.amazon.com/s3/pricing/', sourceTitle: 'Amazon S3 Pricing' };

export const PRICES = {
  cwlIngestStandard: {
    id: 'cwlIngestStandard',
    service: 'CloudWatch Logs',
    unit: 'GB ingested (Standard log class)',
    usd: 0.5,
    ...CW,
    note: 'API Gateway access logs are written by API Gateway into your log group (custom logs), so the Standard rate applies, not the vended-logs tiers. The Infrequent Access class ($0.25/GB) does not support subscription filters, so it cannot feed the stream.',
  },
  cwlIngestVendedFirstTier: {
    id: 'cwlIngestVendedFirstTier',
    service: 'CloudWatch Logs',
    unit: 'GB ingested (vended logs, first 10 TB)',
    usd: 0.5,
    tiers: [
      { upTo: 10 * 1024, usd: 0.5 },
      { upTo: 30 * 1024, usd: 0.25 },
      { upTo: 50 * 1024, usd: 0.1 },
      { upTo: Infinity, usd: 0.05 },
    ],
    ...CW,
    note: 'Listed for comparison only: API Gateway access logs are not vended logs.',
  },
  cwlStorage: { id: 'cwlStorage', service: 'CloudWatch Logs', unit: 'GB-month stored (archived, compressed)', usd: 0.03, ...CW },
  kdsOnDemandStreamHour: { id: 'kdsOnDemandStreamHour', service: 'Kinesis Data Streams', unit: 'stream-hour (on-demand)', usd: 0.04, ...KDS },
  kdsOnDemandIngestGb: {
    id: 'kdsOnDemandIngestGb',
    service: 'Kinesis Data Streams',
    unit: 'GB written (on-demand; each record rounded up to 1 KB)',
    usd: 0.08,
    ...KDS,
  },
  kdsOnDemandRetrieveGb: { id: 'kdsOnDemandRetrieveGb', service: 'Kinesis Data Streams', unit: 'GB read (on-demand)', usd: 0.04, ...KDS },
  kdsShardHour: { id: 'kdsShardHour', service: 'Kinesis Data Streams', unit: 'shard-hour (provisioned)', usd: 0.015, ...KDS },
  kdsPutPayloadUnit: {
    id: 'kdsPutPayloadUnit',
    service: 'Kinesis Data Streams',
    unit: 'PUT payload unit (25 KB chunk of a record, provisioned)',
    usd: 0.014 / 1e6,
    ...KDS,
  },
  lambdaArmGbSecond: {
    id: 'lambdaArmGbSecond',
    service: 'Lambda',
    unit: 'GB-second (Arm)',
    usd: 0.0000133334,
    tiers: [
      { upTo: 7.5e9, usd: 0.0000133334 },
      { upTo: 18.75e9, usd: 0.0000120001 },
      { upTo: Infinity, usd: 0.0000106667 },
    ],
    ...LAMBDA,
  },
  lambdaRequest: { id: 'lambdaRequest', service: 'Lambda', unit: 'request', usd: 0.2 / 1e6, ...LAMBDA },
  ddbWriteRequestUnit: {
    id: 'ddbWriteRequestUnit',
    service: 'DynamoDB',
    unit: 'write request unit (on-demand, 1 KB)',
    usd: 0.625 / 1e6,
    ...DDB,
    note: 'On-demand throughput was halved on 2024-11-01 (was $1.25 per million WRU).',
  },
  ddbReadRequestUnit: {
    id: 'ddbReadRequestUnit',
    service: 'DynamoDB',
    unit: 'read request unit (on-demand, 4 KB strongly consistent / 8 KB eventually consistent)',
    usd: 0.125 / 1e6,
    ...DDB,
  },
  ddbProvisionedWcuHour: {
    id: 'ddbProvisionedWcuHour',
    service: 'DynamoDB',
    unit: 'write capacity unit-hour (provisioned)',
    usd: 0.00065,
    ...DDB_PROVISIONED,
  },
  ddbProvisionedRcuHour: {
    id: 'ddbProvisionedRcuHour',
    service: 'DynamoDB',
    unit: 'read capacity unit-hour (provisioned)',
    usd: 0.00013,
    ...DDB_PROVISIONED,
  },
  ddbStorage: { id: 'ddbStorage', service: 'DynamoDB', unit: 'GB-month (Standard table class, incl. index storage)', usd: 0.25, ...DDB },
  sfnStandardTransition: { id: 'sfnStandardTransition', service: 'Step Functions', unit: 'state transition (Standard)', usd: 0.025 / 1000, ...SFN },
  eventBridgeCustomEvent: { id: 'eventBridgeCustomEvent', service: 'EventBridge', unit: 'custom event published (64 KB chunk)', usd: 1 / 1e6, ...EB },
  sqsRequest: { id: 'sqsRequest', service: 'SQS', unit: 'request (standard queue, 64 KB chunk)', usd: 0.4 / 1e6, ...SQS },
  kmsRequest: { id: 'kmsRequest', service: 'KMS', unit: 'API request (symmetric)', usd: 0.03 / 10000, ...KMS },
  kmsKeyMonth: { id: 'kmsKeyMonth', service: 'KMS', unit: 'customer-managed key-month', usd: 1, ...KMS },
  firehoseDirectPutGb: {
    id: 'firehoseDirectPutGb',
    service: 'Amazon Data Firehose',
    unit: 'GB ingested (Direct PUT; each record rounded up to 5 KB)',
    usd: 0.029,
    tiers: [
      { upTo: 500 * 1024, usd: 0.029 },
      { upTo: 2000 * 1024, usd: 0.025 },
      { upTo: 5000 * 1024, usd: 0.02 },
      { upTo: Infinity, usd: 0.02 },
    ],
    ...FH,
    note: 'Tiers: first 500 TB/month $0.029, next 1.5 PB $0.025, next 3 PB $0.020 per GB (beyond 5 PB: contact AWS; the model keeps $0.020). API Gateway access logs arrive one request per Firehose record, so a ~450-byte line is billed as 5 KB.',
  },
  s3StandardStorage: { id: 's3StandardStorage', service: 'S3', unit: 'GB-month (S3 Standard, first 50 TB)', usd: 0.023, ...S3 },
  s3Put: { id: 's3Put', service: 'S3', unit: 'PUT/COPY/POST/LIST request (S3 Standard)', usd: 0.005 / 1000, ...S3 },
  s3Get: { id: 's3Get', service: 'S3', unit: 'GET request (S3 Standard)', usd: 0.0004 / 1000, ...S3 },
} as const satisfies Record<string, Price>;

export type PriceId = keyof typeof PRICES;

/** Cost of `units` units in one month of a (possibly tiered) price. */
export function monthlyCost(price: Price, units: number): number {
  if (!Number.isFinite(units) || units < 0) throw new Error(`units must be a finite non-negative number, got ${units}`);
  if (!price.tiers) return units * price.usd;
  let cost = 0;
  let done = 0;
  for (const tier of price.tiers) {
    if (units <= done) break;
    const inTier = Math.min(units, tier.upTo) - done;
    cost += inTier * tier.usd;
    done = Math.min(units, tier.upTo);
  }
  return cost;
}
