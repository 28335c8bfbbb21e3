/**
 * No loss, no silent change, exactly once after de-duplication by eventId.
 *
 * Real parts: DynamoDB Local (the control table with its stream, created from the synthesized template), the local
 * EventBridge endpoint (H4a, with its failure-injection hooks for partial and total PutEvents failures), the local
 * runtime's DynamoDB-stream poller (H4b) driven by the event source mapping FROM THE TEMPLATE (filter criteria,
 * bisect, retries, partial batch responses, on-failure destination), the real publisher and sweeper handlers with
 * SDK v3 clients reaching the emulators through AWS_ENDPOINT_URL_*. A subscriber rule on the bus collects what a
 * consuming team would receive.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { randomUUID } from 'crypto';
import { DynamoDBClient, GetItemCommand, QueryCommand, TransactWriteItemsCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateEventBusCommand, EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { marshall } from '@aws-sdk/util-dynamodb';
import { ControlTable } from '../../lib/state/control-table';
import { BanEvents } from '../../lib/notify/ban-events';
import { buildBanEvent, DETAIL_TYPES, DetailType, toOutboxItem } from '../../src/notify/ban-event';
import { validateEventBridgeEvent } from '../../src/notify/schemas';
import { RunningEmulator, startDynamoDbLocal } from '../../local/emulators/dynamodb-local';
import { LocalEventBridge, startEventBridge } from '../../local/services/eventbridge';
import { buildStackModel, CfnTemplate, LocalStackModel } from '../../local/runtime/template';
import { provision } from '../../local/runtime/provision';
import { DynamoDbStreamPoller } from '../../local/runtime/pollers';
import type { InvokeResult } from '../../local/runtime/lambda-runner';
import { sampleFields } from './fixtures';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const creds = { accessKeyId: 'AKIALOCALTEST', secretAccessKey: 'x' };

let ddbLocal: RunningEmulator;
let eb: LocalEventBridge;
let ddb: DynamoDBClient;
let model: LocalStackModel;
let poller: DynamoDbStreamPoller | undefined;
let tableName: string;
let busName: string;
const received: Array<Record<string, unknown>> = [];
const onFailure: Array<Record<string, unknown>> = [];
type Handler = (event: unknown) => Promise<unknown>;
let publisher: Handler;
let sweeper: Handler;

function fnModel(service: string) {
  const f = model.functions.find((x) => x.environment.POWERTOOLS_SERVICE_NAME === service);
  if (!f) throw new Error(`no function ${service} in the template`);
  return f;
}

async function invoke(service: 'notify-publisher' | 'notify-sweeper', event: unknown): Promise<InvokeResult> {
  Object.assign(process.env, fnModel(service).environment);
  const started = Date.now();
  try {
    const payload = await (service === 'notify-publisher' ? publisher : sweeper)(event);
    return { ok: true, payload, durationMs: Date.now() - started, requestId: randomUUID(), coldStart: false };
  } catch (err) {
    return {
      ok: false,
      payload: { errorType: (err as Error).name, errorMessage: (err as Error).message },
      durationMs: Date.now() - started,
      requestId: randomUUID(),
      coldStart: false,
    };
  }
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 90000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function pendingCount(): Promise<number> {
  const r = await ddb.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: 'byState',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': { S: 'OUTBOX#pending' } },
      Select: 'COUNT',
    }),
  );
  return r.Count ?? 0;
}

/** What H5 does: apply the decision and write its outbox item in ONE transaction. Returns the eventId. */
async function decide(detailType: DetailType, accountId: string, decidedAt: number): Promise<string> {
  const ev = buildBanEvent(detailType, sampleFields(detailType, { accountId, caseId: `case-${accountId}`, decidedAt }));
  const status = detailType === 'Account Suspended' ? 'suspended' : 'active';
  await ddb.send(
    new TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName: tableName, Item: marshall({ pk: `ACCOUNT#${accountId}`, sk: 'STATUS', status, updatedAt: decidedAt }) } },
        {
          Put: {
            TableName: tableName,
            Item: marshall(toOutboxItem(ev), { removeUndefinedValues: true }),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
    }),
  );
  return ev.eventId;
}

async function startPoller(): Promise<void> {
  const mapping = model.eventSourceMappings.find((m) => m.kind === 'dynamodb');
  if (!mapping) throw new Error('no dynamodb event source mapping in the template');
  poller = new DynamoDbStreamPoller(
    mapping,
    tableName,
    ddb,
    new DynamoDBStreamsClient({ region: REGION, endpoint: ddbLocal.endpoint, credentials: creds }),
    (_fn, event) => invoke('notify-publisher', event),
    async (_arn, message) => void onFailure.push(message),
    { region: REGION, accountId: ACCOUNT, idlePollMs: 50, retryBaseMs: 20 },
  );
  await poller.start();
}

