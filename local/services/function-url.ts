/**
 * A local Lambda function URL with `AuthType: AWS_IAM`: one HTTP server per URL that VERIFIES the SigV4 signature
 * (service `lambda`) against the credentials of a known local principal, then invokes the function with a payload
 * format 2.0 event whose `requestContext.authorizer.iam` names that principal, as AWS does. An unsigned request, an
 * unknown access key or a bad signature gets 403 and the function never runs, so the review API can be tested
 * locally with the identity coming from the signature only.
 *
 * Local principals: the shared local credentials are `user/local-operator`; `localPrincipal(name)` derives a
 * principal's keys from its name (deterministic, so the CLI in another process signs as the same principal). Not
 * emulated: IAM policies (who may invoke), session tokens, CORS, response streaming.
 */
import * as http from 'http';
import { createHash, randomUUID } from 'crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../lambdas/escalate/review-api-client';
import { listen, LocalEndpoint, LOCAL_ACCOUNT_ID, readBody } from './aws-http';
import { LOCAL_CREDENTIALS } from './clients';

export interface LocalPrincipal {
  arn: string;
  accessKeyId: string;
  secretAccessKey: string;
}

const PREFIX = 'LOCALP';

/** The local principal `arn:aws:iam::000000000000:user/<name>` with keys derived from its name. */
export function localPrincipal(name: string): LocalPrincipal {
  if (!/^[A-Za-z0-9+=,.@_-]{1,64}$/.test(name))
    throw new Error(`a local principal name must be 1..64 of [A-Za-z0-9+=,.@_-], got ${JSON.stringify(name)}`);
  return {
    arn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/${name}`,
    accessKeyId: `${PREFIX}${Buffer.from(name, 'utf8').toString('hex').toUpperCase()}`,
    secretAccessKey: createHash('sha256').update(`distill-guard-local-principal:${name}`).digest('hex'),
  };
}

/** The principal owning an access key id, if it is a local one. */
export function resolveLocalPrincipal(accessKeyId: string): LocalPrincipal | undefined {
  if (accessKeyId === LOCAL_CREDENTIALS.accessKeyId) return { arn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/local-operator`, ...LOCAL_CREDENTIALS };
  if (!accessKeyId.startsWith(PREFIX) || !/^[0-9A-F]+$/.test(accessKeyId.slice(PREFIX.length))) return undefined;
  try {
    return localPrincipal(Buffer.from(accessKeyId.slice(PREFIX.length), 'hex').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Runs the function with the URL event; resolves to its result. */
export type UrlInvoker = (event: Record<string, unknown>) => Promise<unknown>;

export interface LocalFunctionUrl extends LocalEndpoint {
  /** The URL, with a trailing slash, as the FunctionUrl attribute reads. */
  readonly url: string;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/lambda\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/** Verify the request's SigV4 signature; returns the signing principal or a 403 message. */
export async function verifySigV4(req: {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  region: string;
}): Promise<LocalPrincipal | string> {
  const m = AUTH.exec(String(req.headers.authorization ?? '').trim());
  if (!m)
    return `missing or malformed sigv4 authorization for service lambda, got ${JSON.stringify(String(req.headers.authorization ?? '').slice(0, 60))}`;
  const [, accessKeyId, , region, signedList, signature] = m;
  const principal = resolveLocalPrincipal(accessKeyId);
  if (!principal) return `the security token included in the request is invalid (unknown access key ${accessKeyId})`;
  if (region !== req.region) return `credential should be scoped to a valid region, got ${region}`;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!when) return `x-amz-date must be yyyymmddThhmmssZ, got ${JSON.stringify(amzDate)}`;
  const signingDate = new Date(Date.UTC(+when[1], +when[2] - 1, +when[3], +when[4], +when[5], +when[6]));
  if (Math.abs(Date.now() - signingDate.getTime()) > 15 * 60_000) return `signature expired: x-amz-date ${amzDate} is more than 15 minutes from now`;
  const signed = signedList.split(';');
  const headers: Record<string, string> = {};
  for (const h of signed) {
    const v = req.headers[h];
    if (v === undefined) return `signed header ${h} is missing from the request`;
    headers[h] = Array.isArray(v) ? v.join(',') : v;
  }
  const signer = new SignatureV4({ service: 'lambda', region, credentials: principal, sha256: NodeSha256 });
  const again = await signer.sign(
    { method: req.method, protocol: 'http:', hostname: '127.0.0.1', path: req.path, query: req.query, headers, body: req.body },
    { signingDate, signableHeaders: new Set(signed) },
  );
  const expected = AUTH.exec(String(again.headers.authorization ?? again.headers.Authorization ?? ''))?.[5];
  if (expected !== signature) return 'the request signature we calculated does not match the signature you provided';
  return principal;
}

export async function startFunctionUrl(opts: { invoke: UrlInvoker; region?: string; port?: number }): Promise<LocalFunctionUrl> {
  const region = opts.region ?? 'us-east-1';
  const ep = await listen((req, res) => {
    void (async () => {
      const send = (status: number, body: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-amzn-requestid': randomUUID(),
          ...headers,
        });
        res.end(body);
      };
      try {
        const body = await readBody(req, 6 * 1024 * 1024);
        const u = new URL(req.url ?? '/', 'http://127.0.0.1');
        const query = Object.fromEntries(u.searchParams);
        const who = await verifySigV4({ method: req.method ?? 'GET', path: u.pathname, query, headers: req.headers, body, region });
        if (typeof who === 'string') return send(403, JSON.stringify({ Message: who }), { 'x-amzn-errortype': 'AccessDeniedException' });
        const now = Date.now();
        const event = {
          version: '2.0',
          routeKey: '$default',
          rawPath: u.pathname,
          rawQueryString: u.search.replace(/^\?/, ''),
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)])),
          queryStringParameters: Object.keys(query).length ? query : undefined,
          requestContext: {
            accountId: 'anonymous',
            apiId: 'local',
            authorizer: {
              iam: { accessKey: who.accessKeyId, accountId: LOCAL_ACCOUNT_ID, callerId: who.accessKeyId, userArn: who.arn, userId: who.accessKeyId },
            },
            domainName: req.headers.host ?? '127.0.0.1',
            http: {
              method: req.method,
              path: u.pathname,
              protocol: 'HTTP/1.1',
              sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
              userAgent: String(req.headers['user-agent'] ?? ''),
            },
            requestId: randomUUID(),
            routeKey: '$default',
            stage: '$default',
            time: new Date(now).toISOString(),
            timeEpoch: now,
          },
          body: body.toString('utf8'),
          isBase64Encoded: false,
        };
        const out = (await opts.invoke(event)) as { statusCode?: number; headers?: Record<string, string>; body?: string } | undefined;
        if (out && typeof out === 'object' && typeof out.statusCode === 'number') return send(out.statusCode, out.body ?? '', out.headers ?? {});
        return send(200, JSON.stringify(out ?? null));
      } catch (err) {
        send(502, JSON.stringify({ Message: `function error: ${(err as Error)?.message ?? String(err)}` }));
      }
    })();
  }, opts.port ?? 0);
  return { ...ep, url: `${ep.endpoint}/` };
}
