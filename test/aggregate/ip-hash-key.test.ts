/**
 * The aggregators' per-deployment IP hash key: read from Secrets Manager (the local endpoint, through the same
 * SDK client the Lambda uses) once per execution environment, and never replaced by the public default key when
 * the read fails.
 */
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { ensureIpHashKey, resetIpHashKeyForTests } from '../../lambdas/aggregate/ip-hash-key';
import { getSecretString, secretsManagerClient } from '../../lambdas/shared/secrets-manager';
import { ipInfo } from '../../src/ingest/ip';
import { LOCAL_CREDENTIALS } from '../../local/services/clients';
import { LocalSecretsManager, startSecretsManager } from '../../local/services/secretsmanager';

let sm: LocalSecretsManager;
const client = () => secretsManagerClient({ endpoint: sm.endpoint, region: 'us-east-1', credentials: { ...LOCAL_CREDENTIALS }, maxAttempts: 1 });
const create = async (Name: string, SecretString: string) =>
  (await client().send(new CreateSecretCommand({ Name, SecretString }))) as { ARN: string };

beforeAll(async () => {
  sm = await startSecretsManager();
});
afterAll(async () => {
  await sm?.stop();
});
beforeEach(() => resetIpHashKeyForTests());

test('stored IP hashes are keyed by the deployment secret: the public default key gives a different, guessable hash', async () => {
  const publicHash = ipInfo('203.0.113.7').ipHash;
  const r = await create('ip-hash-key-a', 'k'.repeat(40) + 'secret-a');
  const reads: string[] = [];
  const read = (id: string) => {
    reads.push(id);
    return getSecretString(id, client());
  };
  await ensureIpHashKey({ IP_HASH_SECRET_ARN: r.ARN }, read);
  const keyed = ipInfo('203.0.113.8').ipHash;
  expect(keyed).toMatch(/^[0-9a-f]{16}$/);
  expect(ipInfo('203.0.113.7').ipHash).not.toBe(publicHash);
  // cached: the next invocations of the environment do not read the secret again
  await ensureIpHashKey({ IP_HASH_SECRET_ARN: r.ARN }, read);
  expect(reads).toEqual([r.ARN]);
});

test('a failed secret read fails the invocation (retried next time) and never hashes with the public default key', async () => {
  await create('ip-hash-key-b', 'b'.repeat(48));
  const before = ipInfo('198.51.100.9').ipHash;
  await expect(
    ensureIpHashKey({ IP_HASH_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:missing' }, (id) => getSecretString(id, client())),
  ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  expect(ipInfo('198.51.100.9').ipHash).toBe(before); // the key in use did not change to anything else
  await expect(ensureIpHashKey({ IP_HASH_SECRET_ARN: 'x' }, async () => 'short')).rejects.toThrow(/at least 32 characters, got 5/);
  // the next call reads again (no cached failure)
  await ensureIpHashKey({ IP_HASH_SECRET_ARN: 'ip-hash-key-b' }, (id) => getSecretString(id, client()));
  expect(ipInfo('198.51.100.10').ipHash).not.toBe(before);
});

test('without IP_HASH_SECRET_ARN nothing is read (demo deployments, tests and replay use IP_HASH_KEY or the default)', async () => {
  const read = jest.fn(async () => 'x'.repeat(40));
  await ensureIpHashKey({}, read);
  expect(read).not.toHaveBeenCalled();
});
