/**
 * Cluster cases in the control table (src/escalate/cluster-case.ts for the model). RecordCase adds each member
 * case of a cluster to the cluster's current cluster case; the review tools read a cluster case and record the
 * reviewer's one decision. Everything lives under `CLUSTERCASE#`: the pointer to the current generation, the
 * header (small, fixed size), one item per member (so a 1,000-member cluster never nears the 400 KB item limit)
 * and the cluster-level audit entries.
 */
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  CLUSTER_PK_PREFIX,
  ClusterCaseHeader,
  ClusterDecision,
  ClusterMemberItem,
  clusterCaseId,
  clusterKeys,
  clusterStateGsiPk,
  memberItem,
} from '../../src/escalate/cluster-case';
import { AuditEntry, CaseRecord, assertId, keys, recordExpiresAt } from '../../src/escalate/model';
import { EscalationStore, OperatorError } from './store';

/** Generations tried when racing with decisions (each decision moves the cluster to a new generation at most once). */
const MAX_GENERATION_HOPS = 5;

/**
 * Add a recorded member case to its cluster's current cluster case (no-op without a clusterId). Idempotent: a
 * retry finds its member item. A case recorded after the current cluster case was decided opens the next
 * generation, linked to the decided one.
 */
export async function recordClusterMember(store: EscalationStore, c: CaseRecord, scorerCluster?: unknown): Promise<string | undefined> {
  if (!c.clusterId) return undefined;
  const nowMs = store.now();
  const now = new Date(nowMs).toISOString();
  const expiresAt = recordExpiresAt(nowMs, store.caseRetentionDays);
  for (let hop = 0; hop < MAX_GENERATION_HOPS; hop++) {
    const ptr = (await store.ddb.send(new GetCommand({ TableName: store.table, Key: clusterKeys.pointer(c.clusterId), ConsistentRead: true }))).Item;
    const generation = Number(ptr?.generation ?? 1);
    const id = clusterCaseId(c.clusterId, generation);
    const existing = (
      await store.ddb.send(new GetCommand({ TableName: store.table, Key: clusterKeys.member(id, c.accountId), ConsistentRead: true }))
    ).Item as ClusterMemberItem | undefined;
    if (existing?.caseId === c.caseId) return id; // a retry
    const linked = generation > 1 ? clusterCaseId(c.clusterId, generation - 1) : null;
    try {
      // The header is one hot item (every member updates it): a single-item update, never a transaction, so
      // a thousand members recorded at once serialise instead of cancelling each other.
      await store.ddb.send(
        new UpdateCommand({
          TableName: store.table,
          Key: clusterKeys.header(id),
          UpdateExpression:
            'SET clusterCaseId = :id, clusterId = :cl, generation = :g, #st = if_not_exists(#st, :open), createdAt = if_not_exists(createdAt, :now), ' +
            'updatedAt = :now, linkedCaseId = if_not_exists(linkedCaseId, :linked), scorerCluster = if_not_exists(scorerCluster, :sc), ' +
            'gsi1pk = if_not_exists(gsi1pk, :gpk), gsi1sk = if_not_exists(gsi1sk, :now), expiresAt = :exp',
          // A decided cluster case takes no new members: they open the next generation.
          ConditionExpression: 'attribute_not_exists(#st) OR #st = :open',
          ExpressionAttributeNames: { '#st': 'state' },
          ExpressionAttributeValues: {
            ':id': id,
            ':cl': c.clusterId,
            ':g': generation,
            ':open': 'open',
            ':now': now,
            ':linked': linked,
            ':sc': scorerCluster && typeof scorerCluster === 'object' ? scorerCluster : null,
            ':gpk': clusterStateGsiPk('open'),
            ':exp': expiresAt,
          },
        }),
      );
      await store.ddb.send(new PutCommand({ TableName: store.table, Item: memberItem(id, c, expiresAt) }));
      return id;
    } catch (err) {
      if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
      // Decided: move the pointer on (only from the generation we saw; a concurrent mover wins equally).
      await store.ddb
        .send(
          new UpdateCommand({
            TableName: store.table,
            Key: clusterKeys.pointer(c.clusterId),
            UpdateExpression: 'SET generation = :next, updatedAt = :now',
            ConditionExpression: 'attribute_not_exists(generation) OR generation = :g',
            ExpressionAttributeValues: { ':next': generation + 1, ':g': generation, ':now': now },
          }),
        )
        .catch((e: { name?: string }) => {
          if (e.name !== 'ConditionalCheckFailedException') throw e;
        });
    }
  }
  throw new Error(`cluster ${c.clusterId}: could not add case ${c.caseId} after ${MAX_GENERATION_HOPS} generations`);
}

/** Reads and the reviewer's decision record (with the reviewer's own credentials, scoped to `CLUSTERCASE#`). */
export class ClusterStore {
  constructor(readonly store: EscalationStore) {}

  async header(id: string): Promise<ClusterCaseHeader | undefined> {
    assertId('clusterCaseId', id);
    const r = await this.store.ddb.send(new GetCommand({ TableName: this.store.table, Key: clusterKeys.header(id), ConsistentRead: true }));
    return r.Item as ClusterCaseHeader | undefined;
  }

  async requireHeader(id: string): Promise<ClusterCaseHeader> {
    const h = await this.header(id);
    if (!h) throw new OperatorError(`cluster case ${id} not found`);
    return h;
  }

  /** The current cluster case of a cluster id. */
  async current(clusterId: string): Promise<string | undefined> {
    const r = await this.store.ddb.send(new GetCommand({ TableName: this.store.table, Key: clusterKeys.pointer(clusterId), ConsistentRead: true }));
    const h = await this.header(clusterCaseId(clusterId, Number(r.Item?.generation ?? 1)));
    return h?.clusterCaseId;
  }

