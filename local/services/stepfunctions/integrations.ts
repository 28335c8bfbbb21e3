/**
 * The service integrations: what a Task state's Resource does when no custom handler replaces it. Lambda (the
 * optimized `lambda:invoke` and bare function ARNs) goes to the registered invoker; the optimized DynamoDB, SQS,
 * EventBridge and Step Functions integrations and the `aws-sdk:<service>:<action>` ones call the real AWS SDK v3
 * clients against the emulators. Errors get the names Step Functions gives them, so Retry / Catch behave as in AWS.
 */
import { randomUUID } from 'crypto';
import * as ddb from '@aws-sdk/client-dynamodb';
import * as sqs from '@aws-sdk/client-sqs';
import * as eventbridge from '@aws-sdk/client-eventbridge';
import * as sfnSdk from '@aws-sdk/client-sfn';
import * as apigw from '@aws-sdk/client-api-gateway';
import * as kinesis from '@aws-sdk/client-kinesis';
import { LocalService, localClientConfig } from '../clients';
import { JsonValue, LambdaInvoker, TaskContext, TaskFailedError } from './types';

/** SDK output -> plain JSON (no $metadata, dates as ISO strings, bytes as base64). */
function toJson(out: unknown): JsonValue {
  return JSON.parse(
    JSON.stringify(out ?? {}, (k, v: unknown) => {
      if (k === '$metadata') return undefined;
      if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
      return v;
    }),
  ) as JsonValue;
}

function mapKeys(v: unknown, f: (k: string) => string, keepChildrenOf: Set<string>): unknown {
  if (Array.isArray(v)) return v.map((x) => mapKeys(x, f, keepChildrenOf));
  if (v && typeof v === 'object' && !(v instanceof Date) && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [f(k), keepChildrenOf.has(k.toLowerCase()) ? x : mapKeys(x, f, keepChildrenOf)]));
  }
  return v;
}
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const MAP_FIELDS = new Set(['tags', 'variables', 'stagekeys']);

interface SdkService {
  readonly module: Record<string, unknown>;
  readonly client: string;
  /** Prefix of error names for aws-sdk integrations (`<Prefix>.<Error>Exception`). */
  readonly prefix: string;
  readonly key: LocalService;
  /** The SDK v3 API takes camelCase members while Step Functions uses PascalCase. */
  readonly camelCase?: boolean;
}

const SDK_SERVICES: Record<string, SdkService> = {
  dynamodb: { module: ddb, client: 'DynamoDBClient', prefix: 'DynamoDb', key: 'dynamodb' },
  sqs: { module: sqs, client: 'SQSClient', prefix: 'Sqs', key: 'sqs' },
  eventbridge: { module: eventbridge, client: 'EventBridgeClient', prefix: 'EventBridge', key: 'eventbridge' },
  sfn: { module: sfnSdk, client: 'SFNClient', prefix: 'Sfn', key: 'sfn' },
  apigateway: { module: apigw, client: 'APIGatewayClient', prefix: 'ApiGateway', key: 'api_gateway', camelCase: true },
  kinesis: { module: kinesis, client: 'KinesisClient', prefix: 'Kinesis', key: 'kinesis' },
};

/** Optimized integrations: resource service -> (sdk service, error prefix, allowed actions). */
const OPTIMIZED: Record<string, { sdk: string; prefix: string; actions: string[] }> = {
  dynamodb: { sdk: 'dynamodb', prefix: 'DynamoDB', actions: ['putItem', 'getItem', 'updateItem', 'deleteItem'] },
  sqs: { sdk: 'sqs', prefix: 'SQS', actions: ['sendMessage'] },
  events: { sdk: 'eventbridge', prefix: 'EventBridge', actions: ['putEvents'] },
  states: { sdk: 'sfn', prefix: 'StepFunctions', actions: ['startExecution'] },
};

function sdkErrorName(prefix: string, err: unknown, addExceptionSuffix: boolean): TaskFailedError {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number; requestId?: string }; $fault?: string };
  let name = e?.name && e.name !== 'Error' ? e.name : 'SdkClientException';
  if (addExceptionSuffix && !name.endsWith('Exception')) name += 'Exception';
  const svc = prefix;
  const cause = e?.$metadata
    ? `${e.message ?? ''} (Service: ${svc}, Status Code: ${e.$metadata.httpStatusCode ?? 0}, Error Code: ${e.name}, Request ID: ${e.$metadata.requestId ?? 'local'})`
    : String(e?.message ?? err);
  return new TaskFailedError(`${prefix}.${name}`, cause);
}

/** The optimized integrations take JSON where the SDK takes a string: serialize those members. */
function optimizedInput(service: string, p: Record<string, unknown>): Record<string, unknown> {
  let input = p;
  if (service === 'sqs' && input.MessageBody !== undefined && typeof input.MessageBody !== 'string') {
    input = { ...input, MessageBody: JSON.stringify(input.MessageBody) };
  }
  if (service === 'events' && Array.isArray(input.Entries)) {
    input = {
      ...input,
      Entries: (input.Entries as Array<Record<string, unknown>>).map((e) =>
        e.Detail !== undefined && typeof e.Detail !== 'string' ? { ...e, Detail: JSON.stringify(e.Detail) } : e,
      ),
    };
  }
  if (service === 'states' && input.Input !== undefined && typeof input.Input !== 'string') {
    input = { ...input, Input: JSON.stringify(input.Input) };
  }
  return input;
}

type SdkClient = { send(cmd: unknown): Promise<unknown>; destroy(): void };

export class ServiceIntegrations {
  private readonly clients = new Map<string, SdkClient>();
  private readonly endpoints: Partial<Record<LocalService, string>>;
  /** This Step Functions endpoint, the default for `states:startExecution` and `aws-sdk:sfn`. */
  selfEndpoint = '';

