/**
 * The demo model stub (lambdas/ingest/model-stub.ts) against kinesalite: its usage event (docs/contract.md) lands on the
 * stream through the handler's own Kinesis client (AWS_ENDPOINT_URL_KINESIS), matching the request.
 */
import { CreateStreamCommand, DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { PROMPT_CLASSES } from '../../src/shared/contract';
import { kinesisClient, startKinesis } from '../../local/emulators/kinesis';
import type { RunningEmulator } from '../../local/emulators/dynamodb-local';
import { localHandlerEnv, quietConsole } from '../support/env';

const STREAM = 'usage-test';
let kin: RunningEmulator;
let client: KinesisClient;
let handler: (e: APIGatewayProxyEvent) => Promise<{ statusCode: number; body: string }>;
const saved = { ...process.env };

function request(model: string, body: unknown, over: Record<string, unknown> = {}): APIGatewayProxyEvent {
  return {
    httpMethod: 'POST',
    path: `/v1/models/${model}/messages`,
    pathParameters: { model },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    headers: {},
    requestContext: {
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      requestTimeEpoch: 1793577600119,
      authorizer: { principalId: 'acct_7' },
    },
    ...over,
  } as unknown as APIGatewayProxyEvent;
}

async function readAll(): Promise<any[]> {
  const d = await client.send(new DescribeStreamCommand({ StreamName: STREAM }));
  const out: any[] = [];
  for (const shard of d.StreamDescription!.Shards!) {
    const it = await client.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    const r = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
    for (const rec of r.Records ?? []) out.push({ partitionKey: rec.PartitionKey, data: JSON.parse(Buffer.from(rec.Data!).toString('utf8')) });
  }
  return out;
}

beforeAll(async () => {
  kin = await startKinesis();
  Object.assign(process.env, localHandlerEnv({ AWS_ENDPOINT_URL_KINESIS: kin.endpoint, USAGE_STREAM_NAME: STREAM }));
  client = kinesisClient(kin.endpoint);
  await client.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 1 }));
  ({ handler } = await import('../../lambdas/ingest/model-stub'));
  quietConsole('log', 'warn');
}, 60_000);

afterAll(async () => {
  process.env = saved;
  jest.restoreAllMocks();
  client?.destroy();
  await kin?.stop();
});

test('answers like a Messages API and puts the matching usage event (docs/contract.md) on the stream', async () => {
  const e1 = request('claude-sonnet-5', {
    max_tokens: 4000,
    messages: [{ role: 'user', content: 'Solve 17 * 23. Think step by step and show your reasoning.' }],
  });
  const e2 = request('claude-sonnet-5', {
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Solve 4 * 99. Think step by step and show your reasoning.' }] }],
  });
  const r1 = await handler(e1);
  const r2 = await handler(e2);
  expect(r1.statusCode).toBe(200);
  expect(r2.statusCode).toBe(200);
  const body = JSON.parse(r1.body);
  expect(body).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-sonnet-5', content: [{ type: 'text' }] });
  expect(body.usage.output_tokens).toBeGreaterThan(0);

  const records = await readAll();
  expect(records).toHaveLength(2);
  const [u1, u2] = records.map((r) => r.data);
  expect(records[0].partitionKey).toBe('acct_7');
  expect(u1).toEqual({
    type: 'usage',
    requestId: (e1.requestContext as any).requestId,
    accountId: 'acct_7',
    timestamp: 1793577600119,
    model: 'claude-sonnet-5',
    promptClass: 'cot_elicitation',
    templateId: expect.stringMatching(/^t-[0-9a-f]{16}$/),
    inputTokens: expect.any(Number),
    outputTokens: body.usage.output_tokens,
  });
  expect(PROMPT_CLASSES).toContain(u1.promptClass);
  // same template with different numbers -> same template id, across requests
  expect(u2.templateId).toBe(u1.templateId);
  expect(u2.requestId).toBe((e2.requestContext as any).requestId);
  // the prompt itself never leaves the stub
  expect(JSON.stringify(records)).not.toContain('step by step');
});

test.each([
  ['not JSON', 'model-x', '{"messages": ['],
  ['no messages', 'model-x', { prompt: 'hi' }],
  ['bad model id', '../etc', { messages: [{ role: 'user', content: 'hi' }] }],
])('bad request (%s): 400 with an error body, no usage event', async (_n, model, body) => {
  const before = (await readAll()).length;
  const res = await handler(request(model as string, body));
  expect(res.statusCode).toBe(400);
  expect(JSON.parse(res.body).type).toBe('error');
  expect((await readAll()).length).toBe(before);
});

test('base64 bodies are decoded', async () => {
  const raw = JSON.stringify({ messages: [{ role: 'user', content: 'rewrite this paragraph' }] });
  const res = await handler(request('m1', Buffer.from(raw).toString('base64'), { isBase64Encoded: true }));
  expect(res.statusCode).toBe(200);
  const last = (await readAll()).pop();
  expect(last.data.promptClass).toBe('rewrite');
});

test('a Kinesis failure never fails the model call', async () => {
  process.env.USAGE_STREAM_NAME = 'no-such-stream';
  try {
    const res = await handler(request('m1', { messages: [{ role: 'user', content: 'hello' }] }));
    expect(res.statusCode).toBe(200);
  } finally {
    process.env.USAGE_STREAM_NAME = STREAM;
  }
});
