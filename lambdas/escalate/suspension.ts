/**
 * Applying a suspension for a case, so that a failure never leaves it half-applied:
 * 1. record on the case which keys are about to be disabled (`pendingKeyDisable`: the keys the account OWNS,
 *    see api-keys.ts discoverKeys) and which keys seen in its traffic are left alone (`keysSeenNotDisabled`,
 *    evidence), then disable the owned ones;
 * 2. one transaction: allowlist and breaker (counted only) condition checks, account status, case closed, audit
 *    entry, `Account Suspended` outbox item, and (counted only) the breaker hour counter, incremented only while it
 *    stays within the limit (breaker.ts);
 * 3. if the transaction is refused by the allowlist or breaker, re-enable the keys (compensation) and report; a
 *    refusal by the hour counter also trips the breaker.
 * Idempotent: a retry after success returns `suspended` without touching anything.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { planSuspension, BanPolicy } from '../../src/escalate/ban';
import { CaseRecord } from '../../src/escalate/model';
import { buildBanEvent, type BanEvent } from '../../src/notify/ban-event';
import { SUSPENDED_GSI_PK, caseStateGsiPk, keys, pad13 } from '../../src/shared/tables';
import { getAllow, notAllowlisted } from './allowlist';
import { discoverKeys, enabledKeys, seenKeysNotOwned, setKeysEnabled, type SeenKey } from './api-keys';
import { breakerHourCap, breakerItems, getBreaker, tripBreaker } from './breaker';
import { AccountStatus, EscalationStore, type TransactItems } from './store';

/** Attempts of a suspension's transaction when DynamoDB cancels it for a conflict (e.g. on the breaker counter). */
const TX_CONFLICT_ATTEMPTS = 6;
/** Positions in the transaction (suspensionItems), to tell which condition refused it. */
const ALLOW_CHECK = 0;
const ACCOUNT_UPDATE = 1;
const CASE_UPDATE = 2;
const BREAKER_STATE = 5;
const BREAKER_HOUR = 6;

export interface ApplySuspension {
  caseId: string;
  decidedBy: string;
  decidedAt: string;
  reason?: string;
  policy: BanPolicy;
  auto: boolean;
  /** Auto only: most auto-suspensions in the sliding hour (the guardrails' limit, count and share rules). */
  breakerLimit?: number;
  /** Count this suspension on the breaker (and honour its limit). @default auto */
  countBreaker?: boolean;
  /** The cluster case whose one decision this suspension applies (audited). */
  clusterCaseId?: string;
}

export interface SuspensionResult {
  outcome: 'suspended' | 'allowlisted' | 'breaker' | 'not-open';
  suspendedUntil?: number;
  offence?: number;
  keys?: string[];
  breakerTripped?: boolean;
}

type Plan = ReturnType<typeof planSuspension>;
/** What step 2 writes: the case, its plan and event, the keys step 1 disabled and the ones it left alone. */
interface Decision {
  p: ApplySuspension;
  c: CaseRecord;
  plan: Plan;
  event: BanEvent;
  pending: string[];
  seen: SeenKey[];
  now: number;
}

const alreadySuspended = (c: CaseRecord): SuspensionResult => ({
  outcome: 'suspended',
  suspendedUntil: c.suspendedUntil ?? undefined,
  offence: c.offence,
});
const limitReached = (limit: number | undefined) => `auto-suspension limit ${limit} per hour reached at apply time`;

/** Apply a suspension for a case (the steps are in this module's comment). */
export async function applySuspension(store: EscalationStore, p: ApplySuspension): Promise<SuspensionResult> {
  const counted = p.countBreaker ?? p.auto;
  const c = await store.requireCase(p.caseId);
  if (c.outcome === 'suspended') return alreadySuspended(c);
  if (c.state === 'closed') return { outcome: 'not-open' };
  const now = store.now();
  const allow = await getAllow(store, c.accountId);
  if (allow && allow.expiresAt * 1000 > now) return { outcome: 'allowlisted' };
  let hourCap = Infinity;
  if (counted) {
    const room = await breakerRoom(store, p, c, now);
    if (typeof room !== 'number') return room;
    hourCap = room;
  }
  const account = await store.getAccount(c.accountId);
  const { pending, seen } = await disableOwnedKeys(store, p.caseId, c, account);
  const plan = planSuspension({ offences: Number(account?.offences ?? 0), lastSuspensionEnd: account?.lastSuspensionEnd ?? null }, p.policy, now);
  const d: Decision = { p, c, plan, event: suspendedEvent(p, c, plan), pending, seen, now };
  const items = suspensionItems(store, d);
  if (counted) items.push(...breakerItems(store, now, hourCap));
  const refused = await commitSuspension(store, d, items, counted);
  return refused ?? { outcome: 'suspended', suspendedUntil: plan.suspendedUntil, offence: plan.offence, keys: pending };
}

