/**
 * The demo API's Lambda REQUEST authorizer (lambdas/ingest/authorizer.ts) against DynamoDB Local, reached by
 * the handler's own SDK client through AWS_ENDPOINT_URL_DYNAMODB: real GetItem on a real control-table item.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { RunningEmulator, startDynamoDbLocal } from '../../local/emulators/dynamodb-local';
import { LOCAL_CREDENTIALS } from '../../local/services/clients';
import { createPkSkTable } from '../support/pk-sk-table';
import { localHandlerEnv, quietConsole } from '../support/env';

const TABLE = 'control-authorizer-test';
const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/v1/models/claude-sonnet-5/messages';
let ddb: RunningEmulator;
let handler: (e: APIGatewayRequestAuthorizerEvent) => Promise<any>;
const saved = { ...process.env };

function event(headers: Record<string, string> | null): APIGatewayRequestAuthorizerEvent {
  return { type: 'REQUEST', methodArn: METHOD_ARN, headers, requestContext: {} } as unknown as APIGatewayRequestAuthorizerEvent;
}

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  Object.assign(process.env, localHandlerEnv({ AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint, CONTROL_TABLE: TABLE }));
  const client = new DynamoDBClient({ endpoint: ddb.endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  await createPkSkTable(client, TABLE);
  const doc = DynamoDBDocumentClient.from(client);
  const now = Date.now();
  const items = [
    { pk: 'ACCOUNT#acct_active', sk: 'STATUS', status: 'active', suspendedUntil: null, createdAt: 1790000000000 },
    { pk: 'ACCOUNT#acct_banned', sk: 'STATUS', status: 'suspended', suspendedUntil: now + 3_600_000, createdAt: '2026-10-01T00:00:00.000Z' },
    { pk: 'ACCOUNT#acct_forever', sk: 'STATUS', status: 'suspended', suspendedUntil: null, createdAt: 1790000000000 },
    { pk: 'ACCOUNT#acct_served', sk: 'STATUS', status: 'suspended', suspendedUntil: now - 60_000, createdAt: 1790000000000 },
    { pk: 'ACCOUNT#acct_restricted', sk: 'STATUS', status: 'restricted', stepUp: true, restrictedUntil: now + 3_600_000, createdAt: 1790000000000 },
    {
      pk: 'ACCOUNT#acct_restriction_over',
      sk: 'STATUS',
      status: 'restricted',
      stepUp: true,
      restrictedUntil: now - 60_000,
      createdAt: 1790000000000,
    },
  ];
  for (const Item of items) await doc.send(new PutCommand({ TableName: TABLE, Item }));
  ({ handler } = await import('../../lambdas/ingest/authorizer'));
  quietConsole('log', 'info', 'warn');
}, 60_000);

afterAll(async () => {
  process.env = saved;
  jest.restoreAllMocks();
  await ddb?.stop();
});

test('active account: Allow on the whole stage, principalId and accountCreatedAt for the access log', async () => {
  const res = await handler(event({ Authorization: 'Bearer acct_active' }));
  expect(res.principalId).toBe('acct_active');
  expect(res.policyDocument.Statement).toEqual([
    { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*' },
  ]);
  expect(res.context.accountCreatedAt).toBe('1790000000000');
});

test('suspended until the future: explicit Deny (403), still with the principal for the access log', async () => {
  const res = await handler(event({ authorization: 'bearer acct_banned' }));
  expect(res.principalId).toBe('acct_banned');
  expect(res.policyDocument.Statement[0].Effect).toBe('Deny');
  expect(res.context.accountCreatedAt).toBe(String(Date.parse('2026-10-01T00:00:00.000Z')));
});

test('suspended with no end: Deny; suspension already over: Allow', async () => {
  expect((await handler(event({ Authorization: 'Bearer acct_forever' }))).policyDocument.Statement[0].Effect).toBe('Deny');
  const served = await handler(event({ Authorization: 'Bearer acct_served' }));
  expect(served.policyDocument.Statement[0].Effect).toBe('Allow');
  expect(served.context.accountStatus).toBe('suspension-expired');
});

test('restricted account: served (its keys are throttled elsewhere), with stepUp "true" in the context', async () => {
  const res = await handler(event({ Authorization: 'Bearer acct_restricted' }));
  expect(res.policyDocument.Statement[0].Effect).toBe('Allow');
  expect(res.context).toMatchObject({ stepUp: 'true', accountStatus: 'restricted', accountCreatedAt: '1790000000000' });
});

test('stepUp is "false" for an active account and once a restriction has ended (before the expirer clears it)', async () => {
  expect((await handler(event({ Authorization: 'Bearer acct_active' }))).context.stepUp).toBe('false');
  const over = await handler(event({ Authorization: 'Bearer acct_restriction_over' }));
  expect(over.policyDocument.Statement[0].Effect).toBe('Allow');
  expect(over.context).toMatchObject({ stepUp: 'false', accountStatus: 'active' });
});

test('unknown account: allowed without accountCreatedAt by default, denied with ALLOW_UNKNOWN_ACCOUNTS=false', async () => {
  const res = await handler(event({ Authorization: 'Bearer acct_new' }));
  expect(res.policyDocument.Statement[0].Effect).toBe('Allow');
  expect(res.context.accountCreatedAt).toBeUndefined();
  process.env.ALLOW_UNKNOWN_ACCOUNTS = 'false';
  try {
    expect((await handler(event({ Authorization: 'Bearer acct_new' }))).policyDocument.Statement[0].Effect).toBe('Deny');
  } finally {
    delete process.env.ALLOW_UNKNOWN_ACCOUNTS;
  }
});

test.each([
  ['no headers', null],
  ['no Authorization', { 'x-api-key': 'k' }],
  ['not Bearer', { Authorization: 'Basic YWJjOmRlZg==' }],
  ['empty token', { Authorization: 'Bearer ' }],
  ['injection attempt', { Authorization: 'Bearer acct"},"x":"' }],
  ['too long', { Authorization: `Bearer ${'a'.repeat(200)}` }],
])('malformed credential (%s): Unauthorized (401), no table read', async (_name, headers) => {
  await expect(handler(event(headers as Record<string, string> | null))).rejects.toThrow(/^Unauthorized$/);
});

test('a table error fails closed (the request is refused, never allowed)', async () => {
  process.env.CONTROL_TABLE = 'no-such-table';
  try {
    await expect(handler(event({ Authorization: 'Bearer acct_active' }))).rejects.toThrow(/resource not found|ResourceNotFound|non-existent table/i);
  } finally {
    process.env.CONTROL_TABLE = TABLE;
  }
});
