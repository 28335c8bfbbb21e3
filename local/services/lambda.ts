/**
 * A minimal local AWS Lambda endpoint (REST-JSON) serving `Invoke`, so a tool that calls a function with
 * `@aws-sdk/client-lambda` (the operators' `review reinstate` -> the reinstatement function) works against the local
 * runtime via `endpoint` or `AWS_ENDPOINT_URL_LAMBDA`. The functions themselves are the template's, run by the
 * local runtime's LambdaRunner (or, in tests, any invoker).
 *
 * Operation: Invoke (POST /2015-03-31/functions/{FunctionName}/invocations) with invocation type RequestResponse
 * (payload back; a function error sets `X-Amz-Function-Error: Unhandled`), Event (202, runs in the background) or
 * DryRun (204). Requests must be SigV4-signed (header shape only; IAM is not evaluated).
 */
import { randomUUID } from 'crypto';
import { AwsServiceError, listen, LocalEndpoint, readBody, requireSigV4 } from './aws-http';

/** Runs a function: `ok: false` carries `{errorType, errorMessage}` as the payload. Unknown functions throw. */
export type LocalInvoker = (functionNameOrArn: string, payload: unknown) => Promise<{ ok: boolean; payload: unknown }>;

export interface LocalLambda extends LocalEndpoint {
  setInvoker(invoker: LocalInvoker | undefined): void;
}

const INVOKE = /^\/2015-03-31\/functions\/([^/?]+)\/invocations(?:\?.*)?$/;

export async function startLambda(opts: { port?: number; invoker?: LocalInvoker } = {}): Promise<LocalLambda> {
  let invoker = opts.invoker;
  const ep = await listen((req, res) => {
    void (async () => {
      const requestId = randomUUID();
      const send = (status: number, body: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-amzn-requestid': requestId,
          ...headers,
        });
        res.end(body);
      };
      try {
        const body = await readBody(req, 6 * 1024 * 1024);
        requireSigV4(req.headers);
        const m = INVOKE.exec(req.url ?? '');
        if (req.method !== 'POST' || !m)
          throw new AwsServiceError('UnknownOperationException', `${req.method} ${req.url} is not emulated locally (only Invoke)`, 404);
        const fn = decodeURIComponent(m[1]);
        if (!invoker) throw new AwsServiceError('ServiceException', 'no local functions are running', 500);
        let payload: unknown = {};
        if (body.length) {
          try {
            payload = JSON.parse(body.toString('utf8'));
          } catch {
            throw new AwsServiceError('InvalidRequestContentException', 'could not parse request body into json');
          }
        }
        const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
        const run = invoker;
        const call = () =>
          run(fn, payload).catch((err: Error) => {
            if (/no local function/.test(err.message)) throw new AwsServiceError('ResourceNotFoundException', `Function not found: ${fn}`, 404);
            throw err;
          });
        if (type === 'DryRun') {
          send(204, '');
        } else if (type === 'Event') {
          void call().catch(() => undefined);
          send(202, '');
        } else {
          const r = await call();
          send(200, JSON.stringify(r.payload ?? null), {
            'x-amz-executed-version': '$LATEST',
            ...(r.ok ? {} : { 'x-amz-function-error': 'Unhandled' }),
          });
        }
      } catch (err) {
        const e = err instanceof AwsServiceError ? err : new AwsServiceError('ServiceException', String((err as Error)?.message ?? err), 500);
        send(e.status, JSON.stringify({ Type: e.status >= 500 ? 'Service' : 'User', message: e.message }), { 'x-amzn-errortype': e.code });
      }
    })();
  }, opts.port ?? 0);
  return { ...ep, setInvoker: (i) => (invoker = i) };
}
