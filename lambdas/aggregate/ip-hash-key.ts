/**
 * The aggregators' IP hash key (src/ingest/ip.ts), read once per execution environment from the secret the
 * construct names in IP_HASH_SECRET_ARN (lib/aggregate/ip-hash-key.ts). Until it is read, nothing is hashed: a
 * failed read fails the invocation (the batch is retried), never falls back to the public default key.
 *
 * Without IP_HASH_SECRET_ARN (demo deployments with `publicIpHashKey`, tests, replay) the key is IP_HASH_KEY or the
 * public default, as src/ingest/ip.ts decides.
 */
import { setIpHashKey } from '../../src/ingest/ip';
import { getSecretString } from '../shared/secrets-manager';

/** A secret shorter than this is a misconfiguration, not a key. */
export const MIN_IP_HASH_KEY_LENGTH = 32;

let loaded: Promise<void> | undefined;

/** Load the key (first call per environment; later calls reuse it). Rejects, and retries next call, on failure. */
export function ensureIpHashKey(env: NodeJS.ProcessEnv = process.env, read: (secretId: string) => Promise<string> = getSecretString): Promise<void> {
  const secretId = env.IP_HASH_SECRET_ARN;
  if (!secretId) return Promise.resolve();
  loaded ??= read(secretId)
    .then((value) => {
      const key = value.trim();
      if (key.length < MIN_IP_HASH_KEY_LENGTH)
        throw new Error(`ip hash key secret ${secretId} must hold at least ${MIN_IP_HASH_KEY_LENGTH} characters, got ${key.length}`);
      setIpHashKey(key);
    })
    .catch((err: unknown) => {
      loaded = undefined;
      throw err;
    });
  return loaded;
}

/** Forget the loaded key (tests). */
export function resetIpHashKeyForTests(): void {
  loaded = undefined;
}
