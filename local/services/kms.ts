/**
 * A minimal local AWS KMS endpoint (JSON 1.1, `TrentService`): `Encrypt` and `Decrypt` with a symmetric key per
 * key id, so the review task's token is stored encrypted locally as in AWS (lambdas/escalate/task-token-store.ts).
 * The encryption context is bound to the ciphertext (AES-256-GCM additional data): a ciphertext decrypts only with
 * the context it was made with, and a wrong one answers `InvalidCiphertextException`, as KMS does. Key material is
 * random per process and never leaves it. Not emulated: key policies and grants, other key types, data keys,
 * rotation. Requests must be SigV4-signed (header shape only).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'crypto';
import { AwsServiceError, jsonProtocolHandler, listen, LocalEndpoint, LOCAL_ACCOUNT_ID, requireString } from './aws-http';

export interface LocalKms extends LocalEndpoint {
  /** Operation counts (Encrypt, Decrypt), for tests. */
  calls(): Record<string, number>;
}

const VERSION = 1;

/** Canonical bytes of an encryption context (sorted keys), the GCM additional data. */
function aad(ctx: unknown): Buffer {
  if (ctx !== undefined && (typeof ctx !== 'object' || ctx === null || Array.isArray(ctx))) {
    throw new AwsServiceError('ValidationException', `EncryptionContext must be a map of strings, got ${JSON.stringify(ctx)}`);
  }
  const entries = Object.entries((ctx ?? {}) as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k, v] of entries)
    if (typeof v !== 'string') throw new AwsServiceError('ValidationException', `EncryptionContext ${k} must be a string, got ${JSON.stringify(v)}`);
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

export async function startKms(opts: { port?: number; region?: string } = {}): Promise<LocalKms> {
  const root = randomBytes(32);
  const region = opts.region ?? 'us-east-1';
  const counts: Record<string, number> = {};
  const keyArn = (id: string) => (id.startsWith('arn:') ? id : `arn:aws:kms:${region}:${LOCAL_ACCOUNT_ID}:key/${id}`);
  const material = (arn: string) => createHmac('sha256', root).update(arn).digest();
  const count = (op: string) => (counts[op] = (counts[op] ?? 0) + 1);

  const handler = jsonProtocolHandler({
    targetPrefix: 'TrentService',
    jsonVersion: '1.1',
    operations: {
      Encrypt: (input) => {
        count('Encrypt');
        const arn = keyArn(requireString(input, 'KeyId'));
        const plaintext = Buffer.from(requireString(input, 'Plaintext'), 'base64');
        if (plaintext.length === 0 || plaintext.length > 4096)
          throw new AwsServiceError('ValidationException', `Plaintext must be 1..4096 bytes, got ${plaintext.length}`);
        const iv = randomBytes(12);
        const c = createCipheriv('aes-256-gcm', material(arn), iv);
        c.setAAD(aad(input.EncryptionContext));
        const body = Buffer.concat([c.update(plaintext), c.final()]);
        const id = Buffer.from(arn, 'utf8');
        const blob = Buffer.concat([Buffer.from([VERSION, id.length >> 8, id.length & 0xff]), id, iv, c.getAuthTag(), body]);
        return { CiphertextBlob: blob.toString('base64'), KeyId: arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      },
      Decrypt: (input) => {
        count('Decrypt');
        const blob = Buffer.from(requireString(input, 'CiphertextBlob'), 'base64');
        const bad = () =>
          new AwsServiceError('InvalidCiphertextException', 'the ciphertext is invalid, or was encrypted under another key or encryption context');
        if (blob.length < 3 + 12 + 16 || blob[0] !== VERSION) throw bad();
        const idLen = (blob[1] << 8) | blob[2];
        const arn = blob.subarray(3, 3 + idLen).toString('utf8');
        if (input.KeyId !== undefined && keyArn(String(input.KeyId)) !== arn)
          throw new AwsServiceError('IncorrectKeyException', `the ciphertext was not encrypted under key ${String(input.KeyId)}`);
        const at = 3 + idLen;
        try {
          const d = createDecipheriv('aes-256-gcm', material(arn), blob.subarray(at, at + 12));
          d.setAAD(aad(input.EncryptionContext));
          d.setAuthTag(blob.subarray(at + 12, at + 28));
          const plain = Buffer.concat([d.update(blob.subarray(at + 28)), d.final()]);
          return { Plaintext: plain.toString('base64'), KeyId: arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
        } catch {
          throw bad();
        }
      },
    },
  });
  const ep = await listen(handler, opts.port ?? 0);
  return { ...ep, calls: () => ({ ...counts }) };
}
