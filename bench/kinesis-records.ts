/**
 * Helpers shared by the aggregator tests and the benchmark: Kinesis event records in the exact shape Lambda
 * delivers them, and reading the features table back as canonical windows.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { canonicalWindow, itemToWindow, type Window } from '../src/aggregate';

const ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/distill-guard-ingest';

/** A Kinesis sequence number (56 decimal digits) for position `i` of a shard. */
export function seqNumber(shard: number, i: number): string {
  return '496' + String(shard).padStart(5, '0') + String(i).padStart(48, '0');
}

export function shardId(shard: number): string {
  return `shardId-${String(shard).padStart(12, '0')}`;
}

export function kinesisRecord(data: string, shard: number, i: number, partitionKey = `pk-${i % 7}`): KinesisStreamRecord {
  const sequenceNumber = seqNumber(shard, i);
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber,
      data,
      approximateArrivalTimestamp: 1793577600 + i / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId(shard)}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/aggregator',
    awsRegion: 'us-east-1',
    eventSourceARN: ARN,
  };
}

/** Every item of the table, raw. */
export async function scanAll(ddb: DynamoDBClient, tableName: string): Promise<Array<Record<string, AttributeValue>>> {
  const out: Array<Record<string, AttributeValue>> = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const r = await ddb.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
    out.push(...(r.Items ?? []));
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

/** All window items as canonical windows, sorted by key (for exact comparisons). */
export async function readWindows(ddb: DynamoDBClient, tableName: string): Promise<Window[]> {
  const items = await scanAll(ddb, tableName);
  const ws = items
    .map((i) => itemToWindow(i))
    .filter((w): w is Window => w !== null)
    .map(canonicalWindow);
  ws.sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : a.windowStart - b.windowStart));
  return ws;
}

/** MODEL#<m>/FIRST items as { model: firstSeen }. */
export async function readModelFirstSeen(ddb: DynamoDBClient, tableName: string): Promise<Record<string, number>> {
  const items = await scanAll(ddb, tableName);
  const out: Record<string, number> = {};
  for (const i of items) if (i.pk.S?.startsWith('MODEL#')) out[i.pk.S.slice(6)] = Number(i.firstSeen?.N);
  return out;
}
