/**
 * The local runtime against real emulators, on a small synthesized stack using every wired resource type:
 * Kinesis ESM (bisect, retries, partial batch responses, on-failure SQS destination), a DynamoDB stream ESM with
 * FilterCriteria, a bus rule with an SQS target, a schedule rule with a Lambda target (simulated clock) and a
 * state machine whose task invokes a local function.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { startDynamoDbLocal } from '../../../local/emulators/dynamodb-local';
import { startKinesis } from '../../../local/emulators/kinesis';
import { startSqs } from '../../../local/emulators/sqs';
import { startEventBridge, LocalEventBridge } from '../../../local/services/eventbridge';
import { startStepFunctions, LocalStepFunctions } from '../../../local/services/stepfunctions';
import { LocalRuntime } from '../../../local/runtime/runtime';
import { synthFixtureStack } from './fixture-stack';

const OUT = path.resolve(__dirname, '..', '..', '..', '.local', 'test', 'runtime-cdk-out');
const START = Date.UTC(2026, 10, 2, 0, 0, 0);

describe('local runtime on a synthesized stack', () => {
  const emulators: Array<{ stop(): Promise<void> }> = [];
  let rt: LocalRuntime;
  let eb: LocalEventBridge;
  let sfn: LocalStepFunctions;

  beforeAll(async () => {
    synthFixtureStack(OUT);
    const [ddb, kin, sqs] = await Promise.all([startDynamoDbLocal(), startKinesis(), startSqs()]);
    emulators.push(ddb, kin, sqs);
    sfn = await startStepFunctions({ endpoints: { dynamodb: ddb.endpoint, sqs: sqs.endpoint, kinesis: kin.endpoint }, retryIntervalMs: 10 });
    emulators.push(sfn);
    eb = await startEventBridge({ sqsEndpoint: sqs.endpoint, sfnEndpoint: sfn.endpoint });
    emulators.push(eb);
    rt = await LocalRuntime.start({
      cdkOut: OUT,
      endpoints: { dynamodb: ddb.endpoint, kinesis: kin.endpoint, sqs: sqs.endpoint, eventbridge: eb.endpoint, sfn: sfn.endpoint },
      eventbridge: eb,
      stepfunctions: sfn,
      clockStartMs: START,
      functionLogFile: path.join(OUT, 'functions.log'),
      idlePollMs: 100,
    });
  }, 120_000);

  afterAll(async () => {
    await rt?.stop();
    for (const e of emulators.reverse()) await e.stop().catch(() => undefined);
    fs.rmSync(OUT, { recursive: true, force: true });
  });

  const table = () => rt.model.tables[0].name;
  const queueUrl = (prefix: string) => rt.queueUrlForArn(rt.model.queues.find((q) => q.logicalId.startsWith(prefix))!.arn)!;
  const scanKeys = async () => {
    const r = await rt.clients.dynamodb.send(new ScanCommand({ TableName: table() }));
    return (r.Items ?? []).map((i) => ({ pk: i.pk.S!, fn: i.fn?.S, region: i.region?.S }));
  };
  const drain = async (url: string, atLeast: number, timeoutMs = 20_000) => {
    const out: string[] = [];
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const r = await rt.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      out.push(...(r.Messages ?? []).map((m) => m.Body!));
      if (out.length >= atLeast && !(r.Messages ?? []).length) break;
    }
    return out;
  };

  it('delivers Kinesis records with bisect, partial batch responses and an on-failure destination', async () => {
    const stream = rt.model.streams[0].name;
    const entries = Array.from({ length: 20 }, (_, i) => ({
      PartitionKey: `k${i % 4}`,
      Data: Buffer.from(JSON.stringify({ id: i, poison: i === 7, partial: i === 12 })),
    }));
    await rt.clients.kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: entries }));
    expect(await rt.waitForQuiescence(60_000)).toBe(true);

    const keys = await scanKeys();
    const recs = keys.filter((k) => k.pk.startsWith('rec#')).map((k) => Number(k.pk.slice(4)));
    expect(recs.sort((a, b) => a - b)).toEqual([...Array(20).keys()].filter((i) => i !== 7));
    // each function ran with its own resolved environment
    const fnName = rt.model.functions.find((f) => f.logicalId.startsWith('Ingest'))!.name;
    expect(keys.find((k) => k.pk === 'rec#0')).toMatchObject({ fn: fnName, region: 'us-east-1' });

    const dlq = (await drain(queueUrl('IngestFailures'), 1)).map((b) => JSON.parse(b));
    expect(dlq).toHaveLength(1);
    expect(dlq[0].requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(dlq[0].KinesisBatchInfo).toMatchObject({ batchSize: 1, streamArn: rt.model.streams[0].arn });
    const km = rt.stats().mappings.find((m) => m.kind === 'kinesis')!;
    expect(km.bisections).toBeGreaterThan(0);
    expect(km.recordsDiscarded).toBe(1);
  });

  it('runs the DynamoDB stream mapping with FilterCriteria into the bus, and the rule into its SQS target', async () => {
    const bodies = (await drain(queueUrl('Subscriber'), 19)).map((b) => JSON.parse(b));
    const pks = bodies.map((b) => b.detail.pk).sort();
    expect(pks).toHaveLength(19);
    expect(pks.every((p: string) => p.startsWith('rec#'))).toBe(true);
    expect(bodies[0]['detail-type']).toBe('Item Inserted');
    const dm = rt.stats().mappings.find((m) => m.kind === 'dynamodb')!;
    expect(dm.recordsFiltered).toBeGreaterThan(0); // seen#12 was filtered out
  });

  it('fires schedule rules on the simulated clock with the tick as event time', async () => {
    await rt.clock.advanceTo(START + 11 * 60_000);
    const ticks = (await scanKeys())
      .filter((k) => k.pk.startsWith('tick#'))
      .map((k) => k.pk.slice(5))
      .sort();
    expect(ticks).toEqual(['2026-11-02T00:05:00Z', '2026-11-02T00:10:00Z']);
  });

  it('runs the state machine with its Lambda task on the local function', async () => {
    const arn = rt.model.stateMachines[0].arn;
    const { executionArn } = await rt.clients.sfn!.send(
      new StartExecutionCommand({ stateMachineArn: arn, input: JSON.stringify({ time: 'sfn', 'detail-type': 'x' }) }),
    );
    await sfn.waitForExecution(executionArn!, 30_000);
    const d = await rt.clients.sfn!.send(new DescribeExecutionCommand({ executionArn }));
    expect(d.status).toBe('SUCCEEDED');
    expect(JSON.parse(d.output!)).toEqual({ ok: true });
  });
});
