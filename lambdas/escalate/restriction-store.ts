/**
 * The `restrict` step on AWS: the account's own API keys move from the standard usage plan to the restricted
 * (throttled) one, and its status item gets `status = restricted`, `stepUp` and `restrictedUntil`, with the audit
 * entry and the `Account Restricted` outbox event in the same transaction. Lifting it (at expiry, on
 * reinstatement, or when a reviewer rejects the case) moves the keys back first, then restores the status and
 * publishes `Account Reinstated`. Guarded like a suspension: allowlist checked atomically, the breaker counts
 * automatic restrictions, shadow mode never reaches here (the guardrails dismiss the case).
 * Uses ./store.ts for reads and audit entries, api-keys.ts for key discovery, breaker.ts for the breaker.
 */
import { ConflictException, CreateUsagePlanKeyCommand, DeleteUsagePlanKeyCommand, GetUsagePlanKeysCommand } from '@aws-sdk/client-api-gateway';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { planRestriction } from '../../src/escalate/restriction';
import { CaseRecord, RESTRICTED_GSI_PK, assertId, caseStateGsiPk, keys, pad13 } from '../../src/escalate/model';
import { buildBanEvent, reinstatedEvent } from '../../src/notify/ban-event';
import { OperatorError, type AccountStatus, type EscalationStore, type TransactItems } from './store';
import { getAllow, notAllowlisted } from './allowlist';
import { discoverKeys } from './api-keys';
import { breakerHourCap, breakerItems, getBreaker, tripBreaker } from './breaker';

/** The two usage plans a restriction moves keys between. */
export interface UsagePlans {
  standard: string;
  restricted: string;
}

/** The plans from the environment the Escalation construct sets, when the deployment manages usage plans. */
export function usagePlansFromEnv(env: NodeJS.ProcessEnv = process.env): UsagePlans | undefined {
  const standard = env.STANDARD_USAGE_PLAN_ID;
  const restricted = env.RESTRICTED_USAGE_PLAN_ID;
  return standard && restricted ? { standard, restricted } : undefined;
}

export type RestrictOutcome = 'restricted' | 'allowlisted' | 'breaker' | 'not-open';

export interface RestrictResult {
  outcome: RestrictOutcome;
  restrictedUntil?: number;
  keys?: string[];
  breakerTripped?: boolean;
  caseId?: string;
}

// ---------------------------------------------------------------- usage-plan keys

/** Ids of the API keys on a usage plan (all pages). */
export async function keysOnPlan(s: EscalationStore, planId: string): Promise<Set<string>> {
  const out = new Set<string>();
  let position: string | undefined;
  do {
    const r = await s.apigw.send(new GetUsagePlanKeysCommand({ usagePlanId: planId, limit: 500, position }));
    for (const k of r.items ?? []) if (k.id) out.add(k.id);
    position = r.position;
  } while (position);
  return out;
}

/**
 * Move keys from one plan to another. API Gateway allows one plan per key and stage, so the key leaves `from`
 * before it joins `to`. Idempotent: a key already off `from` or already on `to` is fine.
 */
export async function moveKeys(s: EscalationStore, ids: string[], from: string, to: string): Promise<void> {
  for (const id of ids) {
    try {
      await s.apigw.send(new DeleteUsagePlanKeyCommand({ usagePlanId: from, keyId: id }));
    } catch (err) {
      if ((err as { name?: string }).name !== 'NotFoundException') throw err;
    }
    try {
      await s.apigw.send(new CreateUsagePlanKeyCommand({ usagePlanId: to, keyId: id, keyType: 'API_KEY' }));
    } catch (err) {
      if (err instanceof ConflictException || (err as { name?: string }).name === 'ConflictException') continue;
      if ((err as { name?: string }).name === 'NotFoundException') continue; // the key was deleted meanwhile
      throw err;
    }
  }
}

