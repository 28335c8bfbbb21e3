/**
 * The publisher handler's error paths that the emulators cannot produce (a DynamoDB update failing after a
 * successful PutEvents, exact per-entry failure sequences), with aws-sdk-client-mock. The happy paths and real
 * failure injection run against the emulators in no-loss.test.ts.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { buildBanEvent, DETAIL_TYPES, toOutboxItem } from '../../src/notify/ban-event';
import { sampleFields, DECIDED_AT } from './fixtures';

process.env.CONTROL_TABLE = 'control';
process.env.EVENT_BUS_NAME = 'bus';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.AWS_REGION = 'us-east-1';

const eb = mockClient(EventBridgeClient);
const ddb = mockClient(DynamoDBDocumentClient);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/notify/publisher') as typeof import('../../lambdas/notify/publisher');

function streamEvent(n: number, extra: Array<Record<string, unknown>> = []): { event: DynamoDBStreamEvent; ids: string[] } {
  const ids: string[] = [];
  const records = Array.from({ length: n }, (_, i) => {
    const dt = DETAIL_TYPES[i % DETAIL_TYPES.length];
    const ev = buildBanEvent(dt, sampleFields(dt, { accountId: `a${i}`, decidedAt: DECIDED_AT + i }));
    ids.push(ev.eventId);
    return { pk: `OUTBOX#${ev.eventId}`, item: toOutboxItem(ev) as unknown as Record<string, unknown> };
  });
  const all = [...records.map((r) => r.item), ...extra];
  return {
    ids,
    event: {
      Records: all.map((item, i) => ({
        eventID: `e${i}`,
        eventName: 'INSERT',
        eventSource: 'aws:dynamodb',
        dynamodb: {
          SequenceNumber: String(1000 + i),
          Keys: marshall({ pk: item.pk, sk: 'EVENT' }) as never,
          NewImage: marshall(item, { removeUndefinedValues: true }) as never,
        },
      })),
    } as DynamoDBStreamEvent,
  };
}

beforeEach(() => {
  eb.reset();
  ddb.reset();
  ddb.on(UpdateCommand).resolves({});
});

describe('outbox publisher handler', () => {
  it('publishes every item, re-sending only the entry that failed, and marks each published', async () => {
    const { event, ids } = streamEvent(3);
    eb.on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: '1' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }, { EventId: '3' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: '2' }] });
    const res = await handler(event);
    expect(res.batchItemFailures).toEqual([]);
    const calls = eb.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1].args[0].input.Entries!.map((e) => JSON.parse(e.Detail!).eventId)).toEqual([ids[1]]);
    expect(calls[0].args[0].input.Entries!.every((e) => e.EventBusName === 'bus' && e.Source === 'distill-guard')).toBe(true);
    const marks = ddb
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input.Key!.pk)
      .sort();
    expect(marks).toEqual(ids.map((i) => `OUTBOX#${i}`).sort());
  });

  it('returns every unpublished record as a batch item failure when PutEvents keeps failing (the stream retries them)', async () => {
    const { event } = streamEvent(3);
    eb.on(PutEventsCommand).rejects(Object.assign(new Error('service unavailable'), { name: 'InternalException' }));
    process.env.PUBLISH_MAX_ATTEMPTS = '2';
    const res = await handler(event);
    delete process.env.PUBLISH_MAX_ATTEMPTS;
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: '1000' }, { itemIdentifier: '1001' }, { itemIdentifier: '1002' }]);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('does not fail the batch when the "published" mark fails after PutEvents succeeded (at worst a duplicate later)', async () => {
    const { event } = streamEvent(2);
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }, { EventId: '2' }] });
    ddb.on(UpdateCommand).rejects(new Error('throughput exceeded'));
    const res = await handler(event);
    expect(res.batchItemFailures).toEqual([]);
  });

  it('parks a poison record and publishes the rest, without failing the batch', async () => {
    const poison = { pk: 'OUTBOX#not-a-valid-one', sk: 'EVENT', detailType: 'Account Suspended', detail: '{"eventId":"other"}', createdAt: 1 };
    const { event, ids } = streamEvent(2, [poison]);
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }, { EventId: '2' }] });
    const res = await handler(event);
    expect(res.batchItemFailures).toEqual([]);
    expect(eb.commandCalls(PutEventsCommand)[0].args[0].input.Entries).toHaveLength(2);
    const updates = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    const park = updates.find((u) => u.Key!.pk === poison.pk)!;
    expect(park.ExpressionAttributeValues![':poison']).toBe('OUTBOX#poison');
    expect(String(park.ExpressionAttributeValues![':err'])).toMatch(/does not match its key/);
    expect(updates.filter((u) => ids.includes(String(u.Key!.pk).slice(7)))).toHaveLength(2);
  });

  it('parks an entry EventBridge rejects as malformed instead of retrying it forever', async () => {
    const { event, ids } = streamEvent(2);
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'MalformedDetail', ErrorMessage: 'bad' }, { EventId: '2' }] });
    const res = await handler(event);
    expect(res.batchItemFailures).toEqual([]);
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(1);
    const park = ddb
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input)
      .find((u) => u.Key!.pk === `OUTBOX#${ids[0]}`)!;
    expect(park.ExpressionAttributeValues![':poison']).toBe('OUTBOX#poison');
  });

  it('ignores records the filter should have dropped (not INSERT, not an outbox item)', async () => {
    const ev = {
      Records: [
        { eventName: 'MODIFY', dynamodb: { SequenceNumber: '1', NewImage: marshall({ pk: 'OUTBOX#x', sk: 'EVENT' }) } },
        { eventName: 'INSERT', dynamodb: { SequenceNumber: '2', NewImage: marshall({ pk: 'CASE#1', sk: 'CASE' }) } },
      ],
    } as unknown as DynamoDBStreamEvent;
    const res = await handler(ev);
    expect(res.batchItemFailures).toEqual([]);
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});
