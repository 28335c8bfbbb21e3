/**
 * Example consumer code: the Lambda function that reads the stack's ban-events queue (docs/events.md).
 *
 * - Every SQS message body is the EventBridge event; the Powertools Parser (a Zod schema of the envelope and the
 *   common detail fields, inside the Batch processor) rejects a malformed one ALONE: it is reported as a batch item
 *   failure, retried, and after `maxReceiveCount` moved to the dead-letter queue. The rest of the batch is acted on.
 * - Delivery is at least once (redeliveries, republishes, archive replays), so acting is idempotent on
 *   `detail.eventId` with Powertools Idempotency (DynamoDB): the same decision is acted on once, whatever the
 *   envelope `id`. Records run one after another so a duplicate inside one batch is recognised, not retried.
 * - Delivery is also unordered: an action that keeps per-account state should apply an event only when its
 *   `detail.decidedAtMs` is newer than the last one applied for that `accountId`.
 */
import { BatchProcessor, EventType, processPartialResponse, type ParsedRecord } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';

/** The fields every ban-event detail carries (schemas/account-*.json); unknown fields are kept, never rejected. */
export const BanEventDetailSchema = z.looseObject({
  schemaVersion: z.string().regex(/^1\.\d+$/, 'schemaVersion must be 1.x (this consumer understands major 1)'),
  eventId: z.string().min(1),
  accountId: z.string().min(1),
  caseId: z.string().min(1),
  decidedBy: z.string().min(1),
  reasons: z.array(z.string()),
  score: z.number(),
  clusterId: z.string().nullable(),
  relatedAccountIds: z.array(z.string()),
  decidedAt: z.iso.datetime({ offset: true }),
  decidedAtMs: z.number().int(),
});

export const BanEventSchema = EventBridgeSchema.extend({
  source: z.literal('distill-guard'),
  'detail-type': z.enum(['Account Flagged', 'Account Restricted', 'Account Suspended', 'Account Reinstated']),
  detail: BanEventDetailSchema,
});

export type BanEvent = z.infer<typeof BanEventSchema>;

export interface BanEventsHandlerOptions {
  /** The idempotency table (partition key `id`, TTL attribute `expiration`). */
  readonly tableName: string;
  /** What the team does with one event; throw to have it retried. @default log it */
  readonly act?: (event: BanEvent) => Promise<void>;
  /** How long an event id is remembered; keep it longer than any archive replay you will run. @default 400 */
  readonly rememberDays?: number;
  readonly logger?: Logger;
}

export function createBanEventsHandler(opts: BanEventsHandlerOptions) {
  const logger = opts.logger ?? new Logger({ serviceName: 'ban-events-consumer' });
  const act =
    opts.act ??
    (async (e: BanEvent) =>
      logger.info('ban event', {
        eventId: e.detail.eventId,
        detailType: e['detail-type'],
        accountId: e.detail.accountId,
        decidedAtMs: e.detail.decidedAtMs,
      }));
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'detail.eventId',
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: (opts.rememberDays ?? 400) * 86_400,
  });
  const actOnce = makeIdempotent(
    async (event: BanEvent) => {
      await act(event);
      return { eventId: event.detail.eventId };
    },
    { persistenceStore: new DynamoDBPersistenceLayer({ tableName: opts.tableName }), config },
  );
  const processor = new BatchProcessor(EventType.SQS, { parser, innerSchema: BanEventSchema, transformer: 'json', logger });
  const recordHandler = async (record: ParsedRecord<SQSRecord, BanEvent>) => actOnce(record.body);

  const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    config.registerLambdaContext(context);
    return processPartialResponse(event, recordHandler, processor, { context, processInParallel: false, throwOnFullBatchFailure: false });
  };
  return { handler, processor };
}

let configured: ReturnType<typeof createBanEventsHandler> | undefined;

/** The Lambda entry point: configured from `IDEMPOTENCY_TABLE`. */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  if (!configured) {
    const tableName = process.env.IDEMPOTENCY_TABLE;
    if (!tableName) throw new Error(`environment variable IDEMPOTENCY_TABLE must name the idempotency table, got ${JSON.stringify(tableName)}`);
    configured = createBanEventsHandler({ tableName });
  }
  return configured.handler(event, context);
}
