/**
 * What the stream publisher and the sweeper share: outbox items -> PutEvents (retrying only failed entries) ->
 * mark published / poisoned. Returns the keys still failing so each caller hands them to ITS retry mechanism
 * (stream: batch item failures; sweeper: the next run).
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { fromOutboxItem, toPutEventsEntry } from '../../src/notify/ban-event';
import { publishWithRetry, PublishItem, PublishOptions } from '../../src/notify/publish';
import { validateBanEventDetail } from '../../src/notify/schemas';
import { logger, metrics, MetricUnit } from '../shared/powertools';
import { OutboxStore } from './outbox-store';

export interface OutboxCandidate {
  /** Caller's handle (stream sequence number or outbox pk). */
  key: string;
  /** The unmarshalled outbox item. */
  item: Record<string, unknown>;
}

export interface PublishRunResult {
  published: number;
  poison: number;
  /** Keys whose event is NOT on the bus yet (retryable). */
  failedKeys: string[];
}

export async function publishOutboxItems(
  candidates: OutboxCandidate[],
  deps: { eventBridge: EventBridgeClient; store: OutboxStore; eventBusName: string; now?: () => number; publish?: PublishOptions },
): Promise<PublishRunResult> {
  const now = deps.now ?? Date.now;
  const items: Array<PublishItem & { pk: string }> = [];
  let poison = 0;

  for (const c of candidates) {
    const pk = String(c.item.pk ?? '');
    let ev;
    try {
      ev = fromOutboxItem(c.item);
    } catch (err) {
      // A poison item can never become a valid event: park it (kept, alarmed) instead of blocking the shard.
      poison++;
      logger.error('poison outbox item parked', { pk, key: c.key, error: (err as Error).message });
      await deps.store
        .markPoison(pk, now(), (err as Error).message)
        .catch((e: Error) => logger.warn('could not park poison item', { pk, error: e.message }));
      continue;
    }
    const check = validateBanEventDetail(ev.detailType, ev.detail);
    if (!check.valid) {
      // Published anyway: withholding a decision's event is worse than a schema drift, which this metric alarms on.
      metrics.addMetric('SchemaViolations', MetricUnit.Count, 1);
      logger.error('outbox event does not match its schema; publishing anyway', {
        eventId: ev.eventId,
        detailType: ev.detailType,
        errors: check.errors,
      });
    }
    items.push({ key: c.key, pk, eventId: ev.eventId, entry: toPutEventsEntry(ev, deps.eventBusName, c.item.detail as string) });
  }

  const outcome = await publishWithRetry(items, (entries) => deps.eventBridge.send(new PutEventsCommand({ Entries: entries })), deps.publish);
  metrics.addMetric('EventsPublished', MetricUnit.Count, outcome.published.length);
  metrics.addMetric('EventsRetried', MetricUnit.Count, outcome.retriedEntries);

  // Mark in parallel; a failed mark is harmless (the sweeper may publish again: same eventId, consumers de-duplicate).
  await Promise.all(
    outcome.published.map((p) =>
      deps.store.markPublished((p as PublishItem & { pk: string }).pk, now()).catch((e: Error) => {
        metrics.addMetric('MarkPublishedFailed', MetricUnit.Count, 1);
        logger.warn('event published but outbox item not marked', { eventId: p.eventId, error: e.message });
      }),
    ),
  );

  const failedKeys: string[] = [];
  for (const f of outcome.failed) {
    const pk = (f.item as PublishItem & { pk: string }).pk;
    if (f.permanent) {
      poison++;
      logger.error('event rejected permanently by eventbridge; outbox item parked', {
        eventId: f.item.eventId,
        errorCode: f.errorCode,
        errorMessage: f.errorMessage,
      });
      await deps.store
        .markPoison(pk, now(), `${f.errorCode}: ${f.errorMessage}`)
        .catch((e: Error) => logger.warn('could not park poison item', { pk, error: e.message }));
    } else {
      failedKeys.push(f.item.key);
      logger.warn('event not published after retries; handing back for retry', {
        eventId: f.item.eventId,
        errorCode: f.errorCode,
        errorMessage: f.errorMessage,
      });
    }
  }
  metrics.addMetric('EventsPublishFailed', MetricUnit.Count, failedKeys.length);
  if (poison) metrics.addMetric('PoisonOutboxItems', MetricUnit.Count, poison);
  return { published: outcome.published.length, poison, failedKeys };
}