/** The account's own keys that are on the standard plan now (keys merely seen in its traffic are never moved). */
export async function restrictableKeys(s: EscalationStore, account: AccountStatus | undefined, accountId: string): Promise<string[]> {
  if (!s.manageApiKeys || !s.usagePlans) return [];
  const owned = await discoverKeys(s, accountId, account?.apiKeyIds ?? []);
  if (!owned.length) return [];
  const onStandard = await keysOnPlan(s, s.usagePlans.standard);
  return owned.filter((k) => onStandard.has(k));
}

async function moveToRestricted(s: EscalationStore, ids: string[]): Promise<void> {
  if (s.usagePlans && ids.length) await moveKeys(s, ids, s.usagePlans.standard, s.usagePlans.restricted);
}

async function moveToStandard(s: EscalationStore, ids: string[]): Promise<void> {
  if (s.usagePlans && ids.length) await moveKeys(s, ids, s.usagePlans.restricted, s.usagePlans.standard);
}

// ---------------------------------------------------------------- apply

export interface ApplyRestriction {
  accountId: string;
  /** The workflow's case; absent for an operator's restriction by hand (audited under the account's case or OPS). */
  caseId?: string;
  decidedBy: string;
  decidedAt: string;
  reason?: string;
  durationMs: number;
  /** Automatic (the guardrails routed it): the breaker counts it and may refuse it. */
  auto: boolean;
  /** Auto only: most automatic enforcements in the sliding hour (the guardrails' limit). */
  breakerLimit?: number;
  /** Close the case with outcome `restricted` (a reviewer chose restrict); otherwise it stays open for review. */
  closeCase?: boolean;
}

/**
 * Apply a restriction so that a failure never leaves it half-applied: record the keys about to move on the case,
 * move them, then one transaction (allowlist and breaker checks, status, case, audit, outbox, breaker counter).
 * A refusal moves the keys back. Idempotent for a case: a retry after success returns `restricted`.
 */
