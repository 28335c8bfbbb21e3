/**
 * The allowlist (`ALLOW#<accountId>` / `ALLOW`, listed under the byState partition `ALLOW`): reviewed exceptions
 * the guardrails never suspend or restrict. Every change is audited under the ops pseudo-case. Entries expire
 * (TTL, also checked on read), at most ALLOWLIST_MAX_DAYS ahead.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { AllowEntry } from '../../src/escalate/guardrails';
import { assertId } from '../../src/escalate/model';
import { ALLOW_GSI_PK, keys } from '../../src/shared/tables';
import { EscalationStore, OperatorError, type TransactItems } from './store';

/** Longest allowlist entry: an allowlist is a reviewed exception, not a permanent state. */
export const ALLOWLIST_MAX_DAYS = 366;
export const ALLOWLIST_MAX_OWNER = 128;
export const ALLOWLIST_MAX_REASON = 1000;

export async function getAllow(store: EscalationStore, accountId: string): Promise<AllowEntry | undefined> {
  const r = await store.ddb.send(new GetCommand({ TableName: store.table, Key: keys.allow(accountId), ConsistentRead: true }));
  return r.Item as AllowEntry | undefined;
}

/** A decision's transaction item that fails while the account has a live allowlist entry. */
export function notAllowlisted(store: EscalationStore, accountId: string, now: number): TransactItems[number] {
  return {
    ConditionCheck: {
      TableName: store.table,
      Key: keys.allow(accountId),
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :nowS',
      ExpressionAttributeValues: { ':nowS': Math.floor(now / 1000) },
    },
  };
}

function boundedText(what: string, v: unknown, max: number): string {
  if (typeof v !== 'string' || !v.trim()) throw new OperatorError(`allowlist ${what} must not be empty`);
  if (v.length > max) throw new OperatorError(`allowlist ${what} must be at most ${max} characters, got ${v.length}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) throw new OperatorError(`allowlist ${what} must not contain control characters`);
  return v;
}

function checkExpiry(expiresAtMs: unknown, now: number): void {
  if (typeof expiresAtMs !== 'number' || !Number.isFinite(expiresAtMs))
    throw new OperatorError(`allowlist expiry must be a date, got ${JSON.stringify(expiresAtMs)}`);
  if (!(expiresAtMs > now)) throw new OperatorError(`allowlist expiry must be in the future, got ${new Date(expiresAtMs).toISOString()}`);
  const latest = now + ALLOWLIST_MAX_DAYS * 86_400_000;
  if (expiresAtMs > latest) {
    throw new OperatorError(
      `allowlist expiry must be at most ${ALLOWLIST_MAX_DAYS} days ahead (${new Date(latest).toISOString()}), got ${new Date(expiresAtMs).toISOString()}; renew the entry when it ends`,
    );
  }
}

export async function allowlistAdd(
  store: EscalationStore,
  e: { accountId: string; owner: string; reason: string; expiresAtMs: number; actor: string },
): Promise<AllowEntry> {
  assertId('accountId', e.accountId);
  boundedText('owner', e.owner, ALLOWLIST_MAX_OWNER);
  boundedText('reason', e.reason, ALLOWLIST_MAX_REASON);
  const now = store.now();
  checkExpiry(e.expiresAtMs, now);
  const entry: AllowEntry & Record<string, unknown> = {
    ...keys.allow(e.accountId),
    accountId: e.accountId,
    owner: e.owner,
    reason: e.reason,
    expiresAt: Math.floor(e.expiresAtMs / 1000),
    createdAt: new Date(now).toISOString(),
    createdBy: e.actor,
    gsi1pk: ALLOW_GSI_PK,
    gsi1sk: e.accountId,
  };
  await store.transactAudited([{ Put: { TableName: store.table, Item: entry } }], {
    caseId: keys.opsAuditCase(),
    accountId: e.accountId,
    actor: e.actor,
    action: 'allowlist-added',
    reason: e.reason,
    details: { owner: e.owner, expiresAt: new Date(entry.expiresAt * 1000).toISOString() },
  });
  return entry;
}

export async function allowlistList(store: EscalationStore): Promise<AllowEntry[]> {
  const now = store.now();
  return ((await store.queryState(ALLOW_GSI_PK)) as unknown as AllowEntry[]).filter((e) => e.expiresAt * 1000 > now);
}

export async function allowlistRemove(store: EscalationStore, accountId: string, actor: string, reason: string): Promise<void> {
  assertId('accountId', accountId);
  try {
    await store.transactAudited([{ Delete: { TableName: store.table, Key: keys.allow(accountId), ConditionExpression: 'attribute_exists(pk)' } }], {
      caseId: keys.opsAuditCase(),
      accountId,
      actor,
      action: 'allowlist-removed',
      reason,
    });
  } catch (err) {
    if (err instanceof TransactionCanceledException && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') {
      throw new OperatorError(`account ${accountId} is not on the allowlist`);
    }
    throw err;
  }
}