/** Events the subscriber got for these ids: total deliveries and the de-duplicated set. */
function deliveredFor(ids: string[]) {
  const want = new Set(ids);
  const mine = received.filter((e) => want.has((e.detail as { eventId: string }).eventId));
  const byId = new Map<string, Record<string, unknown>>();
  for (const e of mine) byId.set((e.detail as { eventId: string }).eventId, e);
  return { deliveries: mine.length, unique: byId };
}

beforeAll(async () => {
  // The stack as it deploys (bundling skipped), with short retry settings so the test runs in seconds.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'NoLoss');
  const control = new ControlTable(stack, 'Control');
  new BanEvents(stack, 'BanEvents', { controlTable: control.table, publisherRetryAttempts: 2, sweeperMinAge: Duration.seconds(0) });
  const template = Template.fromStack(stack).toJSON() as CfnTemplate;
  model = buildStackModel(template, { stackName: 'NoLoss', region: REGION, accountId: ACCOUNT, cdkOut: '/nonexistent' } as Parameters<
    typeof buildStackModel
  >[1]);

  // Started one by one and assigned at once, so afterAll stops whatever did start. A generous start timeout: the
  // machine is shared and DynamoDB Local's JVM can take a while under load.
  eb = await startEventBridge({ region: REGION, accountId: ACCOUNT, deliveryAttempts: 1 });
  ddbLocal = await startDynamoDbLocal({ startTimeoutMs: 150000 });
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: ddbLocal.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: eb.endpoint,
    AWS_MAX_ATTEMPTS: '1', // the handler's own retries are under test, not the SDK's
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_DEV: 'false',
  });
  ddb = new DynamoDBClient({ region: REGION, endpoint: ddbLocal.endpoint, credentials: creds });
  const ebClient = new EventBridgeClient({ region: REGION, endpoint: eb.endpoint, credentials: creds });
  const local = { ...model, queues: [], streams: [], rules: model.rules.filter((r) => !r.scheduleExpression) } as LocalStackModel;
  await provision(local, { dynamodb: ddb, eventbridge: ebClient } as unknown as Parameters<typeof provision>[1]);
  tableName = fnModel('notify-publisher').environment.CONTROL_TABLE;
  busName = fnModel('notify-publisher').environment.EVENT_BUS_NAME;
  expect(model.buses.map((b) => b.name)).toContain(busName);
  await ebClient.send(new CreateEventBusCommand({ Name: busName })).catch(() => undefined);

  // A consuming team's subscriber rule (the pattern docs/events.md tells them to use).
  eb.setLambdaInvoker(async (_arn, event) => {
    received.push(event as Record<string, unknown>);
    return null;
  });
  await ebClient.send(
    new PutRuleCommand({
      Name: 'subscriber',
      EventBusName: busName,
      EventPattern: JSON.stringify({ source: ['distill-guard'], detail: { schemaVersion: [{ prefix: '1.' }] } }),
    }),
  );
  await ebClient.send(
    new PutTargetsCommand({
      Rule: 'subscriber',
      EventBusName: busName,
      Targets: [{ Id: 'collector', Arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:collector` }],
    }),
  );

  // Handlers import their SDK clients at module load: load them after the environment points at the emulators.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  publisher = require('../../lambdas/notify/publisher').handler;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sweeper = require('../../lambdas/notify/sweeper').handler;
}, 240000);

afterAll(async () => {
  await poller?.stop();
  await Promise.allSettled([ddbLocal?.stop(), eb?.stop()]);
});

afterEach(() => eb?.clearFailures());

describe('ban events arrive exactly once after de-duplication by eventId', () => {
  it('publisher down right after the decisions: the sweeper publishes every pending event; the stream later re-publishes them (duplicates, same eventId)', async () => {
    const t0 = Date.UTC(2026, 10, 2);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await decide(DETAIL_TYPES[i % DETAIL_TYPES.length], `crash_${i}`, t0 + i));
    expect(await pendingCount()).toBe(6);

    const sweep = (await invoke('notify-sweeper', {})).payload as { found: number; published: number };
    expect(sweep).toMatchObject({ found: 6, published: 6 });
    await eb.idle();
    expect(await pendingCount()).toBe(0);

    await startPoller(); // TRIM_HORIZON: the publisher now sees the 6 INSERTs too
    await waitFor('stream caught up', () => poller!.stats.caughtUp && poller!.stats.recordsDelivered >= 6);
    await eb.idle();
    const d = deliveredFor(ids);
    expect(d.deliveries).toBe(12); // at-least-once: each event twice
    expect([...d.unique.keys()].sort()).toEqual([...ids].sort()); // exactly once after de-duplication
    // the control-table records (ACCOUNT#...) never reached the publisher: the filter criteria dropped them
    expect(poller!.stats.recordsFiltered).toBeGreaterThanOrEqual(6);
  });

  it('partial PutEvents failures (FailedEntryCount > 0): only failed entries are retried, nothing is lost', async () => {
    const t0 = Date.UTC(2026, 10, 3);
    const before = poller!.stats.recordsDelivered;
    // Fail the next 7 entries PutEvents receives (per-entry ErrorCode, FailedEntryCount 7).
    eb.injectFailures({ count: 7, errorCode: 'ThrottlingException' });
    const ids: string[] = [];
    for (let i = 0; i < 15; i++) ids.push(await decide(DETAIL_TYPES[i % DETAIL_TYPES.length], `partial_${i}`, t0 + i));
    await waitFor('all 15 published', async () => (await pendingCount()) === 0 && poller!.stats.recordsDelivered - before >= 15);
    await eb.idle();
    const d = deliveredFor(ids);
    expect([...d.unique.keys()].sort()).toEqual([...ids].sort());
    expect(d.deliveries).toBeGreaterThanOrEqual(15);
    expect(onFailure).toHaveLength(0);
    // the 7 injected failures were really consumed by the publisher's calls: a probe now goes through
    const probe = await new EventBridgeClient({ region: REGION, endpoint: eb.endpoint, credentials: creds }).send(
      new PutEventsCommand({
        Entries: Array.from({ length: 7 }, () => ({ Source: 'probe', DetailType: 'probe', Detail: '{}', EventBusName: busName })),
      }),
    );
    expect(probe.FailedEntryCount).toBe(0);
  });

  it('total PutEvents failure (every call fails): records exhaust the stream retries, go to the on-failure queue as metadata, and the sweeper publishes them once the bus is back', async () => {
    const t0 = Date.UTC(2026, 10, 4);
    eb.failNextRequests(1_000_000, 'InternalException');
    const discardedBefore = poller!.stats.recordsDiscarded;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await decide(DETAIL_TYPES[i % DETAIL_TYPES.length], `total_${i}`, t0 + i));
    await waitFor('stream gave up on the 4 records', () => poller!.stats.recordsDiscarded - discardedBefore >= 4);
    expect(deliveredFor(ids).deliveries).toBe(0);
    expect(onFailure.length).toBeGreaterThan(0);
    expect(onFailure[0]).toHaveProperty('DDBStreamBatchInfo.streamArn'); // metadata only: not the events
    expect(await pendingCount()).toBe(4); // ...but the outbox still has them

    eb.clearFailures();
    const sweep = (await invoke('notify-sweeper', {})).payload as { found: number; published: number; oldestPendingAgeSeconds: number };
    expect(sweep).toMatchObject({ found: 4, published: 4, oldestPendingAgeSeconds: 0 });
    await eb.idle();
    const d = deliveredFor(ids);
    expect([...d.unique.keys()].sort()).toEqual([...ids].sort());
    expect(d.deliveries).toBe(4);
  });

  it('every delivered event matches its published JSON Schema and the detail is byte-for-byte what the decision wrote', async () => {
    expect(received.length).toBeGreaterThan(0);
    const types = new Set<string>();
    for (const e of received) {
      expect(validateEventBridgeEvent(e)).toEqual({ valid: true, errors: [] });
      types.add(e['detail-type'] as string);
      const id = (e.detail as { eventId: string }).eventId;
      const item = await ddb.send(
        new GetItemCommand({ TableName: tableName, Key: marshall({ pk: `OUTBOX#${id}`, sk: 'EVENT' }), ConsistentRead: true }),
      );
      expect(JSON.parse(item.Item!.detail.S!)).toEqual(e.detail);
      expect(item.Item!.publishedAt?.N).toBeDefined();
      expect(item.Item!.gsi1pk).toBeUndefined(); // out of the pending index
      expect(Number(item.Item!.expiresAt.N)).toBeGreaterThan(Date.now() / 1000); // TTL only once published
    }
    expect([...types].sort()).toEqual([...DETAIL_TYPES].sort()); // the subscriber rule received each kind
  });

  it('a poison outbox item is parked (OUTBOX#poison) and does not block the events behind it', async () => {
    const bad = `OUTBOX#${randomUUID()}`;
    await ddb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: marshall({
          pk: bad,
          sk: 'EVENT',
          detailType: 'Account Suspended',
          detail: '{not json',
          createdAt: Date.now(),
          gsi1pk: 'OUTBOX#pending',
          gsi1sk: new Date().toISOString(),
        }),
      }),
    );
    const good = await decide('Account Suspended', 'after_poison', Date.UTC(2026, 10, 5));
    await waitFor('the good event', () => deliveredFor([good]).unique.size === 1);
    await waitFor('poison parked', async () => {
      const it = await ddb.send(new GetItemCommand({ TableName: tableName, Key: marshall({ pk: bad, sk: 'EVENT' }), ConsistentRead: true }));
      return it.Item?.gsi1pk?.S === 'OUTBOX#poison';
    });
    const it = await ddb.send(new GetItemCommand({ TableName: tableName, Key: marshall({ pk: bad, sk: 'EVENT' }), ConsistentRead: true }));
    expect(it.Item!.lastError.S).toMatch(/not valid json/);
    expect(it.Item!.expiresAt).toBeUndefined(); // kept for ops
    expect(await pendingCount()).toBe(0);
  });
});
