/**
 * Local Step Functions through the real @aws-sdk/client-sfn: Choice, a Lambda task (runtime callback), DynamoDB
 * putItem with a ConditionExpression and a Catch on DynamoDB.ConditionalCheckFailedException (DynamoDB Local),
 * an SQS waitForTaskToken review step completed with SendTaskSuccess / SendTaskFailure (fauxqs), timeouts and
 * heartbeat timeouts caught as States.Timeout, idempotent StartExecution by name, history, stop, and SigV4.
 */
import {
  SFNClient,
  CreateStateMachineCommand,
  StartExecutionCommand,
  DescribeExecutionCommand,
  SendTaskSuccessCommand,
  SendTaskFailureCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient, CreateQueueCommand, ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { startStepFunctions, LocalStepFunctions } from '../../../local/services/stepfunctions';
import { startSqs, SqsEmulator } from '../../../local/emulators/sqs';
import { startDynamoDbLocal, RunningEmulator } from '../../../local/emulators/dynamodb-local';
import { localClientConfig } from '../../../local/services/clients';
import { createPkSkTable } from '../../support/pk-sk-table';

let ddbEmu: RunningEmulator;
let sqsEmu: SqsEmulator;
let sfnLocal: LocalStepFunctions;
let sfn: SFNClient;
let ddb: DynamoDBClient;
let sqs: SQSClient;
let queueUrl: string;
let arn: string;
let shortTimeoutArn: string;
let heartbeatArn: string;
const lambdaPayloads: unknown[] = [];

function definition(reviewTimeout: number, heartbeat?: number): string {
  return JSON.stringify({
    StartAt: 'Classify',
    States: {
      Classify: {
        Type: 'Choice',
        Choices: [
          {
            Or: [
              { Variable: '$.decision', StringEquals: 'suspend' },
              { Variable: '$.decision', StringEquals: 'review' },
            ],
            Next: 'Score',
          },
        ],
        Default: 'Dismissed',
      },
      Dismissed: { Type: 'Succeed' },
      Score: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:scorer', 'Payload.$': '$' },
        ResultSelector: { 'score.$': '$.Payload.score' },
        ResultPath: '$.scored',
        Next: 'RecordCase',
      },
      RecordCase: {
        Type: 'Task',
        Resource: 'arn:aws:states:::dynamodb:putItem',
        Parameters: {
          TableName: 'control',
          Item: { pk: { 'S.$': "States.Format('CASE#{}', $.caseId)" }, sk: { S: 'CASE' }, account: { 'S.$': '$.accountId' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
        ResultPath: null,
        Retry: [{ ErrorEquals: ['DynamoDB.ProvisionedThroughputExceededException'], MaxAttempts: 2 }],
        Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: '$.error', Next: 'Duplicate' }],
        Next: 'Route',
      },
      Duplicate: { Type: 'Pass', Result: 'duplicate', ResultPath: '$.outcome', End: true },
      Route: { Type: 'Choice', Choices: [{ Variable: '$.decision', StringEquals: 'review', Next: 'Review' }], Default: 'Suspend' },
      Review: {
        Type: 'Task',
        Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
        Parameters: { 'QueueUrl.$': '$.queueUrl', MessageBody: { 'caseId.$': '$.caseId', 'taskToken.$': '$$.Task.Token' } },
        TimeoutSeconds: reviewTimeout,
        // like AWS, States.TaskFailed must not match a (heartbeat) timeout: no retry, straight to the Catch
        ...(heartbeat ? { HeartbeatSeconds: heartbeat, Retry: [{ ErrorEquals: ['States.TaskFailed'], MaxAttempts: 2, IntervalSeconds: 1 }] } : {}),
        ResultPath: '$.review',
        Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'Overdue' }],
        Next: 'Decide',
      },
      Decide: { Type: 'Choice', Choices: [{ Variable: '$.review.approved', BooleanEquals: true, Next: 'Suspend' }], Default: 'Rejected' },
      Suspend: { Type: 'Pass', Result: 'suspended', ResultPath: '$.outcome', End: true },
      Rejected: { Type: 'Pass', Result: 'rejected', ResultPath: '$.outcome', End: true },
      Overdue: { Type: 'Pass', Result: 'overdue', ResultPath: '$.outcome', End: true },
    },
  });
}

