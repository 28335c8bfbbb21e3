/**
 * What the escalation code reads from the features table (written by the aggregator): how many accounts were
 * active in the last hour (the breaker's share rule) and an account's recent windows (a case's evidence).
 */
import { FEATURES_BY_HOUR_INDEX, GSI_BUCKETS, WINDOW_PREFIX, accountPk, hourGsiPk, pad13 } from '../../src/shared/tables';
import { EscalationStore } from './store';

const HOUR_MS = 3_600_000;

/** Accounts active in the most recent complete or current hour (features table GSI byHour, all buckets). */
export async function activeAccounts(store: EscalationStore, nowMs = store.now()): Promise<number | undefined> {
  if (!store.featuresTable) return undefined;
  const hour = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
  const counts = await Promise.all(
    [hour, hour - HOUR_MS].map(async (h) => {
      let total = 0;
      for (let b = 0; b < GSI_BUCKETS; b++) {
        for await (const r of store.queryPages({
          TableName: store.featuresTable,
          IndexName: FEATURES_BY_HOUR_INDEX,
          KeyConditionExpression: 'gsi1pk = :p',
          ExpressionAttributeValues: { ':p': hourGsiPk(h, b) },
          Select: 'COUNT',
        }))
          total += r.Count ?? 0;
      }
      return total;
    }),
  );
  return Math.max(...counts);
}

/** Feature windows of an account (most recent `hours`). */
export async function accountWindows(store: EscalationStore, accountId: string, hours = 24 * 14): Promise<Record<string, unknown>[]> {
  if (!store.featuresTable) return [];
  const since = store.now() - hours * HOUR_MS;
  const out: Record<string, unknown>[] = [];
  for await (const r of store.queryPages({
    TableName: store.featuresTable,
    KeyConditionExpression: 'pk = :p AND sk >= :s',
    ExpressionAttributeValues: { ':p': accountPk(accountId), ':s': `${WINDOW_PREFIX}${pad13(since)}` },
  })) {
    out.push(...((r.Items ?? []) as Record<string, unknown>[]));
    if (out.length >= 2000) break;
  }
  return out;
}