export async function applyRestriction(s: EscalationStore, p: ApplyRestriction): Promise<RestrictResult> {
  assertId('accountId', p.accountId);
  const c = p.caseId ? await s.requireCase(p.caseId) : undefined;
  if (c?.restriction && (!p.closeCase || c.state === 'closed'))
    return { outcome: 'restricted', restrictedUntil: c.restriction.until, keys: c.restriction.keys, caseId: c.caseId };
  if (c && c.state === 'closed') return { outcome: 'not-open' };
  const now = s.now();
  const allow = await getAllow(s, p.accountId);
  if (allow && allow.expiresAt * 1000 > now) return { outcome: 'allowlisted' };
  const account = await s.getAccount(p.accountId);
  if (account?.status === 'suspended') {
    if (!c) throw new OperatorError(`account ${p.accountId} is suspended; reinstate it before restricting it`);
    return { outcome: 'not-open' };
  }
  let hourCap = Infinity;
  if (p.auto) {
    if ((await getBreaker(s)).tripped) return { outcome: 'breaker' };
    if (p.breakerLimit !== undefined && Number.isFinite(p.breakerLimit)) {
      hourCap = await breakerHourCap(s, now, p.breakerLimit);
      if (hourCap < 1) return breakerRefusal(s, p, `auto-restriction limit ${p.breakerLimit} per hour reached at apply time`);
    }
  }

  // 1. keys: remember (on the case), then move.
  let pending = c?.pendingKeyRestrict;
  if (!pending) {
    const found = await restrictableKeys(s, account, p.accountId);
    if (c) {
      await s.updateCase(c.caseId, 'SET pendingKeyRestrict = if_not_exists(pendingKeyRestrict, :k)', { ':k': found });
      pending = (await s.getCase(c.caseId))?.pendingKeyRestrict ?? found;
    } else pending = found;
  }
  await moveToRestricted(s, pending);

  // 2. the decision, atomically.
  const plan = planRestriction(now, p.durationMs);
  const until = Math.max(
    plan.restrictedUntil,
    typeof account?.restrictedUntil === 'number' && account.status === 'restricted' ? account.restrictedUntil : 0,
  );
  const allKeys = [
    ...new Set([...(((account?.status === 'restricted' ? account.restrictedKeyIds : undefined) as string[] | undefined) ?? []), ...pending]),
  ].sort();
  const caseId = c?.caseId ?? account?.openCaseId ?? account?.lastCaseId ?? keys.opsAuditCase();
  const event = buildBanEvent('Account Restricted', {
    accountId: p.accountId,
    caseId,
    decidedBy: p.decidedBy,
    reasons: c?.reasons ?? [],
    score: c?.score ?? 0,
    clusterId: c?.clusterId ?? null,
    relatedAccountIds: c?.relatedAccountIds ?? [],
    decidedAt: p.decidedAt,
    ...(c?.reasonDetails?.length ? { reasonDetails: c.reasonDetails } : {}),
    restrictedUntil: until,
    stepUp: true,
    apiKeysRestricted: pending.length,
    durationMs: until - now,
    ...(p.reason ? { reason: p.reason } : {}),
  });
  const iso = new Date(now).toISOString();
  const restriction = { until, keys: allKeys, at: iso, by: p.decidedBy };
  const releases = !!(c && p.closeCase);
  const items: TransactItems = [
    notAllowlisted(s, p.accountId, now),
    {
      Update: {
        TableName: s.table,
        Key: keys.accountStatus(p.accountId),
        UpdateExpression:
          'SET #s = :r, stepUp = :t, restrictedUntil = :until, restrictedKeyIds = :keys, restrictedAt = :at, restrictedBy = :by, restrictionCaseId = :c, accountId = :a, gsi1pk = :g, gsi1sk = :gs, createdAt = if_not_exists(createdAt, :at)' +
          (releases ? ', lastCaseId = :c REMOVE openCaseId' : ''),
        ConditionExpression: (c ? 'openCaseId = :c AND ' : '') + '(attribute_not_exists(#s) OR #s <> :sus)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':r': 'restricted',
          ':t': true,
          ':until': until,
          ':keys': allKeys,
          ':at': iso,
          ':by': p.decidedBy,
          ':c': caseId,
          ':a': p.accountId,
          ':g': RESTRICTED_GSI_PK,
          ':gs': `${pad13(until)}#${p.accountId}`,
          ':sus': 'suspended',
        },
      },
    },
    s.auditPut(
      s.audit({
        caseId,
        accountId: p.accountId,
        actor: p.decidedBy,
        action: 'restricted',
        reason: p.reason ?? (p.auto ? `auto-restricted (restrict plus review): ${(c?.reasons ?? []).join(', ')}` : undefined),
        details: {
          restrictedUntil: new Date(until).toISOString(),
          durationMs: until - now,
          apiKeysRestricted: pending,
          stepUp: true,
          auto: p.auto,
          eventId: event.eventId,
        },
      }),
    ),
    s.outboxPut(event, now),
  ];
  if (c) items.push(caseRestrictedUpdate(s, p, c, restriction, releases));
  const BREAKER_STATE = items.length;
  if (p.auto) items.push(...breakerItems(s, now, hourCap));
  try {
    await s.ddb.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (err) {
    if (!(err instanceof TransactionCanceledException)) throw err;
    const codes = (err.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
    if (!codes.includes('ConditionalCheckFailed')) throw err; // transient: the state machine retries
    if (c) {
      const again = await s.getCase(c.caseId);
      if (again?.restriction && (!p.closeCase || again.state === 'closed'))
        return { outcome: 'restricted', restrictedUntil: again.restriction.until, keys: again.restriction.keys, caseId };
    }
    const failed = (i: number) => codes[i] === 'ConditionalCheckFailed';
    if (p.auto && failed(BREAKER_STATE + 1)) return breakerRefusal(s, p, `auto-restriction limit ${p.breakerLimit} per hour reached at apply time`);
    await compensateRestriction(s, { caseId: c?.caseId, accountId: p.accountId, keys: pending, why: `restriction refused: ${codes.join(',')}` });
    if (failed(0)) return { outcome: 'allowlisted' };
    if (p.auto && failed(BREAKER_STATE)) return { outcome: 'breaker' };
    if (!c) throw new OperatorError(`account ${p.accountId} changed while restricting it (${codes.join(',')}); check its status and retry`);
    return { outcome: 'not-open' };
  }
  return { outcome: 'restricted', restrictedUntil: until, keys: pending, caseId };
}

/** The case's part of a restriction: the restriction recorded and, when the restriction decides it, the case closed. */
function caseRestrictedUpdate(
  s: EscalationStore,
  p: ApplyRestriction,
  c: CaseRecord,
  restriction: { until: number; keys: string[]; at: string; by: string },
  releases: boolean,
): TransactItems[number] {
  return {
    Update: {
      TableName: s.table,
      Key: keys.case(c.caseId),
      UpdateExpression:
        'SET restriction = :res, updatedAt = :at' +
        (releases ? ', #st = :closed, outcome = :o, decidedBy = :by, decidedAt = :dat, gsi1pk = :g, gsi1sk = :gsk' : '') +
        ' REMOVE pendingKeyRestrict',
      ConditionExpression: '#st <> :closed',
      ExpressionAttributeNames: { '#st': 'state' },
      ExpressionAttributeValues: {
        ':res': restriction,
        ':at': restriction.at,
        ':closed': 'closed',
        ...(releases ? { ':o': 'restricted', ':by': p.decidedBy, ':dat': p.decidedAt, ':g': caseStateGsiPk('closed'), ':gsk': c.createdAt } : {}),
      },
    },
  };
}

async function breakerRefusal(s: EscalationStore, p: ApplyRestriction, why: string): Promise<RestrictResult> {
  const tripped = await tripBreaker(s, why, p.caseId ?? keys.opsAuditCase(), p.accountId);
  const c = p.caseId ? await s.getCase(p.caseId) : undefined;
  if (c?.pendingKeyRestrict)
    await compensateRestriction(s, {
      caseId: c.caseId,
      accountId: p.accountId,
      keys: c.pendingKeyRestrict,
      why: `restriction refused: breaker (${why})`,
    });
  return { outcome: 'breaker', breakerTripped: tripped };
}

/** Undo step 1 of applyRestriction: keys back to the standard plan, unless the restriction committed. */
export async function compensateRestriction(
  s: EscalationStore,
  p: { caseId?: string; accountId: string; keys?: string[]; why: string },
): Promise<{ restored: string[] }> {
  const c = p.caseId ? await s.getCase(p.caseId) : undefined;
  if (c?.restriction) return { restored: [] };
  const ids = p.keys ?? c?.pendingKeyRestrict ?? [];
  await moveToStandard(s, ids);
  if (!c) return { restored: ids };
  await s.transactAudited([{ Update: { TableName: s.table, Key: keys.case(c.caseId), UpdateExpression: 'REMOVE pendingKeyRestrict' } }], {
    caseId: c.caseId,
    accountId: c.accountId,
    actor: 'auto',
    action: 'restriction-aborted',
    reason: p.why,
    details: { apiKeysRestored: ids },
  });
  return { restored: ids };
}

// ---------------------------------------------------------------- lift

export type LiftKind = 'expired' | 'manual' | 'rejected';

/**
 * Lift a restriction: keys back to the standard plan FIRST (a failure leaves the account restricted and indexed
 * for the next try), then one transaction guarded on the restriction it saw: status active, step-up cleared,
 * audit entry, `Account Reinstated` outbox event. `onlyCase`: lift only a restriction this case applied.
 */
export async function liftRestriction(
  s: EscalationStore,
  p: { accountId: string; actor: string; reason: string; kind: LiftKind; onlyCase?: string },
): Promise<{ lifted: boolean; keys: string[]; caseId: string }> {
  assertId('accountId', p.accountId);
  const a = await s.getAccount(p.accountId);
  const caseId = (a?.restrictionCaseId as string | undefined) ?? keys.opsAuditCase();
  if (!a || a.status !== 'restricted') {
    if (p.kind === 'manual') throw new OperatorError(`account ${p.accountId} is not restricted (status ${a?.status ?? 'none'})`);
    return { lifted: false, keys: [], caseId };
  }
  if (p.onlyCase && a.restrictionCaseId !== p.onlyCase) return { lifted: false, keys: [], caseId };
  const now = s.now();
  const until = typeof a.restrictedUntil === 'number' ? a.restrictedUntil : undefined;
  if (p.kind === 'expired' && !(until !== undefined && until <= now)) return { lifted: false, keys: [], caseId };
  const ids = (a.restrictedKeyIds as string[] | undefined) ?? [];
  await moveToStandard(s, ids);
  const c = caseId !== keys.opsAuditCase() ? await s.getCase(caseId) : undefined;
  const decidedAt = p.kind === 'expired' && until !== undefined ? until : now;
  const reinstatedReason = p.kind === 'expired' ? 'restriction-expired' : p.kind === 'rejected' ? 'restriction-rejected' : 'manual';
  const event = reinstatedEvent(
    { accountId: p.accountId, caseId, actor: p.actor, reason: p.reason, decidedAt, reinstatedReason },
    c,
    until !== undefined ? { previousRestrictedUntil: new Date(until).toISOString() } : {},
  );
  const iso = new Date(now).toISOString();
  try {
    await s.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: s.table,
              Key: keys.accountStatus(p.accountId),
              UpdateExpression:
                'SET #s = :active, restrictionLiftedAt = :at, restrictionLiftedBy = :by REMOVE stepUp, restrictedUntil, restrictedKeyIds, gsi1pk, gsi1sk',
              ConditionExpression: '#s = :r AND restrictedAt = :seenAt',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':active': 'active', ':r': 'restricted', ':at': iso, ':by': p.actor, ':seenAt': a.restrictedAt ?? null },
            },
          },
          s.auditPut(
            s.audit({
              caseId,
              accountId: p.accountId,
              actor: p.actor,
              action: p.kind === 'expired' ? 'restriction-expired' : 'restriction-lifted',
              reason: p.reason,
              details: {
                apiKeysRestored: ids,
                restrictedUntil: until !== undefined ? new Date(until).toISOString() : null,
                reinstatedReason,
                eventId: event.eventId,
              },
            }),
          ),
          s.outboxPut(event, now),
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof TransactionCanceledException)) throw err;
    // A newer restriction replaced the one we saw: its keys must stay throttled.
    const after = await s.getAccount(p.accountId);
    if (after?.status === 'restricted' && after.restrictedAt !== a.restrictedAt)
      await moveToRestricted(s, (after.restrictedKeyIds as string[] | undefined) ?? []);
    throw new OperatorError(
      `account ${p.accountId} changed while lifting its restriction (${(err.CancellationReasons ?? []).map((r) => r.Code).join(',')}); check its status and retry`,
    );
  }
  return { lifted: true, keys: ids, caseId };
}

/** Undo what a restriction left on an account that a suspension replaced: keys back to the standard plan. */
export async function restoreRestrictedKeys(s: EscalationStore, a: AccountStatus): Promise<string[]> {
  const ids = (a.restrictedKeyIds as string[] | undefined) ?? [];
  await moveToStandard(s, ids);
  return ids;
}

/** Restricted accounts whose restriction ended before `nowMs` (GSI byState, sorted by end time). */
export async function expiredRestrictions(s: EscalationStore, nowMs = s.now(), limit = 100): Promise<AccountStatus[]> {
  return (await s.queryState(RESTRICTED_GSI_PK, { limit, before: `${pad13(nowMs)}#~` })) as unknown as AccountStatus[];
}

/** Accounts restricted now (for the operator tools). */
export async function restrictedAccounts(s: EscalationStore, limit = 500): Promise<AccountStatus[]> {
  return (await s.queryState(RESTRICTED_GSI_PK, { limit })) as unknown as AccountStatus[];
}
