/**
 * The wire API: API Gateway's REST-JSON protocol for `/apikeys[/{id}]` and `/usageplans[/{id}[/keys[/{keyId}]]]`
 * (method + path name the operation; errors as `x-amzn-ErrorType` and `{"message": ...}`).
 */
import * as http from 'http';
import { randomUUID } from 'crypto';
import { AwsServiceError, readBody, requireSigV4 } from '../aws-http';
import { ApiKeyStore, renderKey } from './api-keys';
import { planKeyView, renderPlan, UsagePlanStore } from './usage-plans';

/** A response: status and JSON body (none for 202). */
type Reply = { status: number; body?: unknown };

interface Request {
  readonly method: string;
  readonly path: string;
  readonly q: URLSearchParams;
  readonly body: Record<string, unknown>;
}

function send(res: http.ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  const headers: http.OutgoingHttpHeaders = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  };
  if (errorType) headers['x-amzn-errortype'] = errorType;
  res.writeHead(status, headers);
  res.end(text);
}

/** A `limit` / `position` page of `all`, as the Get* list operations answer. */
function page<T>(q: URLSearchParams, all: T[], render: (x: T) => unknown): Reply {
  const limit = Math.min(Math.max(Number(q.get('limit') ?? '25') || 25, 1), 500);
  const position = Number(q.get('position') ?? '0') || 0;
  const items = all.slice(position, position + limit);
  return { status: 200, body: { item: items.map(render), ...(position + limit < all.length ? { position: String(position + limit) } : {}) } };
}

function usagePlanKeysRoute(
  keys: ApiKeyStore,
  plans: UsagePlanStore,
  { method, q, body }: Request,
  planId: string,
  keyId?: string,
): Reply | undefined {
  const p = plans.get(planId);
  if (keyId) {
    plans.requireKey(p, keyId);
    if (method === 'GET') return { status: 200, body: planKeyView(keys.get(keyId)) };
    if (method === 'DELETE') return (p.keys.delete(keyId), { status: 202 });
    return undefined;
  }
  if (method === 'POST') {
    if (body.keyType !== 'API_KEY') throw new AwsServiceError('BadRequestException', `keyType must be API_KEY, got ${JSON.stringify(body.keyType)}`);
    const k = keys.get(String(body.keyId ?? ''));
    plans.addKey(p, k);
    return { status: 201, body: planKeyView(k) };
  }
  if (method === 'GET') {
    const nameQuery = q.get('nameQuery');
    const all = [...p.keys]
      .map((id) => keys.find(id))
      .filter((k): k is NonNullable<typeof k> => !!k && (!nameQuery || k.name.startsWith(nameQuery)))
      .sort((a, b) => a.id.localeCompare(b.id));
    return page(q, all, planKeyView);
  }
  return undefined;
}

/** `/usageplans[/{id}[/keys[/{keyId}]]]`; undefined when the path is not a usage-plan path. */
function usagePlanRoute(keys: ApiKeyStore, plans: UsagePlanStore, req: Request): Reply | undefined {
  const m = /^\/usageplans(?:\/([^/]+)(?:\/keys(?:\/([^/]+))?)?)?\/?$/.exec(req.path);
  if (!m) return undefined;
  const planId = m[1] ? decodeURIComponent(m[1]) : undefined;
  const keyId = m[2] ? decodeURIComponent(m[2]) : undefined;
  const { method, q, body } = req;
  let reply: Reply | undefined;
  if (!planId) {
    if (method === 'POST') reply = { status: 201, body: renderPlan(plans.create(body)) };
    else if (method === 'GET') {
      const keyFilter = q.get('keyId');
      reply = {
        status: 200,
        body: {
          item: plans
            .all()
            .filter((p) => !keyFilter || p.keys.has(keyFilter))
            .map(renderPlan),
        },
      };
    }
  } else if (!req.path.includes('/keys')) {
    if (method === 'GET') reply = { status: 200, body: renderPlan(plans.get(planId)) };
    else if (method === 'DELETE') reply = (plans.delete(planId), { status: 202 });
  } else reply = usagePlanKeysRoute(keys, plans, req, planId, keyId);
  if (reply) return reply;
  throw new AwsServiceError('NotFoundException', `${method} ${req.path} is not emulated locally`, 404);
}

/** `/apikeys[/{id}]` */
function apiKeyRoute(keys: ApiKeyStore, plans: UsagePlanStore, { method, path, q, body }: Request): Reply {
  const m = /^\/apikeys(?:\/([^/]+))?\/?$/.exec(path);
  if (!m) throw new AwsServiceError('NotFoundException', `${method} ${path} is not emulated locally (api keys and usage plans only)`, 404);
  const id = m[1] ? decodeURIComponent(m[1]) : undefined;
  if (!id && method === 'POST') return { status: 201, body: renderKey(keys.create(body), true) };
  if (!id && method === 'GET') {
    const name = q.get('name');
    const customerId = q.get('customerId');
    const includeValues = q.get('includeValues') === 'true';
    const all = keys
      .all()
      .filter((k) => (!name || k.name.startsWith(name)) && (!customerId || k.customerId === customerId))
      .sort((a, b) => a.createdDate - b.createdDate || a.id.localeCompare(b.id));
    return page(q, all, (k) => renderKey(k, includeValues));
  }
  if (id && method === 'GET') return { status: 200, body: renderKey(keys.get(id), q.get('includeValue') === 'true') };
  if (id && method === 'PATCH') {
    const k = keys.get(id);
    keys.update(k, body.patchOperations);
    return { status: 200, body: renderKey(k, false) };
  }
  if (id && method === 'DELETE') {
    keys.get(id);
    keys.delete(id);
    plans.forgetKey(id);
    return { status: 202 };
  }
  throw new AwsServiceError('NotFoundException', `${method} ${path} is not emulated locally`, 404);
}

/** The request listener of the local API Gateway endpoint. */
export function apiGatewayHandler(keys: ApiKeyStore, plans: UsagePlanStore): http.RequestListener {
  return (req, res) => {
    void (async () => {
      try {
        const raw = await readBody(req);
        requireSigV4(req.headers);
        const url = new URL(req.url ?? '/', 'http://local');
        const body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
        const request: Request = { method: req.method ?? 'GET', path: url.pathname, q: url.searchParams, body };
        const reply = usagePlanRoute(keys, plans, request) ?? apiKeyRoute(keys, plans, request);
        send(res, reply.status, reply.body);
      } catch (err) {
        if (err instanceof AwsServiceError) send(res, err.status, { message: err.message }, err.code);
        else if (err instanceof SyntaxError) send(res, 400, { message: `request body is not valid json: ${err.message}` }, 'BadRequestException');
        else send(res, 500, { message: String((err as Error)?.message ?? err) }, 'InternalFailure');
      }
    })();
  };
}
