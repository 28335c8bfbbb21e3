/**
 * The suspension-rate circuit breaker (`BREAKER` / `STATE` and the hourly counters `BREAKER` / `HOUR#<hour>`).
 * Automatic suspensions and restrictions count on it; past the guardrails' hourly limit it refuses them and
 * trips, and only an operator re-arms it. The limit is enforced inside each decision's own transaction
 * (breakerItems), so a burst of simultaneous cases can never apply more than it.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { BreakerState } from '../../src/escalate/guardrails';
import { keys } from '../../src/shared/tables';
import { EscalationStore, type TransactItems } from './store';

const HOUR_MS = 3_600_000;

export async function getBreaker(store: EscalationStore): Promise<BreakerState> {
  const r = await store.ddb.send(new GetCommand({ TableName: store.table, Key: keys.breakerState(), ConsistentRead: true }));
  return (r.Item as BreakerState | undefined) ?? { tripped: false };
}

/** Auto-suspensions counted in the current and previous hour. */
export async function breakerCounts(store: EscalationStore, nowMs = store.now()): Promise<{ current: number; previous: number }> {
  const hour = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
  const [cur, prev] = await Promise.all(
    [hour, hour - HOUR_MS].map((h) => store.ddb.send(new GetCommand({ TableName: store.table, Key: keys.breakerHour(h), ConsistentRead: true }))),
  );
  return { current: Number(cur.Item?.n ?? 0), previous: Number(prev.Item?.n ?? 0) };
}

/**
 * How high the current hour's counter may go under `limit` (the sliding hour: current + previous * (1 - elapsed)
 * must stay <= limit after the increment). Below 1: no room left.
 */
export async function breakerHourCap(store: EscalationStore, now: number, limit: number): Promise<number> {
  const { previous } = await breakerCounts(store, now);
  return Math.floor(limit - previous * (1 - (now % HOUR_MS) / HOUR_MS) + 1e-9);
}

/**
 * The breaker's part of a counted decision's transaction: the breaker is not tripped, and the hour counter moves
 * only while it is below `hourCap` (Infinity: unbounded). Returns the two items, state check first.
 */
export function breakerItems(store: EscalationStore, now: number, hourCap: number): TransactItems {
  const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
  const bounded = Number.isFinite(hourCap);
  return [
    {
      ConditionCheck: {
        TableName: store.table,
        Key: keys.breakerState(),
        ConditionExpression: 'attribute_not_exists(tripped) OR tripped = :f',
        ExpressionAttributeValues: { ':f': false },
      },
    },
    {
      Update: {
        TableName: store.table,
        Key: keys.breakerHour(hour),
        UpdateExpression: 'ADD n :one SET expiresAt = :exp',
        // The limit, atomically: the counter only moves while it is below the cap.
        ...(bounded ? { ConditionExpression: 'attribute_not_exists(n) OR n < :cap' } : {}),
        ExpressionAttributeValues: { ':one': 1, ':exp': Math.floor(hour / 1000) + 3 * 86_400, ...(bounded ? { ':cap': hourCap } : {}) },
      },
    },
  ];
}

/** Trip the breaker (idempotent: only the first trip is recorded). Returns true when this call tripped it. */
export async function tripBreaker(store: EscalationStore, reason: string, caseId: string, accountId: string): Promise<boolean> {
  const at = new Date(store.now()).toISOString();
  const trip = {
    TableName: store.table,
    Key: keys.breakerState(),
    UpdateExpression: 'SET tripped = :t, trippedAt = :at, trippedReason = :r, trippedByCase = :c',
    ConditionExpression: 'attribute_not_exists(tripped) OR tripped = :f',
    ExpressionAttributeValues: { ':t': true, ':f': false, ':at': at, ':r': reason, ':c': caseId },
  };
  try {
    await store.transactAudited([{ Update: trip }], { caseId, accountId, actor: 'auto', action: 'breaker-tripped', reason });
    return true;
  } catch (err) {
    if (err instanceof TransactionCanceledException) return false;
    throw err;
  }
}

export async function rearmBreaker(store: EscalationStore, actor: string, reason: string): Promise<BreakerState> {
  const at = new Date(store.now()).toISOString();
  const rearm = {
    TableName: store.table,
    Key: keys.breakerState(),
    UpdateExpression: 'SET tripped = :f, rearmedAt = :at, rearmedBy = :by, rearmReason = :r',
    ExpressionAttributeValues: { ':f': false, ':at': at, ':by': actor, ':r': reason },
  };
  await store.transactAudited([{ Update: rearm }], { caseId: keys.opsAuditCase(), accountId: '-', actor, action: 'breaker-rearmed', reason });
  return getBreaker(store);
}
