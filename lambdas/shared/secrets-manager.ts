/**
 * `GetSecretValue` (and, for the local runtime's provisioning, `CreateSecret`) on AWS Secrets Manager: one signed
 * AWS JSON 1.1 POST over `fetch`.
 *
 * Hand-written because `@aws-sdk/client-secrets-manager` is not a dependency of this project: the Lambda runtime has
 * it, but the local runtime and the type check do not. The call is tiny, so it signs with SigV4 itself (node:crypto;
 * checked against @smithy/signature-v4 in test/aggregate/ip-hash-key.test.ts). Swap in the SDK client once it is a
 * dependency. Like the SDK it takes credentials from the environment (Lambda sets them) and the endpoint from
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER` (the local runtime's emulator), else the regional endpoint.
 */
import { createHash, createHmac } from 'node:crypto';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SecretsManagerOptions {
  /** @default AWS_REGION */
  region?: string;
  /** @default AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL, else https://secretsmanager.<region>.amazonaws.com */
  endpoint?: string;
  /** @default AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN */
  credentials?: Credentials;
  /** Attempts on throttling, 5xx and network errors. @default 3 */
  maxAttempts?: number;
  /** @default Date.now */
  now?: () => number;
}

/** An error Secrets Manager returned (`name` is its `__type`, e.g. ResourceNotFoundException). */
export class SecretsManagerError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = code;
  }
}

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * SigV4 headers for a request (AWS General Reference, "Signature Version 4 signing process"): every header given is
 * signed, plus host and x-amz-date (and the session token when there is one).
 */
export function signV4(
  req: { method: string; url: string; headers: Record<string, string>; body: string },
  scope: { service: string; region: string; credentials: Credentials; now: number },
): Record<string, string> {
  const url = new URL(req.url);
  const amzDate = new Date(scope.now).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = { ...req.headers, host: url.host, 'x-amz-date': amzDate };
  if (scope.credentials.sessionToken) headers['x-amz-security-token'] = scope.credentials.sessionToken;
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v).trim().replace(/\s+/g, ' ')]));
  const canonical = [req.method, url.pathname || '/', url.search.slice(1), ...names.map((n) => `${n}:${lower[n]}`), '', names.join(';'), sha256(req.body)].join('\n');
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${scope.credentials.secretAccessKey}`, day), scope.region), scope.service), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${scope.credentials.accessKeyId}/${credentialScope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}

function resolve(opts: SecretsManagerOptions): { region: string; endpoint: string; credentials: Credentials } {
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new Error('secrets manager: no region (set AWS_REGION), got none');
  const endpoint =
    opts.endpoint ?? process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? process.env.AWS_ENDPOINT_URL ?? `https://secretsmanager.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
  const credentials = opts.credentials ?? {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
    sessionToken: process.env.AWS_SESSION_TOKEN || undefined,
  };
  if (!credentials.accessKeyId || !credentials.secretAccessKey) throw new Error('secrets manager: no credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
  return { region, endpoint, credentials };
}

const retryable = (status: number, code: string) => status >= 500 || /Throttl|TooManyRequests|RequestLimitExceeded/.test(code);

/** One Secrets Manager operation (`secretsmanager.<operation>`), retried on throttling, 5xx and network errors. */
export async function secretsManagerCall<T>(operation: string, input: Record<string, unknown>, opts: SecretsManagerOptions = {}): Promise<T> {
  const { region, endpoint, credentials } = resolve(opts);
  const body = JSON.stringify(input);
  const attempts = Math.max(1, opts.maxAttempts ?? 3);
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const headers = signV4(
      { method: 'POST', url: endpoint, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `secretsmanager.${operation}` }, body },
      { service: 'secretsmanager', region, credentials, now: (opts.now ?? Date.now)() },
    );
    try {
      const res = await fetch(endpoint, { method: 'POST', headers, body });
      const text = await res.text();
      if (res.ok) return (text ? JSON.parse(text) : {}) as T;
      let parsed: { __type?: string; message?: string; Message?: string } = {};
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not json */
      }
      const code = (parsed.__type ?? res.headers.get('x-amzn-errortype') ?? `Http${res.status}`).split('#').pop()!.split(':')[0];
      const err = new SecretsManagerError(code, `secretsmanager ${operation} failed: ${res.status} ${code}: ${parsed.message ?? parsed.Message ?? text.slice(0, 200)}`, res.status);
      if (!retryable(res.status, code)) throw err;
      last = err;
    } catch (err) {
      if (err instanceof SecretsManagerError && !retryable(err.status, err.code)) throw err;
      last = err;
    }
    if (attempt < attempts) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt * Math.random()));
  }
  throw last;
}

/** The `SecretString` of a secret (by ARN or name). */
export async function getSecretString(secretId: string, opts: SecretsManagerOptions = {}): Promise<string> {
  const r = await secretsManagerCall<{ SecretString?: string }>('GetSecretValue', { SecretId: secretId }, opts);
  if (typeof r.SecretString !== 'string') throw new Error(`secret ${secretId} has no SecretString (binary secrets are not supported), got ${JSON.stringify(Object.keys(r))}`);
  return r.SecretString;
}