/** The breaker's room for a counted suspension (how high the hour counter may go), or its refusal. */
async function breakerRoom(store: EscalationStore, p: ApplySuspension, c: CaseRecord, now: number): Promise<number | SuspensionResult> {
  const limit = p.breakerLimit;
  const hourCap = limit !== undefined && Number.isFinite(limit) ? await breakerHourCap(store, now, limit) : Infinity;
  if ((await getBreaker(store)).tripped) {
    await undoKeyDisable(store, p.caseId, 'suspension refused: breaker tripped');
    return { outcome: 'breaker' };
  }
  if (hourCap < 1) return breakerRefusal(store, p.caseId, c, limitReached(limit));
  return hourCap;
}

/** A refusal undoes step 1 (when it ran: a retry may find keys already disabled). */
async function undoKeyDisable(store: EscalationStore, caseId: string, why: string): Promise<void> {
  if ((await store.getCase(caseId))?.pendingKeyDisable) await compensateSuspension(store, caseId, why);
}

/** Over the limit: trip the breaker, undo step 1. */
async function breakerRefusal(store: EscalationStore, caseId: string, c: CaseRecord, why: string): Promise<SuspensionResult> {
  const tripped = await tripBreaker(store, why, c.caseId, c.accountId);
  await undoKeyDisable(store, caseId, `suspension refused: breaker (${why})`);
  return { outcome: 'breaker', breakerTripped: tripped };
}

/** Step 1. Keys: remember, then disable (only the account's own; keys seen in its traffic are evidence). */
async function disableOwnedKeys(
  store: EscalationStore,
  caseId: string,
  c: CaseRecord,
  account: AccountStatus | undefined,
): Promise<{ pending: string[]; seen: SeenKey[] }> {
  let pending = c.pendingKeyDisable as string[] | undefined;
  let seen = (c.keysSeenNotDisabled as SeenKey[] | undefined) ?? [];
  if (!pending) {
    const owned = await discoverKeys(store, c.accountId, account?.apiKeyIds ?? []);
    const enabled = await enabledKeys(store, owned);
    const seenNow = await seenKeysNotOwned(store, c.evidence?.apiKeys ?? [], owned);
    await store.updateCase(
      caseId,
      'SET pendingKeyDisable = if_not_exists(pendingKeyDisable, :k), keysSeenNotDisabled = if_not_exists(keysSeenNotDisabled, :s)',
      { ':k': enabled, ':s': seenNow },
    );
    const fresh = await store.getCase(caseId);
    pending = (fresh?.pendingKeyDisable as string[] | undefined) ?? enabled;
    seen = (fresh?.keysSeenNotDisabled as SeenKey[] | undefined) ?? seenNow;
  }
  await setKeysEnabled(store, pending, false);
  return { pending, seen };
}

function suspendedEvent(p: ApplySuspension, c: CaseRecord, plan: Plan): BanEvent {
  return buildBanEvent('Account Suspended', {
    accountId: c.accountId,
    caseId: c.caseId,
    decidedBy: p.decidedBy,
    reasons: c.reasons,
    score: c.score,
    clusterId: c.clusterId,
    relatedAccountIds: c.relatedAccountIds,
    decidedAt: p.decidedAt,
    reasonDetails: c.reasonDetails,
    suspendedUntil: plan.suspendedUntil,
    offence: plan.offence,
  });
}

/** Step 2. The decision's transaction items, in the order ALLOW_CHECK .. the outbox item (index 4). */
function suspensionItems(store: EscalationStore, d: Decision): TransactItems {
  const { p, c, plan, event, pending, now } = d;
  const iso = new Date(now).toISOString();
  const sharedKeys = d.seen.filter((k) => k.owner !== c.accountId);
  return [
    notAllowlisted(store, c.accountId, now),
    {
      Update: {
        TableName: store.table,
        Key: keys.accountStatus(c.accountId),
        UpdateExpression:
          'SET #s = :sus, suspendedUntil = :until, offences = :off, lastCaseId = :c, disabledKeyIds = :keys, suspendedAt = :at, suspendedBy = :by, accountId = :a, gsi1pk = :g, gsi1sk = :gs, createdAt = if_not_exists(createdAt, :at) REMOVE openCaseId',
        ConditionExpression: 'openCaseId = :c',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':sus': 'suspended',
          ':until': plan.suspendedUntil,
          ':off': plan.offence,
          ':c': c.caseId,
          ':keys': pending,
          ':at': iso,
          ':by': p.decidedBy,
          ':a': c.accountId,
          ':g': SUSPENDED_GSI_PK,
          ':gs': `${pad13(plan.suspendedUntil)}#${c.accountId}`,
        },
      },
    },
    caseClosedUpdate(store, d, iso),
    store.auditPut(
      store.audit({
        caseId: c.caseId,
        accountId: c.accountId,
        actor: p.decidedBy,
        action: 'suspended',
        reason: p.reason ?? (p.auto ? `auto-suspended: ${c.reasons.join(', ')}` : undefined),
        details: {
          suspendedUntil: new Date(plan.suspendedUntil).toISOString(),
          offence: plan.offence,
          durationMs: plan.durationMs,
          apiKeysDisabled: pending,
          // Keys in its traffic it does not own (shared with, or owned by, other accounts): evidence, left enabled.
          ...(sharedKeys.length ? { apiKeysSeenNotDisabled: sharedKeys } : {}),
          eventId: event.eventId,
          clusterId: c.clusterId,
          ...(p.clusterCaseId ? { clusterCaseId: p.clusterCaseId } : {}),
        },
      }),
    ),
    store.outboxPut(event, now),
  ];
}

