/**
 * The queue as reviewers work it, for the CLI and the console: the operator's queue joined with the claims, then
 * filtered and sorted (src/escalate/queue-view.ts). A claim is an advisory lease on a case under review
 * (`CLAIM#<case>` / `CLAIM`, listed through the byState index): others see the case is taken and `next` skips it.
 * It does not lock the decision: IAM decides who may complete a review, and the first answer wins.
 */
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CLAIMS_GSI_PK, CaseState, assertId, keys } from '../src/escalate/model';
import { QueueFilter, QueueSort, filterQueue, nextCase, sortQueue } from '../src/escalate/queue-view';
import type { Operator, QueueEntry } from './operator';
import { OperatorError } from '../lambdas/escalate/store';

/** How long a claim holds without being renewed. */
export const CLAIM_LEASE_MS = 15 * 60_000;

export interface Claim {
  caseId: string;
  by: string;
  at: string;
  until: string;
}

export type ViewedEntry = QueueEntry & { claim: Claim | null };

const QUEUE_STATES: CaseState[] = ['review', 'overdue', 'open', 'closed'];

export async function listClaims(op: Operator): Promise<Map<string, Claim>> {
  const nowMs = op.store.now();
  const items = await op.store.queryState(CLAIMS_GSI_PK, { limit: 2000 });
  const out = new Map<string, Claim>();
  for (const i of items) {
    const until = Number(i.expiresAt) * 1000;
    if (!(until > nowMs)) continue;
    out.set(String(i.caseId), { caseId: String(i.caseId), by: String(i.claimedBy), at: String(i.claimedAt), until: new Date(until).toISOString() });
  }
  return out;
}

/** The queue (review and overdue cases unless `states` says otherwise), filtered and sorted, with claims. */
export async function queueView(op: Operator, opts: QueueFilter & { sort?: QueueSort } = {}): Promise<ViewedEntry[]> {
  const states = (opts.states?.length ? opts.states : ['review', 'overdue']) as CaseState[];
  for (const s of states)
    if (!QUEUE_STATES.includes(s)) throw new OperatorError(`state must be one of ${QUEUE_STATES.join(', ')}, got ${JSON.stringify(s)}`);
  const [entries, claims] = await Promise.all([op.queue(states), listClaims(op)]);
  const viewed = entries.map((e) => ({ ...e, claim: claims.get(e.caseId) ?? null }));
  return sortQueue(filterQueue(viewed, { ...opts, states }), opts.sort ?? 'age');
}

/** Claim (or renew the claim on) a case under review; refused while someone else's claim is live. */
export async function claimCase(op: Operator, caseId: string, leaseMs = CLAIM_LEASE_MS): Promise<Claim> {
  assertId('caseId', caseId);
  const c = await op.store.requireCase(caseId);
  if (c.state !== 'review') throw new OperatorError(`case ${caseId} is not waiting for review (state ${c.state}); nothing to claim`);
  const me = await op.identity();
  const nowMs = op.store.now();
  const until = nowMs + leaseMs;
  const claim: Claim = { caseId, by: me, at: new Date(nowMs).toISOString(), until: new Date(until).toISOString() };
  try {
    await op.store.ddb.send(
      new PutCommand({
        TableName: op.store.table,
        Item: {
          ...keys.claim(caseId),
          caseId,
          claimedBy: me,
          claimedAt: claim.at,
          expiresAt: Math.ceil(until / 1000),
          gsi1pk: CLAIMS_GSI_PK,
          gsi1sk: caseId,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR claimedBy = :me OR expiresAt <= :now',
        ExpressionAttributeValues: { ':me': me, ':now': Math.floor(nowMs / 1000) },
      }),
    );
  } catch (err) {
    if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
    const holder = (await listClaims(op)).get(caseId);
    throw new OperatorError(`case ${caseId} is claimed by ${holder?.by ?? 'another reviewer'} until ${holder?.until ?? 'its lease ends'}`);
  }
  return claim;
}

/** Release my claim on a case (a no-op when I hold none). */
export async function releaseClaim(op: Operator, caseId: string): Promise<void> {
  assertId('caseId', caseId);
  const me = await op.identity();
  try {
    await op.store.ddb.send(
      new DeleteCommand({
        TableName: op.store.table,
        Key: keys.claim(caseId),
        ConditionExpression: 'claimedBy = :me',
        ExpressionAttributeValues: { ':me': me },
      }),
    );
  } catch (err) {
    if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
  }
}

/** Claim the next case nobody else holds after `afterCaseId`, in the view's order. Undefined when none is left. */
export async function claimNext(
  op: Operator,
  opts: QueueFilter & { sort?: QueueSort; after?: string } = {},
): Promise<{ entry: ViewedEntry; claim: Claim } | undefined> {
  const me = await op.identity();
  const tried = new Set<string>();
  for (let attempt = 0; attempt < 5; attempt++) {
    const view = (await queueView(op, { ...opts, states: ['review'] })).filter((e) => !tried.has(e.caseId));
    const next = nextCase(view, me, op.store.now(), opts.after);
    if (!next) return undefined;
    tried.add(next.caseId);
    try {
      return { entry: next, claim: await claimCase(op, next.caseId) };
    } catch (err) {
      if (!(err instanceof OperatorError)) throw err; // raced with another reviewer: try the one after
    }
  }
  return undefined;
}
