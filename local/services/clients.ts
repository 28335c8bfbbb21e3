/**
 * Client configuration for talking to the local emulators with the real AWS SDK v3 clients.
 *
 * Handlers never need this: they construct clients with no endpoint and the SDK picks up
 * `AWS_ENDPOINT_URL_<SERVICE>` from the environment (see local/emulators/index.ts `env()`). This helper is for the
 * local services themselves (EventBridge delivering to SQS, Step Functions integrations) and for tests.
 */
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Service keys used across local/: the suffix of `AWS_ENDPOINT_URL_<SERVICE>` in lower case. */
export type LocalService = 'kinesis' | 'dynamodb' | 'sqs' | 'sfn' | 'eventbridge' | 'api_gateway' | 'secrets_manager' | 'lambda';

/** Dummy static credentials: the emulators accept any SigV4 signature. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'AKIALOCALDISTILLGUARD', secretAccessKey: 'local-secret-not-checked' } as const;

/** The endpoint for a service: the explicit one, else `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`. */
export function localEndpoint(service: LocalService, explicit?: string): string | undefined {
  return explicit ?? process.env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] ?? process.env.AWS_ENDPOINT_URL;
}

export interface LocalClientConfig {
  region: string;
  endpoint?: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  requestHandler?: NodeHttpHandler;
  maxAttempts?: number;
}

/**
 * Config for an SDK v3 client pointed at a local emulator. For Kinesis it sets a `NodeHttpHandler` (HTTP/1.1):
 * the Kinesis client otherwise negotiates HTTP/2 for some operations, which kinesalite does not speak.
 */
export function localClientConfig(service: LocalService, endpoint?: string, region?: string): LocalClientConfig {
  const cfg: LocalClientConfig = {
    region: region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    credentials: { ...LOCAL_CREDENTIALS },
    maxAttempts: 3,
  };
  const ep = localEndpoint(service, endpoint);
  if (ep) cfg.endpoint = ep;
  if (service === 'kinesis') cfg.requestHandler = new NodeHttpHandler();
  return cfg;
}
