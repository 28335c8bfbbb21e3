/**
 * Local API Gateway API keys through the real @aws-sdk/client-api-gateway: the calls a suspension / reinstatement
 * step makes (find an account's keys by customerId, disable them, re-enable them).
 */
import {
  APIGatewayClient,
  CreateApiKeyCommand,
  GetApiKeysCommand,
  GetApiKeyCommand,
  UpdateApiKeyCommand,
  paginateGetApiKeys,
} from '@aws-sdk/client-api-gateway';
import { startApiGateway, LocalApiGateway } from '../../../local/services/apigateway';
import { localClientConfig } from '../../../local/services/clients';

let gw: LocalApiGateway;
let client: APIGatewayClient;

beforeAll(async () => {
  gw = await startApiGateway();
  client = new APIGatewayClient(localClientConfig('api_gateway', gw.endpoint));
});

afterAll(async () => {
  client?.destroy();
  await gw?.stop();
});

test('create keys, find an account’s keys by customerId, disable and re-enable them', async () => {
  const a1 = await client.send(new CreateApiKeyCommand({ name: 'acct-1-primary', customerId: 'acct-1', enabled: true }));
  await client.send(new CreateApiKeyCommand({ name: 'acct-1-ci', customerId: 'acct-1', enabled: true, value: 'a'.repeat(30) }));
  await client.send(new CreateApiKeyCommand({ name: 'acct-2', customerId: 'acct-2', enabled: true }));
  expect(a1.id).toMatch(/^[a-z0-9]{10}$/);
  expect(a1.value).toHaveLength(40);
  expect(a1.createdDate).toBeInstanceOf(Date);

  const mine = await client.send(new GetApiKeysCommand({ customerId: 'acct-1', includeValues: true }));
  expect(mine.items?.map((k) => k.name).sort()).toEqual(['acct-1-ci', 'acct-1-primary']);
  expect(mine.items?.find((k) => k.name === 'acct-1-ci')?.value).toBe('a'.repeat(30));
  const noValues = await client.send(new GetApiKeysCommand({ customerId: 'acct-1' }));
  expect(noValues.items?.every((k) => k.value === undefined)).toBe(true);

  // suspension: disable every key of the account
  for (const k of mine.items!) {
    const updated = await client.send(
      new UpdateApiKeyCommand({ apiKey: k.id!, patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] }),
    );
    expect(updated.enabled).toBe(false);
  }
  expect(
    gw
      .apiKeys()
      .filter((k) => k.customerId === 'acct-1')
      .every((k) => !k.enabled),
  ).toBe(true);
  expect(gw.apiKeys().find((k) => k.customerId === 'acct-2')?.enabled).toBe(true);

  // reinstatement
  await client.send(new UpdateApiKeyCommand({ apiKey: a1.id!, patchOperations: [{ op: 'replace', path: '/enabled', value: 'true' }] }));
  const back = await client.send(new GetApiKeyCommand({ apiKey: a1.id!, includeValue: true }));
  expect(back).toMatchObject({ enabled: true, customerId: 'acct-1', value: a1.value });
  expect(gw.findByValue(a1.value!)?.id).toBe(a1.id);
});

test('paging with limit/position and name prefix', async () => {
  for (let i = 0; i < 5; i++) gw.createApiKey({ name: `bulk-${i}`, customerId: 'bulk', enabled: true });
  const names: string[] = [];
  for await (const page of paginateGetApiKeys({ client, pageSize: 2 }, { customerId: 'bulk' })) names.push(...(page.items ?? []).map((k) => k.name!));
  expect(names.sort()).toEqual(['bulk-0', 'bulk-1', 'bulk-2', 'bulk-3', 'bulk-4']);
  const byName = await client.send(new GetApiKeysCommand({ nameQuery: 'bulk-3' }));
  expect(byName.items?.map((k) => k.name)).toEqual(['bulk-3']);
});

test('errors: unknown key is NotFoundException, bad patch is BadRequestException, unsigned is refused', async () => {
  await expect(client.send(new GetApiKeyCommand({ apiKey: 'nope' }))).rejects.toMatchObject({ name: 'NotFoundException' });
  const k = gw.createApiKey({ name: 'x', enabled: true });
  await expect(
    client.send(new UpdateApiKeyCommand({ apiKey: k.id, patchOperations: [{ op: 'replace', path: '/enabled', value: 'maybe' }] })),
  ).rejects.toMatchObject({ name: 'BadRequestException' });
  await expect(client.send(new UpdateApiKeyCommand({ apiKey: k.id, patchOperations: [{ op: 'remove', path: '/enabled' }] }))).rejects.toMatchObject({
    name: 'BadRequestException',
  });
  const res = await fetch(`${gw.endpoint}/apikeys`);
  expect(res.status).toBe(403);
});