function caseClosedUpdate(store: EscalationStore, { p, c, plan, pending }: Decision, iso: string): TransactItems[number] {
  return {
    Update: {
      TableName: store.table,
      Key: keys.case(c.caseId),
      UpdateExpression:
        'SET #st = :closed, outcome = :o, decidedBy = :by, decidedAt = :dat, suspendedUntil = :until, offence = :off, disabledKeyIds = :keys, updatedAt = :at, gsi1pk = :g, gsi1sk = :gsk REMOVE pendingKeyDisable',
      ConditionExpression: '#st <> :closed',
      ExpressionAttributeNames: { '#st': 'state' },
      ExpressionAttributeValues: {
        ':closed': 'closed',
        ':o': 'suspended',
        ':by': p.decidedBy,
        ':dat': p.decidedAt,
        ':until': plan.suspendedUntil,
        ':off': plan.offence,
        ':keys': pending,
        ':at': iso,
        ':g': caseStateGsiPk('closed'),
        ':gsk': c.createdAt,
      },
    },
  };
}

/**
 * Step 3. Commit the transaction; on a refusal undo step 1 and say why (undefined: committed). Simultaneous
 * suspensions contend on the breaker counter: a conflict is retried here, with jitter, before handing the failure
 * to the state machine's retry.
 */
async function commitSuspension(store: EscalationStore, d: Decision, items: TransactItems, counted: boolean): Promise<SuspensionResult | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      await store.ddb.send(new TransactWriteCommand({ TransactItems: items }));
      return undefined;
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const codes = (err.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
      if (codes.some((x) => x === 'ConditionalCheckFailed')) {
        const refused = await refusal(store, d, codes, counted);
        if (refused) return refused;
        throw err;
      }
      if (codes.includes('TransactionConflict') && attempt < TX_CONFLICT_ATTEMPTS) {
        await new Promise((r) => setTimeout(r, Math.random() * 50 * 2 ** attempt));
        continue;
      }
      throw err; // transient (TransactionConflict, throttling): the state machine retries
    }
  }
}

/** Which condition refused the transaction, and its outcome (undefined: none we know, rethrow). */
async function refusal(store: EscalationStore, { p, c }: Decision, codes: string[], counted: boolean): Promise<SuspensionResult | undefined> {
  const failed = (i: number) => codes[i] === 'ConditionalCheckFailed';
  const again = await store.getCase(p.caseId);
  if (again?.outcome === 'suspended') return alreadySuspended(again);
  if (failed(ALLOW_CHECK)) {
    await compensateSuspension(store, p.caseId, 'suspension refused: allowlisted');
    return { outcome: 'allowlisted' };
  }
  if (failed(ACCOUNT_UPDATE) || failed(CASE_UPDATE)) {
    await compensateSuspension(store, p.caseId, `suspension refused: ${codes.join(',')}`);
    return { outcome: 'not-open' };
  }
  if (counted && failed(BREAKER_HOUR)) return breakerRefusal(store, p.caseId, c, limitReached(p.breakerLimit));
  if (counted && failed(BREAKER_STATE)) {
    await compensateSuspension(store, p.caseId, 'suspension refused: breaker tripped');
    return { outcome: 'breaker' };
  }
  return undefined;
}

/** Undo step 1 of applySuspension: re-enable the keys it disabled, unless the suspension committed. */
export async function compensateSuspension(store: EscalationStore, caseId: string, why: string): Promise<{ reenabled: string[] }> {
  const c = await store.getCase(caseId);
  if (!c || c.outcome === 'suspended') return { reenabled: [] };
  const pending = (c.pendingKeyDisable as string[] | undefined) ?? [];
  await setKeysEnabled(store, pending, true);
  await store.transactAudited([{ Update: { TableName: store.table, Key: keys.case(caseId), UpdateExpression: 'REMOVE pendingKeyDisable' } }], {
    caseId,
    accountId: c.accountId,
    actor: 'auto',
    action: 'suspension-compensated',
    reason: why,
    details: { apiKeysReenabled: pending },
  });
  return { reenabled: pending };
}
