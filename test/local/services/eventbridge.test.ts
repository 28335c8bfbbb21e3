/**
 * Local EventBridge through the real @aws-sdk/client-eventbridge: bus, rule with a pattern, SQS target delivered
 * to fauxqs (read back with @aws-sdk/client-sqs), Lambda target via the runtime callback, and PutEvents failure
 * injection (partial and total).
 */
import {
  EventBridgeClient,
  CreateEventBusCommand,
  DescribeEventBusCommand,
  PutRuleCommand,
  PutTargetsCommand,
  PutEventsCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  RemoveTargetsCommand,
  DeleteRuleCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { SQSClient, CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startEventBridge, LocalEventBridge } from '../../../local/services/eventbridge';
import { startSqs, SqsEmulator } from '../../../local/emulators/sqs';
import { localClientConfig } from '../../../local/services/clients';

let sqsEmu: SqsEmulator;
let eb: LocalEventBridge;
let events: EventBridgeClient;
let sqs: SQSClient;
let queueUrl: string;
let queueArn: string;
const lambdaCalls: Array<{ arn: string; event: unknown }> = [];

beforeAll(async () => {
  sqsEmu = await startSqs();
  eb = await startEventBridge({ sqsEndpoint: sqsEmu.endpoint, invokeLambda: async (arn, event) => void lambdaCalls.push({ arn, event }) });
  events = new EventBridgeClient(localClientConfig('eventbridge', eb.endpoint));
  sqs = new SQSClient(localClientConfig('sqs', sqsEmu.endpoint));
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'ban-subscriber' }))).QueueUrl!;
  queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await events.send(new CreateEventBusCommand({ Name: 'distill-guard-bans' }));
  await events.send(
    new PutRuleCommand({
      Name: 'suspended-to-queue',
      EventBusName: 'distill-guard-bans',
      EventPattern: JSON.stringify({
        source: ['distill-guard'],
        'detail-type': ['Account Suspended'],
        detail: { decidedBy: [{ 'anything-but': 'shadow' }] },
      }),
    }),
  );
  await events.send(new PutTargetsCommand({ Rule: 'suspended-to-queue', EventBusName: 'distill-guard-bans', Targets: [{ Id: 'q', Arn: queueArn }] }));
});

afterAll(async () => {
  events?.destroy();
  sqs?.destroy();
  await eb?.stop();
  await sqsEmu?.stop();
});

const entry = (detailType: string, detail: object) => ({
  EventBusName: 'distill-guard-bans',
  Source: 'distill-guard',
  DetailType: detailType,
  Detail: JSON.stringify(detail),
});

async function receiveAll(): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 5; i++) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!r.Messages?.length) break;
    out.push(...r.Messages.map((m) => JSON.parse(m.Body!) as Record<string, unknown>));
  }
  return out;
}

test('describes the bus and lists rules and targets', async () => {
  const bus = await events.send(new DescribeEventBusCommand({ Name: 'distill-guard-bans' }));
  expect(bus.Arn).toMatch(/:event-bus\/distill-guard-bans$/);
  const rules = await events.send(new ListRulesCommand({ EventBusName: 'distill-guard-bans' }));
  expect(rules.Rules?.map((r) => r.Name)).toEqual(['suspended-to-queue']);
  const targets = await events.send(new ListTargetsByRuleCommand({ Rule: 'suspended-to-queue', EventBusName: 'distill-guard-bans' }));
  expect(targets.Targets?.[0].Arn).toBe(queueArn);
});

test('PutEvents -> matching rule -> SQS target (only matching events arrive, as full envelopes)', async () => {
  const res = await events.send(
    new PutEventsCommand({
      Entries: [
        entry('Account Suspended', { eventId: 'e1', accountId: 'acct-1', decidedBy: 'auto' }),
        entry('Account Suspended', { eventId: 'e2', accountId: 'acct-2', decidedBy: 'shadow' }),
        entry('Account Flagged', { eventId: 'e3', accountId: 'acct-3', decidedBy: 'auto' }),
      ],
    }),
  );
  expect(res.FailedEntryCount).toBe(0);
  expect(res.Entries?.every((e) => typeof e.EventId === 'string')).toBe(true);
  await eb.idle();
  const got = await receiveAll();
  expect(got).toHaveLength(1);
  expect(got[0]).toMatchObject({
    version: '0',
    source: 'distill-guard',
    'detail-type': 'Account Suspended',
    detail: { eventId: 'e1', accountId: 'acct-1' },
  });
  expect(got[0].id).toBe(res.Entries![0].EventId);
  expect(eb.delivered('suspended-to-queue').filter((d) => d.ok)).toHaveLength(1);
  expect(eb.events('distill-guard-bans').map((e) => e.matchedRules)).toEqual([['suspended-to-queue'], [], []]);
  // the same history over HTTP, for `events tail` in another process
  const tail = (await (await fetch(`${eb.endpoint}/_local/events?bus=distill-guard-bans`)).json()) as {
    events: Array<{ event: { id: string } }>;
    deliveries: Array<{ ok: boolean }>;
  };
  expect(tail.events.map((e) => e.event.id)).toEqual(res.Entries!.map((e) => e.EventId));
  expect(tail.deliveries.map((d) => d.ok)).toEqual([true]);
});