test('a Step Functions aws-sdk:apigateway suspension step (Map over the account’s keys) disables them', async () => {
  const { startStepFunctions } = await import('../../../local/services/stepfunctions');
  const sfn = await startStepFunctions({ endpoints: { api_gateway: gw.endpoint } });
  try {
    gw.createApiKey({ name: 'sfn-1', customerId: 'acct-sfn', enabled: true });
    gw.createApiKey({ name: 'sfn-2', customerId: 'acct-sfn', enabled: true });
    const other = gw.createApiKey({ name: 'sfn-other', customerId: 'acct-other', enabled: true });
    const sm = sfn.createStateMachine('disable-keys', {
      StartAt: 'FindKeys',
      States: {
        FindKeys: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:apigateway:getApiKeys',
          Parameters: { 'CustomerId.$': '$.accountId', IncludeValues: false },
          ResultSelector: { 'ids.$': '$.Items[*].Id' },
          ResultPath: '$.keys',
          Next: 'DisableEach',
        },
        DisableEach: {
          Type: 'Map',
          ItemsPath: '$.keys.ids',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Disable',
            States: {
              Disable: {
                Type: 'Task',
                Resource: 'arn:aws:states:::aws-sdk:apigateway:updateApiKey',
                Parameters: { 'ApiKey.$': '$', PatchOperations: [{ Op: 'replace', Path: '/enabled', Value: 'false' }] },
                ResultSelector: { 'id.$': '$.Id', 'enabled.$': '$.Enabled' },
                End: true,
              },
            },
          },
          ResultPath: '$.disabled',
          End: true,
        },
      },
    });
    const { executionArn } = sfn.startExecution(sm, { accountId: 'acct-sfn' });
    const v = await sfn.waitForExecution(executionArn);
    expect(v.status).toBe('SUCCEEDED');
    const out = JSON.parse(v.output!) as { disabled: Array<{ id: string; enabled: boolean }> };
    expect(out.disabled).toHaveLength(2);
    expect(out.disabled.every((d) => d.enabled === false)).toBe(true);
    expect(
      gw
        .apiKeys()
        .filter((k) => k.customerId === 'acct-sfn')
        .every((k) => !k.enabled),
    ).toBe(true);
    expect(gw.apiKeys().find((k) => k.id === other.id)?.enabled).toBe(true);
  } finally {
    await sfn.stop();
  }
});

test('usage plans: a key moves from one plan to another (one plan per key), listed, removed, and unknown ids answer NotFound', async () => {
  const { CreateUsagePlanCommand, CreateUsagePlanKeyCommand, DeleteUsagePlanKeyCommand, GetUsagePlanKeysCommand, GetUsagePlanCommand } =
    await import('@aws-sdk/client-api-gateway');
  const std = await client.send(new CreateUsagePlanCommand({ name: 'std', throttle: { rateLimit: 100, burstLimit: 200 } }));
  const res = await client.send(
    new CreateUsagePlanCommand({ name: 'res', throttle: { rateLimit: 1, burstLimit: 2 }, tags: { 'local:id': 'plan-res-fixed' } }),
  );
  expect(res.id).toBe('plan-res-fixed');
  expect((await client.send(new GetUsagePlanCommand({ usagePlanId: std.id! }))).throttle).toEqual({ rateLimit: 100, burstLimit: 200 });
  const k = await client.send(new CreateApiKeyCommand({ name: 'acct-plan-k', customerId: 'acct-plan', enabled: true }));
  const added = await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: std.id!, keyId: k.id!, keyType: 'API_KEY' }));
  expect(added).toMatchObject({ id: k.id, type: 'API_KEY', name: 'acct-plan-k' });
  await expect(client.send(new CreateUsagePlanKeyCommand({ usagePlanId: res.id!, keyId: k.id!, keyType: 'API_KEY' }))).rejects.toMatchObject({
    name: 'ConflictException',
  });
  expect(gw.planOfKey(k.id!)?.id).toBe(std.id);

  await client.send(new DeleteUsagePlanKeyCommand({ usagePlanId: std.id!, keyId: k.id! }));
  await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: res.id!, keyId: k.id!, keyType: 'API_KEY' }));
  expect((await client.send(new GetUsagePlanKeysCommand({ usagePlanId: res.id! }))).items?.map((x) => x.id)).toEqual([k.id]);
  expect((await client.send(new GetUsagePlanKeysCommand({ usagePlanId: std.id! }))).items).toEqual([]);
  expect(gw.planOfKey(k.id!)?.throttle).toEqual({ rateLimit: 1, burstLimit: 2 });

  await expect(client.send(new DeleteUsagePlanKeyCommand({ usagePlanId: std.id!, keyId: k.id! }))).rejects.toMatchObject({
    name: 'NotFoundException',
  });
  await expect(client.send(new GetUsagePlanKeysCommand({ usagePlanId: 'nope' }))).rejects.toMatchObject({ name: 'NotFoundException' });
  await expect(client.send(new CreateUsagePlanKeyCommand({ usagePlanId: res.id!, keyId: 'no-such-key', keyType: 'API_KEY' }))).rejects.toMatchObject({
    name: 'NotFoundException',
  });
});