  async list(state: 'open' | 'decided', limit = 200): Promise<ClusterCaseHeader[]> {
    return (await this.store.queryState(clusterStateGsiPk(state), { limit, ascending: state === 'open' })) as unknown as ClusterCaseHeader[];
  }

  private async queryPrefix<T>(id: string, prefix: string): Promise<T[]> {
    const out: T[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.store.ddb.send(
        new QueryCommand({
          TableName: this.store.table,
          KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
          ExpressionAttributeValues: { ':p': `${CLUSTER_PK_PREFIX}${id}`, ':s': prefix },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      out.push(...((r.Items ?? []) as T[]));
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }

  members(id: string): Promise<ClusterMemberItem[]> {
    return this.queryPrefix<ClusterMemberItem>(id, 'MEMBER#');
  }

  auditTrail(id: string): Promise<AuditEntry[]> {
    return this.queryPrefix<AuditEntry>(id, clusterKeys.auditPrefix);
  }

  /** The members' cases (state and outcome), BatchGetItem 100 at a time. */
  async memberCases(caseIds: string[]): Promise<Map<string, Pick<CaseRecord, 'caseId' | 'accountId' | 'state' | 'outcome'>>> {
    const out = new Map<string, Pick<CaseRecord, 'caseId' | 'accountId' | 'state' | 'outcome'>>();
    const chunks: string[][] = [];
    for (let i = 0; i < caseIds.length; i += 100) chunks.push(caseIds.slice(i, i + 100));
    await Promise.all(
      chunks.map(async (chunk) => {
        let request: Record<string, unknown>[] | undefined = chunk.map((id) => keys.case(id));
        for (let attempt = 0; request?.length && attempt < 8; attempt++) {
          if (attempt) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
          const r = await this.store.ddb.send(
            new BatchGetCommand({
              RequestItems: {
                [this.store.table]: {
                  Keys: request,
                  ProjectionExpression: 'caseId, accountId, #st, outcome',
                  ExpressionAttributeNames: { '#st': 'state' },
                  ConsistentRead: true,
                },
              },
            }),
          );
          for (const item of (r.Responses?.[this.store.table] ?? []) as CaseRecord[]) out.set(item.caseId, item);
          request = r.UnprocessedKeys?.[this.store.table]?.Keys as Record<string, unknown>[] | undefined;
        }
      }),
    );
    return out;
  }

  /** Append a cluster-level audit entry (conditional put: never overwrites). */
  async audit(
    id: string,
    e: { accountId: string; actor: string; action: AuditEntry['action']; reason?: string; details?: Record<string, unknown> },
  ): Promise<void> {
    const base = this.store.audit({ caseId: id, ...e });
    const item: AuditEntry = { ...base, pk: `${CLUSTER_PK_PREFIX}${id}` };
    await this.store.ddb.send(new PutCommand({ TableName: this.store.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
  }

  private async exclude(id: string, e: { accountId: string; reason: string }, reviewer: string): Promise<void> {
    await this.store.ddb.send(
      new UpdateCommand({
        TableName: this.store.table,
        Key: clusterKeys.member(id, e.accountId),
        UpdateExpression: 'SET excludedReason = :r',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':r': e.reason },
      }),
    );
    await this.audit(id, { accountId: e.accountId, actor: reviewer, action: 'cluster-member-excluded', reason: e.reason });
  }

  /**
   * Record the decision on the header (once: deciding again with the same answer resumes it; a different answer
   * is refused) and the exclusions on the member items, each with a cluster audit entry.
   */
  async recordDecision(
    id: string,
    d: { approved: boolean; reason: string; reviewer: string; exclude: { accountId: string; reason: string }[] },
  ): Promise<{ decision: ClusterDecision; resumed: boolean }> {
    const h = await this.requireHeader(id);
    if (h.decision) {
      if (h.decision.approved !== d.approved) {
        throw new OperatorError(
          `cluster case ${id} was already ${h.decision.approved ? 'approved' : 'rejected'} by ${h.decision.reviewer} at ${h.decision.decidedAt}; members joining later open a new cluster case`,
        );
      }
      return { decision: h.decision, resumed: true };
    }
    const decidedAt = new Date(this.store.now()).toISOString();
    const decision: ClusterDecision = { approved: d.approved, reason: d.reason, reviewer: d.reviewer, decidedAt, excluded: d.exclude.length };
    // Exclusions first: a member is never decided before its exclusion is on record (16 at a time).
    for (let i = 0; i < d.exclude.length; i += 16) await Promise.all(d.exclude.slice(i, i + 16).map((e) => this.exclude(id, e, d.reviewer)));
    try {
      await this.store.ddb.send(
        new UpdateCommand({
          TableName: this.store.table,
          Key: clusterKeys.header(id),
          UpdateExpression: 'SET #st = :decided, decision = :d, updatedAt = :at, gsi1pk = :g',
          ConditionExpression: '#st = :open',
          ExpressionAttributeNames: { '#st': 'state' },
          ExpressionAttributeValues: { ':decided': 'decided', ':open': 'open', ':d': decision, ':at': decidedAt, ':g': clusterStateGsiPk('decided') },
        }),
      );
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return this.recordDecision(id, d);
      throw err;
    }
    await this.audit(id, {
      accountId: '-',
      actor: d.reviewer,
      action: 'cluster-decided',
      reason: d.reason,
      details: { approved: d.approved, excludedCount: d.exclude.length, excluded: d.exclude.slice(0, 100).map((e) => e.accountId) },
    });
    return { decision, resumed: false };
  }
}
