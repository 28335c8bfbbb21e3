/**
 * startEmulators(): every local endpoint up on its own port, reachable by the real SDK v3 clients configured ONLY
 * through the environment it returns (AWS_ENDPOINT_URL_<SERVICE>), as the handlers are in the local runtime.
 */
import {
  KinesisClient,
  CreateStreamCommand,
  PutRecordCommand,
  ListShardsCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
  DescribeStreamSummaryCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient, CreateQueueCommand, SendMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { EventBridgeClient, ListEventBusesCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient, ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import { APIGatewayClient, GetApiKeysCommand } from '@aws-sdk/client-api-gateway';
import { startEmulators, Emulators, kinesisClient } from '../../../local/emulators';

let emu: Emulators;
const saved = { ...process.env };

beforeAll(async () => {
  emu = await startEmulators();
  Object.assign(process.env, emu.env());
}, 130000);

afterAll(async () => {
  for (const k of Object.keys(emu?.env() ?? {})) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  await emu?.stop();
});

test('env() names every endpoint, region and dummy credentials', () => {
  const env = emu.env();
  expect(Object.keys(env).sort()).toEqual(
    [
      'AWS_ACCESS_KEY_ID',
      'AWS_DEFAULT_REGION',
      'AWS_ENDPOINT_URL_API_GATEWAY',
      'AWS_ENDPOINT_URL_DYNAMODB',
      'AWS_ENDPOINT_URL_EVENTBRIDGE',
      'AWS_ENDPOINT_URL_KINESIS',
      'AWS_ENDPOINT_URL_KMS',
      'AWS_ENDPOINT_URL_S3',
      'AWS_ENDPOINT_URL_SECRETS_MANAGER',
      'AWS_ENDPOINT_URL_SFN',
      'AWS_ENDPOINT_URL_SQS',
      'AWS_REGION',
      'AWS_SECRET_ACCESS_KEY',
    ].sort(),
  );
  const ports = new Set(
    Object.entries(env)
      .filter(([k]) => k.startsWith('AWS_ENDPOINT_URL_'))
      .map(([, v]) => v),
  );
  expect(ports.size).toBe(8); // S3 is served by the SQS emulator (fauxqs), on its port
  expect(env.AWS_ENDPOINT_URL_S3).toBe(env.AWS_ENDPOINT_URL_SQS);
  for (const v of ports) expect(v).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
});

test('clients built with no endpoint reach every emulator through AWS_ENDPOINT_URL_<SERVICE>', async () => {
  const ddb = new DynamoDBClient({});
  const sqs = new SQSClient({});
  const events = new EventBridgeClient({});
  const sfn = new SFNClient({});
  const apigw = new APIGatewayClient({});
  try {
    expect((await ddb.send(new ListTablesCommand({}))).TableNames).toEqual([]);
    const q = await sqs.send(new CreateQueueCommand({ QueueName: 'env-check' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: q.QueueUrl, MessageBody: 'hello' }));
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl }))).Messages?.[0].Body).toBe('hello');
    expect((await events.send(new ListEventBusesCommand({}))).EventBuses?.map((b) => b.Name)).toEqual(['default']);
    expect((await sfn.send(new ListStateMachinesCommand({}))).stateMachines).toEqual([]);
    expect((await apigw.send(new GetApiKeysCommand({}))).items).toEqual([]);
  } finally {
    [ddb, sqs, events, sfn, apigw].forEach((c) => c.destroy());
  }
});

test('kinesis (kinesalite, in memory): put and read back a record, by stream name, with the HTTP/1.1 handler', async () => {
  const k = new KinesisClient({ requestHandler: new NodeHttpHandler() }); // endpoint from AWS_ENDPOINT_URL_KINESIS
  const helper = kinesisClient(emu.endpoints.kinesis);
  try {
    await k.send(new CreateStreamCommand({ StreamName: 'access-logs', ShardCount: 2 }));
    for (let i = 0; i < 20; i++) {
      const s = await k.send(new DescribeStreamSummaryCommand({ StreamName: 'access-logs' }));
      if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const put = await helper.send(new PutRecordCommand({ StreamName: 'access-logs', PartitionKey: 'acct-1', Data: Buffer.from('{"a":1}') }));
    const shards = await k.send(new ListShardsCommand({ StreamName: 'access-logs' }));
    expect(shards.Shards).toHaveLength(2);
    const it = await k.send(new GetShardIteratorCommand({ StreamName: 'access-logs', ShardId: put.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    const recs = await k.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
    expect(recs.Records?.map((r) => Buffer.from(r.Data!).toString())).toEqual(['{"a":1}']);
  } finally {
    k.destroy();
    helper.destroy();
  }
});

test('sqs runs in a child process under jest (ESM cannot be imported in-process here)', () => {
  expect(emu.sqs.mode).toBe('child-process');
});
