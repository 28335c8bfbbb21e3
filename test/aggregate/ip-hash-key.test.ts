/**
 * The aggregators' per-deployment IP hash key: read from Secrets Manager (the local endpoint, through the same
 * hand-signed call the Lambda makes) once per execution environment, and never replaced by the public default key
 * when the read fails. The hand-written SigV4 signer is checked against the SDK's own (@smithy/signature-v4).
 */
import { createHash, createHmac } from 'crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { ensureIpHashKey, resetIpHashKeyForTests } from '../../lambdas/aggregate/ip-hash-key';
import { getSecretString, secretsManagerCall, signV4 } from '../../lambdas/shared/secrets-manager';
import { ipInfo } from '../../src/ingest/ip';
import { LOCAL_CREDENTIALS } from '../../local/services/clients';
import { LocalSecretsManager, startSecretsManager } from '../../local/services/secretsmanager';

let sm: LocalSecretsManager;
const opts = () => ({ endpoint: sm.endpoint, region: 'us-east-1', credentials: { ...LOCAL_CREDENTIALS } });

beforeAll(async () => {
  sm = await startSecretsManager();
});
afterAll(async () => {
  await sm?.stop();
});
beforeEach(() => resetIpHashKeyForTests());

test('stored IP hashes are keyed by the deployment secret: the public default key gives a different, guessable hash', async () => {
  const publicHash = ipInfo('203.0.113.7').ipHash;
  const r = await secretsManagerCall<{ ARN: string }>('CreateSecret', { Name: 'ip-hash-key-a', SecretString: 'k'.repeat(40) + 'secret-a' }, opts());
  const reads: string[] = [];
  const read = (id: string) => {
    reads.push(id);
    return getSecretString(id, opts());
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
  await secretsManagerCall('CreateSecret', { Name: 'ip-hash-key-b', SecretString: 'b'.repeat(48) }, opts());
  const before = ipInfo('198.51.100.9').ipHash;
  await expect(ensureIpHashKey({ IP_HASH_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:missing' }, (id) => getSecretString(id, opts()))).rejects.toThrow(
    /ResourceNotFoundException/,
  );
  expect(ipInfo('198.51.100.9').ipHash).toBe(before); // the key in use did not change to anything else
  await expect(ensureIpHashKey({ IP_HASH_SECRET_ARN: 'x' }, async () => 'short')).rejects.toThrow(/at least 32 characters, got 5/);
  // the next call reads again (no cached failure)
  await ensureIpHashKey({ IP_HASH_SECRET_ARN: 'ip-hash-key-b' }, (id) => getSecretString(id, opts()));
  expect(ipInfo('198.51.100.10').ipHash).not.toBe(before);
});

test('without IP_HASH_SECRET_ARN nothing is read (demo deployments, tests and replay use IP_HASH_KEY or the default)', async () => {
  const read = jest.fn(async () => 'x'.repeat(40));
  await ensureIpHashKey({}, read);
  expect(read).not.toHaveBeenCalled();
});

test('the hand-written SigV4 signature equals the SDK signer for the same request', async () => {
  class NodeSha256 {
    private readonly h;
    constructor(secret?: unknown) {
      this.h = secret ? createHmac('sha256', typeof secret === 'string' ? secret : Buffer.from(secret as Uint8Array)) : createHash('sha256');
    }
    update(data: unknown) {
      this.h.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data as Uint8Array));
    }
    async digest() {
      return new Uint8Array(this.h.digest());
    }
  }
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token' };
  const now = Date.UTC(2026, 0, 2, 3, 4, 5);
  const body = JSON.stringify({ SecretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ip-hash-key-AbCdEf' });
  const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' };
  const mine = signV4({ method: 'POST', url: 'https://secretsmanager.eu-west-1.amazonaws.com', headers, body }, { service: 'secretsmanager', region: 'eu-west-1', credentials, now });
  const sdk = new SignatureV4({ service: 'secretsmanager', region: 'eu-west-1', credentials, sha256: NodeSha256, applyChecksum: false });
  const signed = await sdk.sign(
    { method: 'POST', protocol: 'https:', hostname: 'secretsmanager.eu-west-1.amazonaws.com', path: '/', query: {}, headers: { ...headers, host: 'secretsmanager.eu-west-1.amazonaws.com' }, body } as never,
    { signingDate: new Date(now) },
  );
  expect(mine.authorization).toBe((signed as unknown as { headers: Record<string, string> }).headers.authorization);
});
