/**
 * examples/consumer's Lambda handler against DynamoDB Local: idempotent on detail.eventId (a redelivered or
 * republished decision is acted on once), a malformed message fails alone (partial batch response), and the Zod
 * schema accepts every sample in schemas/examples.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { RunningEmulator, startDynamoDbLocal } from '../../local/emulators/dynamodb-local';
import type { BanEvent, createBanEventsHandler as Create } from '../../examples/consumer/lambda/ban-events-handler';

const EXAMPLES = path.join(__dirname, '..', '..', 'schemas', 'examples');
const sample = (f: string) => JSON.parse(fs.readFileSync(path.join(EXAMPLES, f), 'utf8')) as Record<string, any>;
const TABLE = 'consumer-idempotency';

let ddb: RunningEmulator;
let createBanEventsHandler: typeof Create;
const context = { functionName: 'ban-events-consumer', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

let n = 0;
function record(body: unknown): SQSRecord {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  n++;
  return {
    messageId: `m-${n}`,
    receiptHandle: `rh-${n}`,
    body: text,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1793580000000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1793580000001',
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(text).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:222222222222:BanEventsQueue',
    awsRegion: 'eu-west-1',
  };
}
const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_LAMBDA_FUNCTION_NAME: 'ban-events-consumer',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  await new DynamoDBClient({}).send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    }),
  );
  ({ createBanEventsHandler } = await import('../../examples/consumer/lambda/ban-events-handler'));
});

afterAll(async () => {
  await ddb?.stop();
});

function counting() {
  const seen: string[] = [];
  const { handler, processor } = createBanEventsHandler({ tableName: TABLE, act: async (e: BanEvent) => void seen.push(e.detail.eventId) });
  return { handler, processor, seen };
}

describe('example consumer handler', () => {
  it('acts once on a decision delivered twice (new envelope id, new message), in two invocations and within one batch', async () => {
    const { handler, seen } = counting();
    const ev = sample('account-suspended.json');
    const again = { ...ev, id: 'a-new-envelope-id-from-a-republish' };
    expect(await handler(batch(record(ev)), context)).toEqual({ batchItemFailures: [] });
    expect(await handler(batch(record(again)), context)).toEqual({ batchItemFailures: [] });
    const flagged = sample('account-flagged.json');
    expect(await handler(batch(record(flagged), record({ ...flagged, 'replay-name': 'catch-up' })), context)).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([ev.detail.eventId, flagged.detail.eventId]);
    const items = await new DynamoDBClient({}).send(new ScanCommand({ TableName: TABLE }));
    expect(items.Items!.every((i) => i.status.S === 'COMPLETED' && Number(i.expiration.N) > Date.now() / 1000 + 399 * 86_400)).toBe(true);
  });

  it('reports a malformed message as a batch item failure with a clear error, and acts on the rest of the batch', async () => {
    const { handler, processor, seen } = counting();
    const ok = sample('account-reinstated.json');
    const { decidedAtMs: _ms, ...noOrderingKey } = sample('account-restricted.json').detail;
    const bad = record({ ...sample('account-restricted.json'), detail: noOrderingKey });
    const notJson = record('{"detail-type": "Account Suspended", "detail": ');
    const v2 = record({ ...ok, detail: { ...ok.detail, schemaVersion: '2.0' } });
    const good = record(ok);
    const r = await handler(batch(bad, notJson, v2, good), context);
    expect(r.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }, { itemIdentifier: notJson.messageId }, { itemIdentifier: v2.messageId }]);
    expect(seen).toEqual([ok.detail.eventId]);
    expect(processor.errors.map((e) => e.message)).toEqual([
      'body.detail.decidedAtMs: Invalid input: expected number, received undefined',
      'body: Invalid JSON - Unexpected end of JSON input',
      'body.detail.schemaVersion: schemaVersion must be 1.x (this consumer understands major 1)',
    ]);
  });

  it('a batch of only malformed messages is answered (every item failed), not thrown', async () => {
    const { handler } = counting();
    const only = record('not json');
    await expect(handler(batch(only), context)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: only.messageId }] });
  });

  it('an action that fails is retried on the next delivery (the id is not remembered as done)', async () => {
    let calls = 0;
    const { handler } = createBanEventsHandler({
      tableName: TABLE,
      act: async () => {
        calls++;
        if (calls === 1) throw new Error('downstream unavailable');
      },
    });
    const ev = { ...sample('account-flagged.json'), detail: { ...sample('account-flagged.json').detail, eventId: 'retry-me-0000' } };
    const first = record(ev);
    expect(await handler(batch(first), context)).toEqual({ batchItemFailures: [{ itemIdentifier: first.messageId }] });
    expect(await handler(batch(record(ev)), context)).toEqual({ batchItemFailures: [] });
    expect(await handler(batch(record(ev)), context)).toEqual({ batchItemFailures: [] });
    expect(calls).toBe(2);
  });

  it('its Zod schema accepts every ban-event sample of schemas/examples', async () => {
    const { BanEventSchema } = await import('../../examples/consumer/lambda/ban-events-handler');
    for (const f of ['account-flagged.json', 'account-restricted.json', 'account-suspended.json', 'account-reinstated.json']) {
      expect({ f, ok: BanEventSchema.safeParse(sample(f)).success }).toEqual({ f, ok: true });
    }
  });
});