test('per-entry validation errors leave valid entries untouched', async () => {
  const res = await events.send(
    new PutEventsCommand({
      Entries: [
        { EventBusName: 'distill-guard-bans', Source: 'distill-guard', DetailType: 'Account Suspended', Detail: '{not json' },
        { EventBusName: 'no-such-bus', Source: 'distill-guard', DetailType: 'x', Detail: '{}' },
        { EventBusName: 'distill-guard-bans', DetailType: 'x', Detail: '{}' },
        entry('Account Suspended', { eventId: 'e4', decidedBy: 'auto' }),
      ],
    }),
  );
  expect(res.FailedEntryCount).toBe(3);
  expect(res.Entries?.map((e) => e.ErrorCode)).toEqual(['MalformedDetail', 'ResourceNotFoundException', 'InvalidArgument', undefined]);
  await eb.idle();
  expect((await receiveAll()).map((m) => (m.detail as { eventId: string }).eventId)).toEqual(['e4']);
});

test('more than 10 entries is a ValidationException', async () => {
  const many = Array.from({ length: 11 }, (_, i) => entry('Account Flagged', { i }));
  await expect(events.send(new PutEventsCommand({ Entries: many }))).rejects.toMatchObject({ name: 'ValidationException' });
});

test('failure injection: the next N entries fail with per-entry errors and FailedEntryCount', async () => {
  eb.injectFailures({ count: 2 });
  const res = await events.send(
    new PutEventsCommand({ Entries: [1, 2, 3].map((n) => entry('Account Suspended', { eventId: `inj-${n}`, decidedBy: 'auto' })) }),
  );
  expect(res.FailedEntryCount).toBe(2);
  expect(res.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual(['InternalFailure', 'InternalFailure', 'ok']);
  // the injection is used up: a retry of the failed entries succeeds
  const retry = await events.send(
    new PutEventsCommand({ Entries: [1, 2].map((n) => entry('Account Suspended', { eventId: `inj-${n}`, decidedBy: 'auto' })) }),
  );
  expect(retry.FailedEntryCount).toBe(0);
  await eb.idle();
  expect((await receiveAll()).map((m) => (m.detail as { eventId: string }).eventId).sort()).toEqual(['inj-1', 'inj-2', 'inj-3']);
});

test('failure injection by predicate, and total request failure', async () => {
  eb.injectFailures({ predicate: (e) => (e.Detail ?? '').includes('"poison"'), errorCode: 'ThrottlingException' });
  const res = await events.send(
    new PutEventsCommand({ Entries: [entry('Account Flagged', { tag: 'poison' }), entry('Account Flagged', { tag: 'fine' })] }),
  );
  expect(res.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual(['ThrottlingException', 'ok']);
  eb.clearFailures();

  eb.failNextRequests(1);
  const noRetry = new EventBridgeClient({ ...localClientConfig('eventbridge', eb.endpoint), maxAttempts: 1 });
  await expect(noRetry.send(new PutEventsCommand({ Entries: [entry('Account Flagged', {})] }))).rejects.toMatchObject({ name: 'InternalException' });
  const ok = await noRetry.send(new PutEventsCommand({ Entries: [entry('Account Flagged', {})] }));
  expect(ok.FailedEntryCount).toBe(0);
  noRetry.destroy();
});

test('Lambda targets go to the registered invoker; InputPath shapes the payload', async () => {
  await events.send(
    new PutRuleCommand({
      Name: 'flagged-to-fn',
      EventBusName: 'distill-guard-bans',
      EventPattern: JSON.stringify({ 'detail-type': ['Account Flagged'], detail: { score: [{ numeric: ['>=', 0.9] }] } }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: 'flagged-to-fn',
      EventBusName: 'distill-guard-bans',
      Targets: [{ Id: 'fn', Arn: 'arn:aws:lambda:us-east-1:000000000000:function:notify', InputPath: '$.detail' }],
    }),
  );
  await events.send(
    new PutEventsCommand({
      Entries: [entry('Account Flagged', { accountId: 'a9', score: 0.95 }), entry('Account Flagged', { accountId: 'a8', score: 0.2 })],
    }),
  );
  await eb.idle();
  expect(lambdaCalls).toEqual([{ arn: 'arn:aws:lambda:us-east-1:000000000000:function:notify', event: { accountId: 'a9', score: 0.95 } }]);
  await events.send(new RemoveTargetsCommand({ Rule: 'flagged-to-fn', EventBusName: 'distill-guard-bans', Ids: ['fn'] }));
  await events.send(new DeleteRuleCommand({ Name: 'flagged-to-fn', EventBusName: 'distill-guard-bans' }));
  expect((await events.send(new ListRulesCommand({ EventBusName: 'distill-guard-bans' }))).Rules?.map((r) => r.Name)).toEqual(['suspended-to-queue']);
});

test('an invalid pattern is rejected with InvalidEventPatternException; TestEventPattern works', async () => {
  await expect(
    events.send(new PutRuleCommand({ Name: 'bad', EventBusName: 'distill-guard-bans', EventPattern: '{"source":"x"}' })),
  ).rejects.toMatchObject({ name: 'InvalidEventPatternException' });
  const t = await events.send(
    new TestEventPatternCommand({
      EventPattern: '{"source":[{"prefix":"distill"}]}',
      Event: JSON.stringify({
        id: '1',
        source: 'distill-guard',
        'detail-type': 'x',
        account: '1',
        region: 'us-east-1',
        time: '2026-01-01T00:00:00Z',
        resources: [],
        detail: {},
      }),
    }),
  );
  expect(t.Result).toBe(true);
});

test('unsigned requests are refused', async () => {
  const res = await fetch(eb.endpoint, {
    method: 'POST',
    headers: { 'x-amz-target': 'AWSEvents.ListRules', 'content-type': 'application/x-amz-json-1.1' },
    body: '{}',
  });
  expect(res.status).toBe(403);
  expect(((await res.json()) as { __type: string }).__type).toBe('MissingAuthenticationTokenException');
});
