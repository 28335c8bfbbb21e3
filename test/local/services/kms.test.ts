/**
 * The local KMS (local/services/kms.ts) through the real SDK client: a round trip, and the encryption context bound
 * to the ciphertext (another context, or a tampered ciphertext, answers InvalidCiphertextException as KMS does).
 */
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { LocalKms, startKms } from '../../../local/services/kms';
import { LOCAL_CREDENTIALS } from '../../../local/services/clients';

let kms: LocalKms;
let client: KMSClient;
const KEY = 'arn:aws:kms:us-east-1:000000000000:key/stack-key';

beforeAll(async () => {
  kms = await startKms();
  client = new KMSClient({ region: 'us-east-1', endpoint: kms.endpoint, credentials: LOCAL_CREDENTIALS });
});
afterAll(async () => {
  client.destroy();
  await kms.stop();
});

async function encrypt(text: string, ctx: Record<string, string>) {
  return (await client.send(new EncryptCommand({ KeyId: KEY, Plaintext: new TextEncoder().encode(text), EncryptionContext: ctx }))).CiphertextBlob!;
}

test('encrypt then decrypt with the same context returns the plaintext and the key', async () => {
  const blob = await encrypt('task-token-1', { caseId: 'case-1', purpose: 'review-task-token' });
  expect(Buffer.from(blob).toString('utf8')).not.toContain('task-token-1');
  const d = await client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { purpose: 'review-task-token', caseId: 'case-1' } }));
  expect(new TextDecoder().decode(d.Plaintext)).toBe('task-token-1');
  expect(d.KeyId).toBe(KEY);
});

test('another encryption context, no context or a tampered ciphertext is refused', async () => {
  const blob = await encrypt('task-token-2', { caseId: 'case-2', purpose: 'review-task-token' });
  await expect(
    client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { caseId: 'case-3', purpose: 'review-task-token' } })),
  ).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
  await expect(client.send(new DecryptCommand({ CiphertextBlob: blob }))).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
  const tampered = Uint8Array.from(blob);
  tampered[tampered.length - 1] ^= 1;
  await expect(
    client.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: { caseId: 'case-2', purpose: 'review-task-token' } })),
  ).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
  expect(kms.calls()).toMatchObject({ Encrypt: 2, Decrypt: 4 }); // both tests
});