beforeAll(async () => {
  const ddbStarting = startDynamoDbLocal({ startTimeoutMs: 100000 });
  ddbStarting.catch(() => undefined);
  sqsEmu = await startSqs();
  ddbEmu = await ddbStarting;
  sfnLocal = await startStepFunctions({
    endpoints: { dynamodb: ddbEmu.endpoint, sqs: sqsEmu.endpoint },
    invokeLambda: async (fn, payload) => {
      lambdaPayloads.push(payload);
      if (fn.endsWith(':scorer')) return { score: 0.97 };
      throw Object.assign(new Error(`no function ${fn}`), { name: 'ResourceNotFoundException' });
    },
  });
  sfn = new SFNClient(localClientConfig('sfn', sfnLocal.endpoint));
  ddb = new DynamoDBClient(localClientConfig('dynamodb', ddbEmu.endpoint));
  sqs = new SQSClient(localClientConfig('sqs', sqsEmu.endpoint));
  await createPkSkTable(ddb, 'control');
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'review' }))).QueueUrl!;
  arn = (
    await sfn.send(new CreateStateMachineCommand({ name: 'escalation', definition: definition(3600), roleArn: 'arn:aws:iam::000000000000:role/sfn' }))
  ).stateMachineArn!;
  shortTimeoutArn = (
    await sfn.send(
      new CreateStateMachineCommand({ name: 'escalation-short', definition: definition(1), roleArn: 'arn:aws:iam::000000000000:role/sfn' }),
    )
  ).stateMachineArn!;
  heartbeatArn = (
    await sfn.send(
      new CreateStateMachineCommand({ name: 'escalation-heartbeat', definition: definition(60, 1), roleArn: 'arn:aws:iam::000000000000:role/sfn' }),
    )
  ).stateMachineArn!;
}, 120000);

afterAll(async () => {
  sfn?.destroy();
  ddb?.destroy();
  sqs?.destroy();
  await sfnLocal?.stop();
  await Promise.all([ddbEmu?.stop(), sqsEmu?.stop()]);
});

async function finished(executionArn: string) {
  await sfnLocal.waitForExecution(executionArn, 30000);
  return sfn.send(new DescribeExecutionCommand({ executionArn }));
}

