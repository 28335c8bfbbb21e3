/**
 * A minimal local Amazon API Gateway (REST API v1 control plane, REST-JSON protocol) covering API keys and usage
 * plans, so a suspension step that disables an account's keys, and a restriction that moves them to a throttled
 * usage plan, work locally with `@aws-sdk/client-api-gateway` via `endpoint` or `AWS_ENDPOINT_URL_API_GATEWAY`.
 *
 * Operations: CreateApiKey (POST /apikeys), GetApiKeys (GET /apikeys: name prefix, customerId, includeValues,
 * limit/position paging), GetApiKey (GET /apikeys/{id}?includeValue=), UpdateApiKey (PATCH /apikeys/{id},
 * patchOperations `replace` on /enabled, /name, /description, /customerId), DeleteApiKey (DELETE /apikeys/{id});
 * CreateUsagePlan (POST /usageplans: name, throttle, quota), GetUsagePlans, GetUsagePlan, CreateUsagePlanKey
 * (POST /usageplans/{id}/keys), GetUsagePlanKeys (GET, nameQuery and paging), GetUsagePlanKey, DeleteUsagePlanKey.
 * As in AWS a key belongs to at most one plan (the local plans all stand for one stage): a second plan answers
 * ConflictException. A tag `local:id` on CreateUsagePlan sets the plan's id, so the local runtime can give a plan
 * the physical id the template resolves to. Hand-written: no npm emulator covers API Gateway's control plane.
 *
 * Not emulated: the request path (stages, methods, authorizers, throttling): the local runtime calls the authorizer
 * and handlers itself; `planOfKey` tells it which plan (and so which throttle) a key is on. Requests must be
 * SigV4-signed (header shape only; IAM is not evaluated).
 */
import { randomBytes } from 'crypto';
import * as http from 'http';
import { randomUUID } from 'crypto';
import { AwsServiceError, listen, LocalEndpoint, readBody, requireSigV4 } from './aws-http';

export interface ApiKeyRecord {
  id: string;
  value: string;
  name: string;
  customerId?: string;
  description?: string;
  enabled: boolean;
  createdDate: number;
  lastUpdatedDate: number;
  stageKeys: string[];
  tags: Record<string, string>;
}

export interface UsagePlanRecord {
  id: string;
  name: string;
  description?: string;
  throttle?: { rateLimit?: number; burstLimit?: number };
  quota?: Record<string, unknown>;
  apiStages: unknown[];
  tags: Record<string, string>;
  /** Key ids on the plan. */
  keys: Set<string>;
}

export interface LocalApiGatewayOptions {
  /** @default a free port */
  readonly port?: number;
}

export interface LocalApiGateway extends LocalEndpoint {
  /** All keys (in-process view for tests and the local runtime's demo authorizer). */
  apiKeys(): ApiKeyRecord[];
  /** Create a key in-process (e.g. seeding demo accounts). */
  createApiKey(input: {
    name: string;
    customerId?: string;
    enabled?: boolean;
    value?: string;
    description?: string;
    tags?: Record<string, string>;
  }): ApiKeyRecord;
  /** Find a key by its value (the demo authorizer path: x-api-key -> account). */
  findByValue(value: string): ApiKeyRecord | undefined;
  /** All usage plans with their key ids (in-process view). */
  usagePlans(): Array<Omit<UsagePlanRecord, 'keys'> & { keys: string[] }>;
  /** The plan a key is on (the throttle the request path would apply), if any. */
  planOfKey(keyId: string): (Omit<UsagePlanRecord, 'keys'> & { keys: string[] }) | undefined;
}

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

function newId(): string {
  const b = randomBytes(10);
  return Array.from(b, (x) => ID_CHARS[x % ID_CHARS.length]).join('');
}

