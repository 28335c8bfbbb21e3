/**
 * Plumbing shared by the hand-written local AWS endpoints (EventBridge, Step Functions, API Gateway): an HTTP
 * server on 127.0.0.1:<free port>, a SigV4 header check, and the AWS JSON 1.0/1.1 protocol (one POST per call,
 * operation named by `X-Amz-Target: <Prefix>.<Operation>`, errors as `{"__type": "...", "message": "..."}`).
 *
 * Hand-written because no maintained library serves these wire protocols in-process on Node (LocalStack and
 * moto are Python and need Docker/pip; the npm emulators cover Kinesis, DynamoDB and SQS only).
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { randomUUID } from 'crypto';

/** A running local endpoint. Same shape as `RunningEmulator` in ../emulators/dynamodb-local.ts. */
export interface LocalEndpoint {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** An error to return on the wire: `code` becomes `__type` / `x-amzn-ErrorType`, which the SDK maps to `err.name`. */
export class AwsServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

// AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/states/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/** Parsed SigV4 credential scope of a request. */
export interface SigV4Scope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

/**
 * Accept only SigV4-signed requests: the Authorization header must be present and well formed, and `x-amz-date`
 * must be there. The signature itself is NOT verified and IAM policies are NOT evaluated (there is no IAM
 * locally); this only guarantees callers go through a real, signing AWS SDK client rather than a bare HTTP call.
 * Throws an AwsServiceError (403) otherwise.
 */
export function requireSigV4(headers: http.IncomingHttpHeaders): SigV4Scope {
  const auth = headers.authorization;
  if (!auth) {
    throw new AwsServiceError(
      'MissingAuthenticationTokenException',
      'request is not signed: missing authorization header (sign it with sigv4, e.g. use an aws sdk client)',
      403,
    );
  }
  const m = SIGV4.exec(auth.trim());
  if (!m) {
    throw new AwsServiceError(
      'IncompleteSignatureException',
      `authorization header is not a well-formed aws4-hmac-sha256 signature: ${JSON.stringify(auth.slice(0, 80))}`,
      403,
    );
  }
  if (!headers['x-amz-date']) {
    throw new AwsServiceError('IncompleteSignatureException', 'signed request has no x-amz-date header', 403);
  }
  const signed = m[5].split(';');
  if (!signed.includes('host')) {
    throw new AwsServiceError('IncompleteSignatureException', `signed headers must include host, got ${m[5]}`, 403);
  }
  return { accessKeyId: m[1], date: m[2], region: m[3], service: m[4] };
}

export function readBody(req: http.IncomingMessage, limit = 10 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new AwsServiceError('RequestEntityTooLargeException', `request body exceeds ${limit} bytes`, 413));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Start `handler` on 127.0.0.1 at `port` (0 = a free port chosen by the OS). */
export async function listen(handler: http.RequestListener, port = 0): Promise<LocalEndpoint> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${actual}`,
    port: actual,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

export type JsonOperation = (input: Record<string, unknown>, ctx: { scope: SigV4Scope }) => unknown | Promise<unknown>;

export interface JsonProtocolOptions {
  /** e.g. `AWSEvents` or `AWSStepFunctions`. */
  readonly targetPrefix: string;
  /** `1.0` (Step Functions, DynamoDB) or `1.1` (EventBridge, Kinesis). */
  readonly jsonVersion: '1.0' | '1.1';
  readonly operations: Record<string, JsonOperation>;
  /** Called with every unexpected (non-AwsServiceError) failure. @default console.error */
  readonly onInternalError?: (err: unknown, operation: string) => void;
}

/** A request listener speaking the AWS JSON protocol for the given operations. */
export function jsonProtocolHandler(opts: JsonProtocolOptions): http.RequestListener {
  const contentType = `application/x-amz-json-${opts.jsonVersion}`;
  const send = (res: http.ServerResponse, status: number, body: unknown, errorType?: string): void => {
    const text = JSON.stringify(body ?? {});
    const headers: http.OutgoingHttpHeaders = {
      'content-type': contentType,
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    };
    if (errorType) headers['x-amzn-errortype'] = errorType;
    res.writeHead(status, headers);
    res.end(text);
  };
  return (req, res) => {
    void (async () => {
      let op = '?';
      try {
        const body = await readBody(req);
        if (req.method === 'GET' && (req.url === '/' || req.url === '/health')) {
          send(res, 200, { status: 'ok' });
          return;
        }
        const scope = requireSigV4(req.headers);
        const target = String(req.headers['x-amz-target'] ?? '');
        const [prefix, name] = target.split('.');
        if (prefix !== opts.targetPrefix || !name) {
          throw new AwsServiceError(
            'UnknownOperationException',
            `unknown x-amz-target ${JSON.stringify(target)} (expected ${opts.targetPrefix}.<Operation>)`,
          );
        }
        op = name;
        const fn = opts.operations[name];
        if (!fn) throw new AwsServiceError('UnknownOperationException', `operation ${name} is not emulated locally`);
        let input: Record<string, unknown> = {};
        if (body.length) {
          try {
            input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
          } catch {
            throw new AwsServiceError(
              'SerializationException',
              `request body is not valid json: ${JSON.stringify(body.toString('utf8').slice(0, 80))}`,
            );
          }
        }
        const out = await fn(input, { scope });
        send(res, 200, out ?? {});
      } catch (err) {
        if (err instanceof AwsServiceError) {
          send(res, err.status, { __type: err.code, message: err.message }, err.code);
        } else {
          (opts.onInternalError ?? ((e, o) => console.error(`local ${opts.targetPrefix}.${o} failed`, e)))(err, op);
          send(res, 500, { __type: 'InternalFailure', message: String((err as Error)?.message ?? err) }, 'InternalFailure');
        }
      }
    })();
  };
}

/** Field validation helpers producing the ValidationException AWS would return. */
export function requireString(input: Record<string, unknown>, field: string, code = 'ValidationException'): string {
  const v = input[field];
  if (typeof v !== 'string' || v.length === 0) {
    throw new AwsServiceError(code, `${field} must be a non-empty string, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function optionalString(input: Record<string, unknown>, field: string): string | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new AwsServiceError('ValidationException', `${field} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

/** Default account id used in local ARNs. */
export const LOCAL_ACCOUNT_ID = '000000000000';
