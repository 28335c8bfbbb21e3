/** Seeds a features table as the aggregator leaves it: window items, and each model's first-seen item. */
import { BatchWriteItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { windowToItem } from '../../src/aggregate/item';
import type { AccountWindow } from '../../src/aggregate/window';

/** Window items last written an hour ago (the change marker a warm scorer reads), kept `retentionDays`. */
export async function putFeatures(
  ddb: Pick<DynamoDBClient, 'send'>,
  table: string,
  windows: readonly AccountWindow[],
  firstSeen: Record<string, number>,
  retentionDays: number,
): Promise<void> {
  const items = windows.map((w) => windowToItem(w, retentionDays, Date.now() - 3_600_000));
  for (let i = 0; i < items.length; i += 25) {
    const batch = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item: Item as never } }));
    await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: batch } }));
  }
  for (const [m, ts] of Object.entries(firstSeen)) {
    const Item = { pk: { S: `MODEL#${m}` }, sk: { S: 'FIRST' }, firstSeen: { N: String(ts) }, model: { S: m } };
    await ddb.send(new PutItemCommand({ TableName: table, Item }));
  }
}

/** Each model's first request in `reqs` (time order). */
export function firstSeenOf(reqs: readonly { model: string; ts: number }[]): Record<string, number> {
  const first: Record<string, number> = {};
  for (const r of reqs) if (!(r.model in first)) first[r.model] = r.ts;
  return first;
}