/** Start the local API Gateway endpoint. */
export async function startApiGateway(opts: LocalApiGatewayOptions = {}): Promise<LocalApiGateway> {
  const keys = new Map<string, ApiKeyRecord>();

  const plans = new Map<string, UsagePlanRecord>();
  const renderPlan = (p: UsagePlanRecord) => {
    const { keys: _keys, tags, ...rest } = p;
    void _keys;
    return { ...rest, ...(Object.keys(tags).length ? { tags } : {}) };
  };
  const getPlan = (id: string): UsagePlanRecord => {
    const p = plans.get(id);
    if (!p) throw new AwsServiceError('NotFoundException', `Invalid Usage Plan ID specified, got ${JSON.stringify(id)}`, 404);
    return p;
  };
  const createPlan = (input: Record<string, unknown>): UsagePlanRecord => {
    if (typeof input.name !== 'string' || !input.name)
      throw new AwsServiceError('BadRequestException', `name must be a non-empty string, got ${JSON.stringify(input.name)}`);
    const tags = (input.tags as Record<string, string> | undefined) ?? {};
    const id = tags['local:id'] ?? newId();
    if (plans.has(id)) throw new AwsServiceError('ConflictException', `usage plan ${id} already exists`, 409);
    const p: UsagePlanRecord = {
      id,
      name: input.name,
      ...(typeof input.description === 'string' ? { description: input.description } : {}),
      ...(input.throttle && typeof input.throttle === 'object' ? { throttle: input.throttle as UsagePlanRecord['throttle'] } : {}),
      ...(input.quota && typeof input.quota === 'object' ? { quota: input.quota as Record<string, unknown> } : {}),
      apiStages: Array.isArray(input.apiStages) ? input.apiStages : [],
      tags,
      keys: new Set(),
    };
    plans.set(id, p);
    return p;
  };
  const planKeyView = (k: ApiKeyRecord) => ({ id: k.id, type: 'API_KEY', name: k.name, value: k.value });

  /** `/usageplans[/{id}[/keys[/{keyId}]]]` */
  const usagePlanRoute = (res: http.ServerResponse, method: string, path: string, q: URLSearchParams, body: Record<string, unknown>): boolean => {
    const m = /^\/usageplans(?:\/([^/]+)(?:\/keys(?:\/([^/]+))?)?)?\/?$/.exec(path);
    if (!m) return false;
    const planId = m[1] ? decodeURIComponent(m[1]) : undefined;
    const keyId = m[2] ? decodeURIComponent(m[2]) : undefined;
    const keysPath = path.includes('/keys');
    if (!planId) {
      if (method === 'POST') return (send(res, 201, renderPlan(createPlan(body))), true);
      if (method === 'GET') {
        const keyFilter = q.get('keyId');
        const all = [...plans.values()].filter((p) => !keyFilter || p.keys.has(keyFilter));
        return (send(res, 200, { item: all.map(renderPlan) }), true);
      }
    } else if (!keysPath) {
      if (method === 'GET') return (send(res, 200, renderPlan(getPlan(planId))), true);
      if (method === 'DELETE') {
        getPlan(planId);
        plans.delete(planId);
        return (send(res, 202, undefined), true);
      }
    } else if (!keyId) {
      const p = getPlan(planId);
      if (method === 'POST') {
        if (body.keyType !== 'API_KEY')
          throw new AwsServiceError('BadRequestException', `keyType must be API_KEY, got ${JSON.stringify(body.keyType)}`);
        const k = get(String(body.keyId ?? ''));
        if (p.keys.has(k.id))
          throw new AwsServiceError(
            'ConflictException',
            `Usage Plan ${p.id} cannot be added because API Key ${k.id} already exists in this usage plan`,
            409,
          );
        const other = [...plans.values()].find((x) => x.keys.has(k.id));
        if (other) throw new AwsServiceError('ConflictException', `API Key ${k.id} is already on usage plan ${other.id} for the same stage`, 409);
        p.keys.add(k.id);
        return (send(res, 201, planKeyView(k)), true);
      }
      if (method === 'GET') {
        const nameQuery = q.get('nameQuery');
        const limit = Math.min(Math.max(Number(q.get('limit') ?? '25') || 25, 1), 500);
        const position = Number(q.get('position') ?? '0') || 0;
        const all = [...p.keys]
          .map((id) => keys.get(id))
          .filter((k): k is ApiKeyRecord => !!k && (!nameQuery || k.name.startsWith(nameQuery)))
          .sort((a, b) => a.id.localeCompare(b.id));
        const page = all.slice(position, position + limit);
        return (
          send(res, 200, { item: page.map(planKeyView), ...(position + limit < all.length ? { position: String(position + limit) } : {}) }),
          true
        );
      }
    } else {
      const p = getPlan(planId);
      if (!p.keys.has(keyId))
        throw new AwsServiceError(
          'NotFoundException',
          `Invalid API Key identifier specified, ${JSON.stringify(keyId)} is not on usage plan ${p.id}`,
          404,
        );
      if (method === 'GET') return (send(res, 200, planKeyView(get(keyId))), true);
      if (method === 'DELETE') {
        p.keys.delete(keyId);
        return (send(res, 202, undefined), true);
      }
    }
    throw new AwsServiceError('NotFoundException', `${method} ${path} is not emulated locally`, 404);
  };

  const render = (k: ApiKeyRecord, includeValue: boolean) => {
    const { value, ...rest } = k;
    return includeValue ? { ...rest, value } : rest;
  };

  const create = (input: Record<string, unknown>): ApiKeyRecord => {
    const name = input.name;
    if (name !== undefined && typeof name !== 'string')
      throw new AwsServiceError('BadRequestException', `name must be a string, got ${JSON.stringify(name)}`);
    const value = input.value === undefined ? randomBytes(30).toString('base64url').slice(0, 40) : input.value;
    if (typeof value !== 'string' || value.length < 20)
      throw new AwsServiceError('BadRequestException', `API Key value should be at least 20 characters, got ${JSON.stringify(String(value).length)}`);
    if ([...keys.values()].some((k) => k.value === value)) throw new AwsServiceError('ConflictException', 'API Key value already exists', 409);
    const now = Math.floor(Date.now() / 1000);
    const k: ApiKeyRecord = {
      id: newId(),
      value,
      name: (name as string | undefined) ?? '',
      ...(typeof input.customerId === 'string' ? { customerId: input.customerId } : {}),
      ...(typeof input.description === 'string' ? { description: input.description } : {}),
      enabled: input.enabled === true,
      createdDate: now,
      lastUpdatedDate: now,
      stageKeys: Array.isArray(input.stageKeys)
        ? (input.stageKeys as Array<{ restApiId: string; stageName: string }>).map((s) => `${s.restApiId}/${s.stageName}`)
        : [],
      tags: (input.tags as Record<string, string>) ?? {},
    };
    keys.set(k.id, k);
    return k;
  };

  const get = (id: string): ApiKeyRecord => {
    const k = keys.get(id);
    if (!k) throw new AwsServiceError('NotFoundException', 'Invalid API Key identifier specified', 404);
    return k;
  };

  const update = (k: ApiKeyRecord, ops: unknown): void => {
    if (!Array.isArray(ops)) throw new AwsServiceError('BadRequestException', `patchOperations must be a list, got ${JSON.stringify(ops)}`);
    for (const raw of ops) {
      const op = raw as { op?: string; path?: string; value?: string };
      if (op.op !== 'replace')
        throw new AwsServiceError(
          'BadRequestException',
          `Invalid patch operation specified. Must be 'replace' for an api key, got ${JSON.stringify(op.op)}`,
        );
      switch (op.path) {
        case '/enabled':
          if (op.value !== 'true' && op.value !== 'false')
            throw new AwsServiceError('BadRequestException', `Invalid value for /enabled: ${JSON.stringify(op.value)} (expected "true" or "false")`);
          k.enabled = op.value === 'true';
          break;
        case '/name':
          k.name = String(op.value ?? '');
          break;
        case '/description':
          k.description = op.value;
          break;
        case '/customerId':
          k.customerId = op.value;
          break;
        default:
          throw new AwsServiceError('BadRequestException', `Invalid patch path ${JSON.stringify(op.path)}`);
      }
    }
    k.lastUpdatedDate = Math.floor(Date.now() / 1000);
  };

  const send = (res: http.ServerResponse, status: number, body: unknown, errorType?: string) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    };
    if (errorType) headers['x-amzn-errortype'] = errorType;
    res.writeHead(status, headers);
    res.end(text);
  };

  const handler: http.RequestListener = (req, res) => {
    void (async () => {
      try {
        const raw = await readBody(req);
        requireSigV4(req.headers);
        const url = new URL(req.url ?? '/', 'http://local');
        const q = url.searchParams;
        const body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
        if (usagePlanRoute(res, req.method ?? 'GET', url.pathname, q, body)) return;
        const m = /^\/apikeys(?:\/([^/]+))?\/?$/.exec(url.pathname);
        if (!m)
          throw new AwsServiceError(
            'NotFoundException',
            `${req.method} ${url.pathname} is not emulated locally (api keys and usage plans only)`,
            404,
          );
        const id = m[1] ? decodeURIComponent(m[1]) : undefined;
        if (!id && req.method === 'POST') return send(res, 201, render(create(body), true));
        if (!id && req.method === 'GET') {
          const name = q.get('name');
          const customerId = q.get('customerId');
          const includeValues = q.get('includeValues') === 'true';
          const limit = Math.min(Math.max(Number(q.get('limit') ?? '25') || 25, 1), 500);
          const position = Number(q.get('position') ?? '0') || 0;
          const all = [...keys.values()]
            .filter((k) => (!name || k.name.startsWith(name)) && (!customerId || k.customerId === customerId))
            .sort((a, b) => a.createdDate - b.createdDate || a.id.localeCompare(b.id));
          const page = all.slice(position, position + limit);
          return send(res, 200, {
            item: page.map((k) => render(k, includeValues)),
            ...(position + limit < all.length ? { position: String(position + limit) } : {}),
          });
        }
        if (id && req.method === 'GET') return send(res, 200, render(get(id), q.get('includeValue') === 'true'));
        if (id && req.method === 'PATCH') {
          const k = get(id);
          update(k, body.patchOperations);
          return send(res, 200, render(k, false));
        }
        if (id && req.method === 'DELETE') {
          get(id);
          keys.delete(id);
          for (const p of plans.values()) p.keys.delete(id);
          return send(res, 202, undefined);
        }
        throw new AwsServiceError('NotFoundException', `${req.method} ${url.pathname} is not emulated locally`, 404);
      } catch (err) {
        if (err instanceof AwsServiceError) send(res, err.status, { message: err.message }, err.code);
        else if (err instanceof SyntaxError) send(res, 400, { message: `request body is not valid json: ${err.message}` }, 'BadRequestException');
        else send(res, 500, { message: String((err as Error)?.message ?? err) }, 'InternalFailure');
      }
    })();
  };

  const ep = await listen(handler, opts.port ?? 0);
  return {
    ...ep,
    apiKeys: () => [...keys.values()].map((k) => ({ ...k })),
    createApiKey: (input) => create(input as Record<string, unknown>),
    findByValue: (value) => [...keys.values()].find((k) => k.value === value),
    usagePlans: () => [...plans.values()].map((p) => ({ ...p, keys: [...p.keys].sort() })),
    planOfKey: (keyId) => {
      const p = [...plans.values()].find((x) => x.keys.has(keyId));
      return p ? { ...p, keys: [...p.keys].sort() } : undefined;
    },
  };
}
