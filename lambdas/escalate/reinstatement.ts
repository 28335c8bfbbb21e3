/**
 * Reinstating a suspended account, by an operator or by the expirer when the suspension ends. The keys the
 * suspension disabled are re-enabled FIRST, while the account is still `suspended` and on the suspended index: if
 * that fails (a throttled UpdateApiKey), nothing else has changed, no event has gone out, and the expirer (or the
 * operator) simply tries again. Then one transaction, guarded on the suspension it saw: status restored, audit
 * entry, `Account Reinstated` outbox event. A restricted account is lifted instead (restriction-store.ts).
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { assertId, CaseRecord } from '../../src/escalate/model';
import { reinstatedEvent } from '../../src/notify/ban-event';
import { SUSPENDED_GSI_PK, keys, pad13 } from '../../src/shared/tables';
import { setKeysEnabled } from './api-keys';
import { liftRestriction, restoreRestrictedKeys } from './restriction-store';
import { AccountStatus, EscalationStore, OperatorError } from './store';

export interface Reinstate {
  accountId: string;
  actor: string;
  reason: string;
  kind: 'manual' | 'expired';
}

export interface ReinstateResult {
  reinstated: boolean;
  keys: string[];
  caseId: string;
}

export async function reinstate(store: EscalationStore, p: Reinstate): Promise<ReinstateResult> {
  assertId('accountId', p.accountId);
  if (!p.reason.trim()) throw new OperatorError('a reason is required');
  const a = await store.getAccount(p.accountId);
  if (!a) throw new OperatorError(`account ${p.accountId} has no status record`);
  const caseId = a.lastCaseId ?? keys.opsAuditCase();
  const now = store.now();
  if (a.status === 'restricted') {
    const r = await liftRestriction(store, { accountId: p.accountId, actor: p.actor, reason: p.reason, kind: p.kind });
    return { reinstated: r.lifted, keys: r.keys, caseId: r.caseId };
  }
  if (a.status !== 'suspended') return enableLeftoverKeys(store, p, a, caseId);
  if (p.kind === 'expired' && !(typeof a.suspendedUntil === 'number' && a.suspendedUntil <= now)) {
    return { reinstated: false, keys: [], caseId };
  }
  const keysToEnable = a.disabledKeyIds ?? [];
  // 1. keys back on (idempotent; a failure throws with the account still suspended and indexed), and back on
  // their usage plan when a restriction preceded the suspension.
  await setKeysEnabled(store, keysToEnable, true);
  const unrestricted = await restoreRestrictedKeys(store, a);

  // 2. the decision, atomically.
  const c = a.lastCaseId ? await store.getCase(a.lastCaseId) : undefined;
  await commitReinstatement(store, { p, a, c, caseId, now, keysToEnable, unrestricted });
  if (c) await store.updateCase(c.caseId, 'SET reinstatedAt = :at, reinstatedBy = :by', { ':at': new Date(now).toISOString(), ':by': p.actor });
  return { reinstated: true, keys: keysToEnable, caseId };
}

/** Not suspended: only keys left over by an earlier version that re-enabled them after the status change. */
async function enableLeftoverKeys(store: EscalationStore, p: Reinstate, a: AccountStatus, caseId: string): Promise<ReinstateResult> {
  if (!a.keysPendingEnable?.length) throw new OperatorError(`account ${p.accountId} is not suspended (status ${a.status})`);
  await setKeysEnabled(store, a.keysPendingEnable, true);
  await store.ddb.send(
    new UpdateCommand({ TableName: store.table, Key: keys.accountStatus(p.accountId), UpdateExpression: 'REMOVE keysPendingEnable' }),
  );
  return { reinstated: false, keys: a.keysPendingEnable, caseId };
}

/** Step 2: status restored, audit entry and outbox event in one transaction, guarded on the suspension seen. */
async function commitReinstatement(
  store: EscalationStore,
  d: { p: Reinstate; a: AccountStatus; c: CaseRecord | undefined; caseId: string; now: number; keysToEnable: string[]; unrestricted: string[] },
): Promise<void> {
  const { p, a, caseId, now } = d;
  // Expiry is decided by the clock at suspendedUntil: a stable decision time, so retries share the event id.
  const decidedAt = p.kind === 'expired' && typeof a.suspendedUntil === 'number' ? a.suspendedUntil : now;
  const reinstatedReason = p.kind === 'expired' ? 'suspension-expired' : 'manual';
  const event = reinstatedEvent({ accountId: p.accountId, caseId, actor: p.actor, reason: p.reason, decidedAt, reinstatedReason }, d.c);
  const iso = new Date(now).toISOString();
  const restore = {
    TableName: store.table,
    Key: keys.accountStatus(p.accountId),
    UpdateExpression:
      'SET #s = :active, lastSuspensionEnd = :now, reinstatedAt = :at, reinstatedBy = :by REMOVE suspendedUntil, disabledKeyIds, keysPendingEnable, gsi1pk, gsi1sk, stepUp, restrictedUntil, restrictedKeyIds',
    ConditionExpression: '#s = :sus AND suspendedAt = :seenAt',
    ExpressionAttributeNames: { '#s': 'status' },
    ExpressionAttributeValues: {
      ':active': 'active',
      ':sus': 'suspended',
      ':now': now,
      ':at': iso,
      ':by': p.actor,
      ':seenAt': a.suspendedAt ?? null,
    },
  };
  const audit = store.audit({
    caseId,
    accountId: p.accountId,
    actor: p.actor,
    action: p.kind === 'expired' ? 'suspension-expired' : 'reinstated',
    reason: p.reason,
    details: {
      apiKeysEnabled: d.keysToEnable,
      eventId: event.eventId,
      suspendedUntil: a.suspendedUntil ?? null,
      ...(d.unrestricted.length ? { apiKeysUnrestricted: d.unrestricted } : {}),
    },
  });
  try {
    await store.ddb.send(new TransactWriteCommand({ TransactItems: [{ Update: restore }, store.auditPut(audit), store.outboxPut(event, now)] }));
  } catch (err) {
    if (!(err instanceof TransactionCanceledException)) throw err;
    // Someone else reinstated it (keys on is then right), or a newer suspension replaced the one we saw: its
    // account must not keep the keys we just turned on.
    const after = await store.getAccount(p.accountId);
    if (after?.status === 'suspended' && after.suspendedAt !== a.suspendedAt) await setKeysEnabled(store, d.keysToEnable, false);
    throw new OperatorError(
      `account ${p.accountId} changed while reinstating (${(err.CancellationReasons ?? []).map((r) => r.Code).join(',')}); check its status and retry`,
    );
  }
}

/** Suspended accounts whose suspension ended before `nowMs` (GSI byState, sorted by end time). */
export async function expiredSuspensions(store: EscalationStore, nowMs = store.now(), limit = 100): Promise<AccountStatus[]> {
  return (await store.queryState(SUSPENDED_GSI_PK, { limit, before: `${pad13(nowMs)}#~` })) as unknown as AccountStatus[];
}

export async function suspendedAccounts(store: EscalationStore, limit = 500): Promise<AccountStatus[]> {
  return (await store.queryState(SUSPENDED_GSI_PK, { limit })) as unknown as AccountStatus[];
}
