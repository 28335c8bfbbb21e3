/**
 * Secrets Manager through the AWS SDK v3 client. Like every client here it takes credentials from the environment
 * (Lambda sets them) and the endpoint from `AWS_ENDPOINT_URL_SECRETS_MANAGER` (the local runtime's emulator), else
 * the regional endpoint; `options` overrides both (tests, the local runtime's provisioning).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';

let shared: SecretsManagerClient | undefined;

/** A client with the given options, or the environment's shared one. */
export function secretsManagerClient(options?: SecretsManagerClientConfig): SecretsManagerClient {
  if (options) return new SecretsManagerClient(options);
  shared ??= new SecretsManagerClient({});
  return shared;
}

/** The secret's string value; rejects when the secret is missing or holds binary data only. */
export async function getSecretString(secretId: string, client: SecretsManagerClient = secretsManagerClient()): Promise<string> {
  const r = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (typeof r.SecretString !== 'string') throw new Error(`secret ${secretId} has no string value`);
  return r.SecretString;
}
