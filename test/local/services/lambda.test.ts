/**
 * Local Lambda `Invoke` through the real @aws-sdk/client-lambda: what the operators' `review reinstate` does
 * against the local runtime (payload back, function errors flagged, unknown functions and unsigned calls refused).
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { startLambda, LocalLambda } from '../../../local/services/lambda';
import { localClientConfig } from '../../../local/services/clients';

let fn: LocalLambda;
let client: LambdaClient;
const calls: Array<{ name: string; payload: unknown }> = [];

beforeAll(async () => {
  fn = await startLambda({
    invoker: async (name, payload) => {
      calls.push({ name, payload });
      if (name === 'missing') throw new Error(`no local function for ${name}`);
      if (name === 'boom') return { ok: false, payload: { errorType: 'TypeError', errorMessage: 'x is undefined' } };
      return { ok: true, payload: { echo: payload } };
    },
  });
  client = new LambdaClient(localClientConfig('lambda', fn.endpoint));
});

afterAll(async () => {
  client?.destroy();
  await fn?.stop();
});

const json = (b?: Uint8Array) => JSON.parse(new TextDecoder().decode(b));

test('RequestResponse returns the payload; a function error is flagged, not thrown', async () => {
  const ok = await client.send(
    new InvokeCommand({ FunctionName: 'reinstate', Payload: new TextEncoder().encode(JSON.stringify({ accountId: 'a-1' })) }),
  );
  expect(ok.StatusCode).toBe(200);
  expect(ok.FunctionError).toBeUndefined();
  expect(json(ok.Payload)).toEqual({ echo: { accountId: 'a-1' } });
  const byArn = await client.send(
    new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:reinstate', Payload: new TextEncoder().encode('{}') }),
  );
  expect(byArn.StatusCode).toBe(200);
  expect(calls.at(-1)!.name).toBe('arn:aws:lambda:us-east-1:000000000000:function:reinstate');

  const bad = await client.send(new InvokeCommand({ FunctionName: 'boom', Payload: new TextEncoder().encode('{}') }));
  expect(bad.FunctionError).toBe('Unhandled');
  expect(json(bad.Payload)).toEqual({ errorType: 'TypeError', errorMessage: 'x is undefined' });
});

test('an unknown function is ResourceNotFoundException; an unsigned call is refused', async () => {
  await expect(client.send(new InvokeCommand({ FunctionName: 'missing' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  const r = await fetch(`${fn.endpoint}/2015-03-31/functions/reinstate/invocations`, { method: 'POST', body: '{}' });
  expect(r.status).toBe(403);
});