async function reviewMessage(caseId: string): Promise<{ caseId: string; taskToken: string }> {
  for (let i = 0; i < 50; i++) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    for (const m of r.Messages ?? []) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
      const body = JSON.parse(m.Body!) as { caseId: string; taskToken: string };
      if (body.caseId === caseId) return body;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no review message for ${caseId}`);
}

const input = (caseId: string, decision: string) => JSON.stringify({ caseId, accountId: `acct-${caseId}`, decision, queueUrl });

test('suspend path: Choice, Lambda task via the runtime callback, DynamoDB putItem', async () => {
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'case-1', input: input('case-1', 'suspend') }));
  const d = await finished(executionArn!);
  expect(d.status).toBe('SUCCEEDED');
  expect(JSON.parse(d.output!)).toMatchObject({ outcome: 'suspended', scored: { score: 0.97 } });
  expect(lambdaPayloads).toContainEqual(expect.objectContaining({ caseId: 'case-1', decision: 'suspend' }));
  const item = await ddb.send(new GetItemCommand({ TableName: 'control', Key: { pk: { S: 'CASE#case-1' }, sk: { S: 'CASE' } } }));
  expect(item.Item?.account).toEqual({ S: 'acct-case-1' });
});

test('a second case record hits the ConditionExpression and is caught as DynamoDB.ConditionalCheckFailedException', async () => {
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: arn, name: 'case-1-again', input: input('case-1', 'suspend') }),
  );
  const d = await finished(executionArn!);
  expect(d.status).toBe('SUCCEEDED');
  const out = JSON.parse(d.output!);
  expect(out.outcome).toBe('duplicate');
  expect(out.error.Error).toBe('DynamoDB.ConditionalCheckFailedException');
});

test('review path: SQS message carries the task token; SendTaskSuccess resumes the execution', async () => {
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'case-2', input: input('case-2', 'review') }));
  const msg = await reviewMessage('case-2');
  expect(msg.taskToken.length).toBeGreaterThan(100);
  expect(sfnLocal.pendingTasks(executionArn).map((t) => t.stateName)).toEqual(['Review']);
  expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');
  await sfn.send(new SendTaskSuccessCommand({ taskToken: msg.taskToken, output: JSON.stringify({ approved: true, reviewer: 'ops@example.com' }) }));
  const d = await finished(executionArn!);
  expect(d.status).toBe('SUCCEEDED');
  expect(JSON.parse(d.output!)).toMatchObject({ outcome: 'suspended', review: { approved: true, reviewer: 'ops@example.com' } });
  // the token is spent
  await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: msg.taskToken, output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
  await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'bogus', output: '{}' }))).rejects.toMatchObject({ name: 'TaskDoesNotExist' });
});

test('review rejected: approved=false goes to Rejected; SendTaskFailure fails the execution with its error', async () => {
  const a = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'case-3', input: input('case-3', 'review') }));
  await sfn.send(new SendTaskSuccessCommand({ taskToken: (await reviewMessage('case-3')).taskToken, output: '{"approved":false}' }));
  expect(JSON.parse((await finished(a.executionArn!)).output!).outcome).toBe('rejected');

  const b = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'case-4', input: input('case-4', 'review') }));
  await sfn.send(
    new SendTaskFailureCommand({ taskToken: (await reviewMessage('case-4')).taskToken, error: 'Review.Withdrawn', cause: 'case withdrawn' }),
  );
  const d = await finished(b.executionArn!);
  expect(d.status).toBe('FAILED');
  expect(d.error).toBe('Review.Withdrawn');
  expect(d.cause).toBe('case withdrawn');
});

test('a review that nobody completes times out into the Catch (States.Timeout); the token is then dead', async () => {
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: shortTimeoutArn, name: 'case-5', input: input('case-5', 'review') }),
  );
  const msg = await reviewMessage('case-5');
  const d = await finished(executionArn!);
  expect(d.status).toBe('SUCCEEDED');
  const out = JSON.parse(d.output!);
  expect(out.outcome).toBe('overdue');
  expect(out.error.Error).toBe('States.Timeout');
  await new Promise((r) => setTimeout(r, 400));
  await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: msg.taskToken, output: '{"approved":true}' }))).rejects.toMatchObject({
    name: 'TaskTimedOut',
  });
});

test('a missed heartbeat is caught by a States.Timeout catcher', async () => {
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: heartbeatArn, name: 'case-6', input: input('case-6', 'review') }),
  );
  const d = await finished(executionArn!);
  const out = JSON.parse(d.output!);
  expect(out.outcome).toBe('overdue');
  expect(out.error.Error).toBe('States.Timeout');
  // the States.TaskFailed retrier did not fire: one review message only
  const history = sfnLocal.history(executionArn!).map((e) => e.type);
  expect(history.filter((t) => t === 'TaskStateEntered')).toHaveLength(3); // Score, RecordCase, Review
  expect(history).not.toContain('TaskStateRetried');
});

test('StartExecution is idempotent by name: same input returns the running execution, other input is refused', async () => {
  const first = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'case-7', input: input('case-7', 'review') }));
  const again = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'case-7', input: input('case-7', 'review') }));
  expect(again.executionArn).toBe(first.executionArn);
  await expect(
    sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'case-7', input: input('case-7', 'suspend') })),
  ).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
  await sfn.send(new SendTaskSuccessCommand({ taskToken: (await reviewMessage('case-7')).taskToken, output: '{"approved":false}' }));
  await finished(first.executionArn!);
  // closed: even the same input is refused now
  await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'case-7', input: input('case-7', 'review') }))).rejects.toMatchObject(
    { name: 'ExecutionAlreadyExists' },
  );
});

test('history, listing, and StopExecution', async () => {
  const h = await sfn.send(
    new GetExecutionHistoryCommand({
      executionArn: sfnLocal.describeExecution(`${arn.replace(':stateMachine:', ':execution:')}:case-1`).executionArn,
    }),
  );
  const types = h.events!.map((e) => e.type);
  expect(types[0]).toBe('ExecutionStarted');
  expect(types).toContain('ChoiceStateEntered');
  expect(types).toContain('TaskStateExited');
  expect(types[types.length - 1]).toBe('ExecutionSucceeded');

  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'case-8', input: input('case-8', 'review') }));
  await sfnLocal.waitForPendingTask('Review', executionArn);
  await sfn.send(new StopExecutionCommand({ executionArn, error: 'Ops.Cancelled', cause: 'duplicate case' }));
  const d = await finished(executionArn!);
  expect(d.status).toBe('ABORTED');
  const running = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'RUNNING' }));
  expect(running.executions).toEqual([]);
  const all = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn }));
  expect(all.executions!.length).toBeGreaterThanOrEqual(7);
});

test('aws-sdk integrations use the PascalCase error names (DynamoDb.<Error>Exception)', async () => {
  const def = {
    StartAt: 'Get',
    States: {
      Get: {
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:dynamodb:getItem',
        Parameters: { 'TableName.$': '$.table', Key: { pk: { S: 'CASE#case-1' }, sk: { S: 'CASE' } } },
        Catch: [{ ErrorEquals: ['DynamoDb.ResourceNotFoundException'], ResultPath: '$.error', Next: 'Missing' }],
        End: true,
      },
      Missing: { Type: 'Pass', Result: 'missing', ResultPath: '$.outcome', End: true },
    },
  };
  const sm = sfnLocal.createStateMachine('sdk', def);
  const ok = sfnLocal.startExecution(sm, { table: 'control' });
  const okView = await sfnLocal.waitForExecution(ok.executionArn);
  expect(JSON.parse(okView.output!).Item.account).toEqual({ S: 'acct-case-1' });
  const missing = sfnLocal.startExecution(sm, { table: 'no-such-table' });
  const missingView = await sfnLocal.waitForExecution(missing.executionArn);
  expect(JSON.parse(missingView.output!)).toMatchObject({ outcome: 'missing', error: { Error: 'DynamoDb.ResourceNotFoundException' } });
});

test('invalid definitions and unsigned requests are refused', async () => {
  await expect(
    sfn.send(
      new CreateStateMachineCommand({ name: 'bad', definition: '{"StartAt":"X","States":{}}', roleArn: 'arn:aws:iam::000000000000:role/sfn' }),
    ),
  ).rejects.toMatchObject({ name: 'InvalidDefinition' });
  const res = await fetch(sfnLocal.endpoint, {
    method: 'POST',
    headers: { 'x-amz-target': 'AWSStepFunctions.SendTaskSuccess', 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify({ taskToken: 'x', output: '{}' }),
  });
  expect(res.status).toBe(403);
});
