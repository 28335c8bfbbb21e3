/** Target input shaping of the local EventBridge: Input, InputPath, InputTransformer, and the JSONPath subset. */
import { simpleJsonPath, startEventBridge, LocalEventBridge } from '../../../local/services/eventbridge';

let eb: LocalEventBridge;
const received: Array<{ arn: string; event: unknown }> = [];

beforeAll(async () => {
  eb = await startEventBridge({ invokeLambda: async (arn, event) => void received.push({ arn, event }) });
});
afterAll(async () => eb?.stop());

test('simpleJsonPath', () => {
  const e = { detail: { 'account-id': 'a1', list: [{ x: 1 }, { x: 2 }] } };
  expect(simpleJsonPath(e, '$')).toBe(e);
  expect(simpleJsonPath(e, "$.detail['account-id']")).toBe('a1');
  expect(simpleJsonPath(e, '$.detail.list[1].x')).toBe(2);
  expect(simpleJsonPath(e, '$.detail.missing.x')).toBeUndefined();
  expect(() => simpleJsonPath(e, 'detail')).toThrow(/unsupported json path/);
});

test('Input, InputPath and InputTransformer shape what the target receives', async () => {
  // rules are created through the same operations the API uses; here via PutEvents in-process after PutRule over HTTP
  const { EventBridgeClient, PutRuleCommand, PutTargetsCommand } = await import('@aws-sdk/client-eventbridge');
  const { localClientConfig } = await import('../../../local/services/clients');
  const c = new EventBridgeClient(localClientConfig('eventbridge', eb.endpoint));
  try {
    await c.send(new PutRuleCommand({ Name: 'r', EventPattern: JSON.stringify({ source: ['distill-guard'] }) }));
    await c.send(
      new PutTargetsCommand({
        Rule: 'r',
        Targets: [
          { Id: 'const', Arn: 'arn:aws:lambda:us-east-1:000000000000:function:const', Input: '{"fixed":true}' },
          { Id: 'path', Arn: 'arn:aws:lambda:us-east-1:000000000000:function:path', InputPath: '$.detail.accountId' },
          {
            Id: 'tx',
            Arn: 'arn:aws:lambda:us-east-1:000000000000:function:tx',
            InputTransformer: {
              InputPathsMap: { acct: '$.detail.accountId', score: '$.detail.score' },
              InputTemplate: '{"who":"<acct>","score":<score>,"text":"account <acct> scored <score>"}',
            },
          },
        ],
      }),
    );
  } finally {
    c.destroy();
  }
  const res = eb.putEvents([{ Source: 'distill-guard', DetailType: 'Account Flagged', Detail: JSON.stringify({ accountId: 'a7', score: 0.91 }) }]);
  expect(res.FailedEntryCount).toBe(0);
  await eb.idle();
  const by = Object.fromEntries(received.map((r) => [r.arn.split(':').pop(), r.event]));
  expect(by.const).toEqual({ fixed: true });
  expect(by.path).toBe('a7');
  expect(by.tx).toEqual({ who: 'a7', score: 0.91, text: 'account a7 scored 0.91' });
});
