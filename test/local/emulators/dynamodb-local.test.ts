/**
 * DynamoDB Local is ready when DynamoDB answers, not when its port accepts connections: another emulator of a
 * parallel test can take the port between the free-port probe and the JVM binding it.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDynamoDbLocal } from '../../../local/emulators/dynamodb-local';

jest.setTimeout(180_000);

test('a port another server holds is an error, never an emulator that talks to the other server', async () => {
  const other = http.createServer((_req, res) => res.writeHead(400).end('{"__type":"UnknownOperationException","message":"Unknown action"}'));
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  const port = (other.address() as AddressInfo).port;
  try {
    const started = await startDynamoDbLocal({ port, startTimeoutMs: 90_000 }).then(
      async (emu) => {
        await emu.stop();
        return 'started';
      },
      (err: Error) => err.message,
    );
    expect(started).toMatch(/dynamodb local (could not bind port|exited early)/);
  } finally {
    other.close();
  }
});

test('on a free port it answers DynamoDB calls', async () => {
  const emu = await startDynamoDbLocal();
  try {
    const res = await fetch(emu.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ TableNames: [] });
  } finally {
    await emu.stop();
  }
});
