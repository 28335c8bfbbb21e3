/**
 * The local Secrets Manager and the local runtime's handling of `AWS::SecretsManager::Secret`: the template's
 * secret is created with a generated value as CloudFormation would, and a function's `Ref` to it resolves to an ARN
 * the endpoint answers GetSecretValue for (what the aggregator reads its IP hash key with under `npm start`).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { getSecretString, secretsManagerClient } from '../../../lambdas/shared/secrets-manager';
import { LOCAL_CREDENTIALS } from '../../../local/services/clients';
import { LocalSecretsManager, startSecretsManager } from '../../../local/services/secretsmanager';
import { provision } from '../../../local/runtime/provision';
import { buildStackModel, CfnTemplate } from '../../../local/runtime/template';

let sm: LocalSecretsManager;
const client = () => secretsManagerClient({ endpoint: sm.endpoint, region: 'us-east-1', credentials: { ...LOCAL_CREDENTIALS }, maxAttempts: 1 });

beforeAll(async () => {
  sm = await startSecretsManager();
});
afterAll(async () => {
  await sm?.stop();
});

test('CreateSecret, GetSecretValue by name and by ARN; unknown secrets and unsigned calls are refused', async () => {
  const r = (await client().send(new CreateSecretCommand({ Name: 'app/key', SecretString: 's3cr3t' }))) as { ARN: string; Name: string };
  expect(r.ARN).toBe('arn:aws:secretsmanager:us-east-1:000000000000:secret:app/key');
  expect(await getSecretString('app/key', client())).toBe('s3cr3t');
  expect(await getSecretString(r.ARN, client())).toBe('s3cr3t');
  await expect(getSecretString('nope', client())).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  await expect(client().send(new CreateSecretCommand({ Name: 'app/key', SecretString: 'x' }))).rejects.toMatchObject({
    name: 'ResourceExistsException',
  });
  const unsigned = await fetch(sm.endpoint, {
    method: 'POST',
    headers: { 'x-amz-target': 'secretsmanager.GetSecretValue' },
    body: '{"SecretId":"app/key"}',
  });
  expect(unsigned.status).toBe(403);
});

test('PutSecretValue replaces the value (a key agreed out of band); an unknown secret is refused', async () => {
  await client().send(new CreateSecretCommand({ Name: 'app/partner-key', SecretString: 'generated' }));
  await client().send(
    new PutSecretValueCommand({ SecretId: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:app/partner-key', SecretString: 'agreed' }),
  );
  expect(await getSecretString('app/partner-key', client())).toBe('agreed');
  await expect(client().send(new PutSecretValueCommand({ SecretId: 'nope', SecretString: 'x' }))).rejects.toMatchObject({
    name: 'ResourceNotFoundException',
  });
});

test("the local runtime creates the template's generated secret, and a function's Ref to it reads it", async () => {
  const template: CfnTemplate = {
    Resources: {
      IpHashKey1234ABCD: {
        Type: 'AWS::SecretsManager::Secret',
        Properties: { GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false } },
      },
      Fn5678ABCD: {
        Type: 'AWS::Lambda::Function',
        Properties: { Handler: 'index.handler', Environment: { Variables: { IP_HASH_SECRET_ARN: { Ref: 'IpHashKey1234ABCD' } } } },
      },
    },
  };
  const model = buildStackModel(template, { cdkOut: '/nonexistent', stackName: 'SecretsFixture' });
  expect(model.secrets).toHaveLength(1);
  const arn = model.functions[0].environment.IP_HASH_SECRET_ARN;
  expect(arn).toBe(model.secrets[0].arn);
  const unused = { region: 'us-east-1', credentials: LOCAL_CREDENTIALS };
  const clients = {
    dynamodb: new DynamoDBClient(unused),
    kinesis: new KinesisClient(unused),
    sqs: new SQSClient(unused),
    secretsManager: { endpoint: sm.endpoint, region: 'us-east-1' },
  };
  const result = await provision(model, clients);
  expect(result.secretArns).toEqual({ IpHashKey1234ABCD: arn });
  const value = await getSecretString(arn, client());
  expect(value).toMatch(/^[A-Za-z0-9]{64}$/);
  // idempotent: provisioning again keeps the secret (and its value)
  await provision(model, clients);
  expect(await getSecretString(arn, client())).toBe(value);
});
