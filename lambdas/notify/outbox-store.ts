/**
 * DynamoDB side of the transactional outbox (control table, keys in docs/DESIGN.md): mark an item published or
 * poisoned, list items still pending. Shared by the stream publisher and the sweeper.
 */
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CONTROL_BY_STATE_INDEX, OUTBOX_PENDING_GSI_PK, OUTBOX_POISON_GSI_PK, OUTBOX_SK } from '../../src/shared/tables';
import { queryPages } from '../shared/query-pages';

export interface OutboxStoreConfig {
  tableName: string;
  /** Days a PUBLISHED outbox item is kept (TTL) for audit and re-drive; pending items never expire. */
  retentionDays: number;
}

export class OutboxStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly cfg: OutboxStoreConfig,
  ) {}

  /**
   * Record that the event is on the bus: `publishedAt`, a TTL, a publish counter, and drop the sparse GSI entry
   * so the sweeper no longer sees it. Conditional on the item existing (never resurrects a deleted one).
   */
  async markPublished(pk: string, now: number): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.cfg.tableName,
        Key: { pk, sk: OUTBOX_SK },
        UpdateExpression:
          'SET publishedAt = if_not_exists(publishedAt, :now), lastPublishedAt = :now, expiresAt = :exp ADD publishCount :one REMOVE gsi1pk, gsi1sk',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':now': now, ':exp': Math.floor(now / 1000) + this.cfg.retentionDays * 86400, ':one': 1 },
      }),
    );
  }

  /** Park an item that can never be published (kept, never expires, listed under `OUTBOX#poison`). */
  async markPoison(pk: string, now: number, error: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.cfg.tableName,
        Key: { pk, sk: OUTBOX_SK },
        UpdateExpression: 'SET gsi1pk = :poison, gsi1sk = :sk, lastError = :err, poisonedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(publishedAt)',
        ExpressionAttributeValues: {
          ':poison': OUTBOX_POISON_GSI_PK,
          ':sk': `${new Date(now).toISOString()}#${pk}`,
          ':err': error.slice(0, 1000),
          ':now': now,
        },
      }),
    );
  }

  /** Pending outbox items created before `before` (epoch ms), oldest first, at most `limit`. */
  async listPending(before: number, limit: number): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    const pages = queryPages(this.doc, () => ({
      TableName: this.cfg.tableName,
      IndexName: CONTROL_BY_STATE_INDEX,
      KeyConditionExpression: 'gsi1pk = :p AND gsi1sk < :before',
      ExpressionAttributeValues: { ':p': OUTBOX_PENDING_GSI_PK, ':before': new Date(before).toISOString() },
      ScanIndexForward: true,
      Limit: Math.min(100, limit - out.length),
    }));
    for await (const res of pages) {
      out.push(...((res.Items ?? []) as Record<string, unknown>[]));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Oldest pending item's createdAt (epoch ms), or null when nothing is pending. */
  async oldestPendingCreatedAt(): Promise<number | null> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.cfg.tableName,
        IndexName: CONTROL_BY_STATE_INDEX,
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': OUTBOX_PENDING_GSI_PK },
        ScanIndexForward: true,
        Limit: 1,
      }),
    );
    const c = res.Items?.[0]?.createdAt;
    return typeof c === 'number' ? c : null;
  }

  /** Number of poisoned items (for the alarm metric). */
  async countPoison(): Promise<number> {
    let n = 0;
    const pages = queryPages(this.doc, {
      TableName: this.cfg.tableName,
      IndexName: CONTROL_BY_STATE_INDEX,
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': OUTBOX_POISON_GSI_PK },
      Select: 'COUNT',
    });
    for await (const res of pages) n += res.Count ?? 0;
    return n;
  }
}