  constructor(
    private readonly region: string,
    endpoints: Partial<Record<LocalService, string>> | undefined,
    private lambdaInvoker: LambdaInvoker | undefined,
  ) {
    this.endpoints = { ...endpoints };
  }

  setLambdaInvoker(invoker: LambdaInvoker | undefined): void {
    this.lambdaInvoker = invoker;
  }

  /** Point integrations at (other) emulator endpoints; their clients are rebuilt on next use. */
  setEndpoints(eps: Partial<Record<LocalService, string>>): void {
    Object.assign(this.endpoints, eps);
    for (const k of Object.keys(eps)) {
      this.clients.get(k)?.destroy();
      this.clients.delete(k);
    }
  }

  destroy(): void {
    for (const c of this.clients.values()) c.destroy();
  }

  /** Perform a Task resource (without the token wait). */
  async integrate(resource: string, params: unknown, ctx: TaskContext): Promise<unknown> {
    const p = (params ?? {}) as Record<string, unknown>;
    if (/^arn:aws[\w-]*:states:::lambda:invoke$/.test(resource)) return this.lambdaInvokeTask(p, ctx);
    if (/^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:/.test(resource)) return this.invokeLambda(resource, params, ctx);
    const sdkm = /^arn:aws[\w-]*:states:::aws-sdk:([a-z0-9]+):(\w+)$/.exec(resource);
    if (sdkm) return this.awsSdkTask(sdkm[1], sdkm[2], p);
    const optm = /^arn:aws[\w-]*:states:::([a-z]+):(\w+)$/.exec(resource);
    if (optm && OPTIMIZED[optm[1]]?.actions.includes(optm[2])) return this.optimizedTask(optm[1], optm[2], p);
    if (/\.sync(:2)?$/.test(resource)) throw new TaskFailedError('States.Runtime', `.sync integrations are not emulated locally: ${resource}`);
    throw new TaskFailedError('States.Runtime', `task resource ${resource} is not emulated locally; register a handler with setTaskHandler`);
  }

  /** `arn:aws:states:::lambda:invoke`: the function's result wrapped as the Invoke API answers. */
  private async lambdaInvokeTask(p: Record<string, unknown>, ctx: TaskContext): Promise<unknown> {
    const fn = p.FunctionName;
    if (typeof fn !== 'string') throw new TaskFailedError('States.Runtime', `lambda:invoke needs Parameters.FunctionName, got ${JSON.stringify(fn)}`);
    const result = await this.invokeLambda(fn, p.Payload ?? null, ctx);
    return {
      ExecutedVersion: '$LATEST',
      Payload: result ?? null,
      StatusCode: 200,
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: randomUUID() },
    };
  }

  private async awsSdkTask(service: string, action: string, p: Record<string, unknown>): Promise<unknown> {
    const svc = SDK_SERVICES[service];
    if (!svc)
      throw new TaskFailedError('States.Runtime', `aws-sdk:${service} is not emulated locally (supported: ${Object.keys(SDK_SERVICES).join(', ')})`);
    try {
      return await this.sdkCall(svc, action, p);
    } catch (err) {
      if (err instanceof TaskFailedError) throw err;
      throw sdkErrorName(svc.prefix, err, true);
    }
  }

  private async optimizedTask(service: string, action: string, p: Record<string, unknown>): Promise<unknown> {
    const o = OPTIMIZED[service];
    let out: unknown;
    try {
      out = await this.sdkCall(SDK_SERVICES[o.sdk], action, optimizedInput(service, p));
    } catch (err) {
      if (err instanceof TaskFailedError) throw err;
      throw sdkErrorName(o.prefix, err, false);
    }
    if (service === 'events' && Number((out as { FailedEntryCount?: number }).FailedEntryCount ?? 0) > 0) {
      throw new TaskFailedError('EventBridge.FailedEntry', JSON.stringify(out));
    }
    return out;
  }

  private async invokeLambda(fn: string, payload: unknown, ctx: TaskContext): Promise<unknown> {
    if (!this.lambdaInvoker) throw new TaskFailedError('Lambda.ResourceNotFoundException', `no local lambda invoker is registered (function ${fn})`);
    try {
      return await this.lambdaInvoker(fn, payload, ctx);
    } catch (err) {
      const e = err as Error;
      const errorType = e?.name || 'Error';
      throw new TaskFailedError(
        errorType,
        JSON.stringify({ errorType, errorMessage: e?.message ?? String(err), trace: (e?.stack ?? '').split('\n').slice(0, 8) }),
      );
    }
  }

  private async sdkCall(svc: SdkService, action: string, params: Record<string, unknown>): Promise<unknown> {
    const Cmd = svc.module[`${upperFirst(action)}Command`] as (new (input: unknown) => unknown) | undefined;
    if (!Cmd) throw new TaskFailedError('States.Runtime', `the ${svc.key} sdk has no action ${action}`);
    const input = svc.camelCase ? mapKeys(params, lowerFirst, MAP_FIELDS) : params;
    const out = await this.client(svc).send(new Cmd(input));
    const json = toJson(out);
    return svc.camelCase ? mapKeys(json, upperFirst, MAP_FIELDS) : json;
  }

  private client(svc: SdkService): SdkClient {
    let c = this.clients.get(svc.key);
    if (!c) {
      const endpoint = this.endpoints[svc.key] ?? (svc.key === 'sfn' ? this.selfEndpoint : undefined);
      const Ctor = svc.module[svc.client] as new (cfg: unknown) => SdkClient;
      c = new Ctor(localClientConfig(svc.key, endpoint, this.region));
      this.clients.set(svc.key, c);
    }
    return c;
  }
}
