/**
 * A local AWS Step Functions endpoint (AWS JSON 1.0, `X-Amz-Target: AWSStepFunctions.<Operation>`), so the real
 * `@aws-sdk/client-sfn` (StartExecution, DescribeExecution, SendTaskSuccess, ...) works against it via
 * `endpoint` or `AWS_ENDPOINT_URL_SFN`.
 *
 * Executions run the ASL in aws-local-stepfunctions 3 (the interpreter; it needs `Promise.withResolvers`, which
 * this module polyfills on Node 20). What this module adds on top of the library, because the library has none of
 * it: the service API and execution bookkeeping (names, idempotent StartExecution, history), task tokens
 * (`.waitForTaskToken`, SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat, HeartbeatSeconds), and the task
 * resources:
 * - `arn:aws:states:::lambda:invoke` and Lambda function ARNs -> the `invokeLambda` callback the runtime registers;
 * - `arn:aws:states:::dynamodb:putItem|getItem|updateItem|deleteItem`, `arn:aws:states:::sqs:sendMessage`,
 *   `arn:aws:states:::events:putEvents`, `arn:aws:states:::states:startExecution` and
 *   `arn:aws:states:::aws-sdk:<service>:<action>` (dynamodb, sqs, eventbridge, sfn, apigateway, kinesis) -> the
 *   real AWS SDK v3 clients against the emulators (AWS_ENDPOINT_URL_<SERVICE> or `endpoints`);
 * - any state name or resource -> a custom handler (`taskHandlers` / `setTaskHandler`).
 * Service errors get the names Step Functions uses, so Retry / Catch in the ASL behave as in AWS:
 * `DynamoDB.ConditionalCheckFailedException` (optimized integrations), `DynamoDb.ConditionalCheckFailedException`
 * (aws-sdk integrations: PascalCase service + `Exception` suffix), `EventBridge.FailedEntry`, `States.Timeout`,
 * `States.HeartbeatTimeout` (reported as `States.Timeout` when the state only catches/retries that, as AWS
 * matches a heartbeat timeout with States.Timeout).
 *
 * Auth: every request must carry a well-formed SigV4 Authorization header (so only signing SDK clients get in);
 * the signature is not verified and IAM is not evaluated locally.
 *
 * Not emulated: `.sync` integrations, activities, Express-workflow semantics, JSONata, Distributed Map,
 * `$$.State.*` / `$$.Map.*` context fields (only `$$.Execution.*`, `$$.StateMachine.*`, `$$.Task.Token`), the 90-day
 * name-reuse window, redrive, versions and aliases.
 */
import { randomBytes, randomUUID } from 'crypto';
import * as ddb from '@aws-sdk/client-dynamodb';
import * as sqs from '@aws-sdk/client-sqs';
import * as eventbridge from '@aws-sdk/client-eventbridge';
import * as sfnSdk from '@aws-sdk/client-sfn';
import * as apigw from '@aws-sdk/client-api-gateway';
import * as kinesis from '@aws-sdk/client-kinesis';
import { AwsServiceError, jsonProtocolHandler, listen, LocalEndpoint, LOCAL_ACCOUNT_ID, optionalString, requireString } from './aws-http';
import { LocalService, localClientConfig } from './clients';

// aws-local-stepfunctions 3 targets Node 22 and calls Promise.withResolvers at run time.
type WithResolvers = <T>() => { promise: Promise<T>; resolve: (v: T | PromiseLike<T>) => void; reject: (e?: unknown) => void };
const P = Promise as unknown as { withResolvers?: WithResolvers };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = <T>() => {
    let resolve!: (v: T | PromiseLike<T>) => void;
    let reject!: (e?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
import { StateMachine as AslStateMachine, ExecutionError, ExecutionTimeoutError, ExecutionAbortedError } from 'aws-local-stepfunctions';

/** Placeholder put in the context as `$$.Task.Token`; replaced by the real token inside the task input. */
const TOKEN_PLACEHOLDER = '__DISTILL_GUARD_LOCAL_TASK_TOKEN__';
/** AWS's default task timeout is ~3 years; Node timers cap at 2^31-1 ms (~24.8 days). */
const MAX_TIMER_SECONDS = 2_000_000;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** Context given to Lambda invokers and custom task handlers. */
export interface TaskContext {
  readonly executionArn: string;
  readonly executionName: string;
  readonly stateMachineArn: string;
  readonly stateName: string;
  /** The Task state's Resource (with any `.waitForTaskToken` suffix). */
  readonly resource: string;
  /** Set for `.waitForTaskToken` states (already substituted for `$$.Task.Token` in the input). */
  readonly taskToken?: string;
}

/**
 * Invokes a Lambda function locally. Return the function's result; throw an Error whose `name` is the Lambda
 * `errorType` (e.g. `Error`, `ValidationError`) to fail the task.
 */
export type LambdaInvoker = (functionNameOrArn: string, payload: unknown, ctx: TaskContext) => Promise<unknown>;

/**
 * Replaces the integration call of a Task state. For `.waitForTaskToken` states the execution still waits for
 * SendTaskSuccess / SendTaskFailure on `ctx.taskToken` after the handler returns.
 */
export type TaskHandler = (input: unknown, ctx: TaskContext) => Promise<unknown> | unknown;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface HistoryEvent {
  timestamp: number;
  type: string;
  id: number;
  previousEventId: number;
  [details: string]: unknown;
}

export interface ExecutionView {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly input: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

/** A task waiting for SendTaskSuccess / SendTaskFailure. */
export interface PendingTask {
  readonly taskToken: string;
  readonly executionArn: string;
  readonly stateName: string;
  readonly resource: string;
  readonly input: unknown;
  readonly since: Date;
}

export interface LocalStepFunctionsOptions {
  /** @default a free port */
  readonly port?: number;
  /** @default process.env.AWS_REGION ?? 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** Lambda invoker (settable later with `setLambdaInvoker`). */
  readonly invokeLambda?: LambdaInvoker;
  /** Custom handlers keyed by state name or by Resource (state name wins). */
  readonly taskHandlers?: Record<string, TaskHandler>;
  /** Endpoints for integrations. @default AWS_ENDPOINT_URL_<SERVICE> from the environment; sfn defaults to this endpoint */
  readonly endpoints?: Partial<Record<LocalService, string>>;
  /** Task timeout when a Task state sets none (the library's default is 60 s). @default 2000000 (~23 days) */
  readonly defaultTaskTimeoutSeconds?: number;
  /** Override every Retry interval with this many ms (tests). @default the intervals in the definition */
  readonly retryIntervalMs?: number;
  /** Override every Wait state with this many ms (tests). @default the waits in the definition */
  readonly waitTimeMs?: number;
  /** Validate definitions with asl-validator (the library's default). @default true */
  readonly validateDefinitions?: boolean;
}

export interface LocalStepFunctions extends LocalEndpoint {
  readonly region: string;
  readonly accountId: string;
  /** Create (or, same name and definition, return) a state machine; returns its ARN. */
  createStateMachine(name: string, definition: string | object, roleArn?: string): string;
  stateMachineArn(name: string): string;
  /** StartExecution in-process (same semantics as the API, incl. name idempotency). */
  startExecution(stateMachineArn: string, input?: string | object, name?: string): { executionArn: string; startDate: Date };
  describeExecution(executionArn: string): ExecutionView;
  listExecutions(stateMachineArn?: string): ExecutionView[];
  history(executionArn: string): HistoryEvent[];
  /** Resolves once the execution is no longer RUNNING (rejects after `timeoutMs`). */
  waitForExecution(executionArn: string, timeoutMs?: number): Promise<ExecutionView>;
  /** Tasks waiting for a token callback, oldest first. */
  pendingTasks(executionArn?: string): PendingTask[];
  /** Resolves when a task for `stateName` (optionally in one execution) is waiting for its token. */
  waitForPendingTask(stateName: string, executionArn?: string, timeoutMs?: number): Promise<PendingTask>;
  sendTaskSuccess(taskToken: string, output: string | object): void;
  sendTaskFailure(taskToken: string, error?: string, cause?: string): void;
  sendTaskHeartbeat(taskToken: string): void;
  stopExecution(executionArn: string, error?: string, cause?: string): void;
  setLambdaInvoker(invoker: LambdaInvoker | undefined): void;
  setTaskHandler(stateNameOrResource: string, handler: TaskHandler | undefined): void;
  /** Point integrations at (other) emulator endpoints, e.g. once the local EventBridge is up. */
  setEndpoints(endpoints: Partial<Record<LocalService, string>>): void;
  /** Resolves when no execution is running. */
  idle(timeoutMs?: number): Promise<void>;
}

/**
 * The interpreter excludes its own timeout error class from the `States.TaskFailed` wildcard, as AWS does for
 * States.Timeout. Heartbeat timeouts are raised here, so they must be instances of that (unexported) class: it is
 * captured once, from a throwaway 1 s execution that times out, and its prototype reused.
 */
let timeoutErrorProto: object | undefined;
let capturingTimeoutError: Promise<void> | undefined;
function captureTimeoutErrorClass(): Promise<void> {
  capturingTimeoutError ??= (async () => {
    const probe = new AslStateMachine({
      StartAt: 'Probe',
      States: { Probe: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:probe', TimeoutSeconds: 1, End: true } },
    } as never);
    const run = probe.run({} as never, { overrides: { taskResourceLocalHandlers: { Probe: () => new Promise<never>(() => undefined) } } } as never);
    try {
      await run.result;
    } catch (err) {
      const inner = (err as { cause?: Error }).cause;
      if (inner?.name === 'States.Timeout') timeoutErrorProto = Object.getPrototypeOf(inner) as object;
    }
  })().catch(() => undefined);
  return capturingTimeoutError;
}

function timeoutError(name: string, message: string): Error {
  if (!timeoutErrorProto) return new TaskFailedError(name, message);
  const e = Object.create(timeoutErrorProto) as Error & { retryable: boolean; catchable: boolean };
  Object.assign(e, { name, message, retryable: true, catchable: true, stack: `${name}: ${message}` });
  return e;
}

/** An error a task fails with; `name` is what Retry / Catch `ErrorEquals` match. */
export class TaskFailedError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

interface TaskStateDef {
  Type: 'Task';
  Resource: string;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  HeartbeatSeconds?: number;
  HeartbeatSecondsPath?: string;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Catch?: Array<{ ErrorEquals: string[] }>;
}

interface MachineRecord {
  name: string;
  arn: string;
  definition: string;
  roleArn?: string;
  type: string;
  creationDate: Date;
  machine: AslStateMachine;
  tasks: Map<string, TaskStateDef>;
  retryStates: string[];
  waitStates: string[];
}

interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  history: HistoryEvent[];
  abort?: () => void;
  stopRequested?: { error?: string; cause?: string };
  done: Promise<void>;
}

interface TokenRecord extends PendingTask {
  resolve(v: unknown): void;
  reject(e: Error): void;
  heartbeatMs?: number;
  heartbeatTimer?: NodeJS.Timeout;
  timeoutTimer?: NodeJS.Timeout;
  heartbeatErrorName: string;
}

// eslint-disable-next-line no-control-regex -- execution names must not contain control characters
const EXEC_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

/** GetExecutionHistory with includeExecutionData=false: drop inputs and outputs. */
function stripData(ev: HistoryEvent): HistoryEvent {
  const out: HistoryEvent = { ...ev };
  for (const [k, v] of Object.entries(ev)) {
    if (k.endsWith('EventDetails') && v && typeof v === 'object') {
      const { input: _i, output: _o, ...rest } = v as Record<string, unknown>;
      out[k] = rest;
    }
  }
  return out;
}

function walkStates(states: Record<string, unknown>, visit: (name: string, def: Record<string, unknown>) => void): void {
  for (const [name, def] of Object.entries(states ?? {})) {
    const d = def as Record<string, unknown>;
    visit(name, d);
    if (d.Type === 'Parallel') for (const b of (d.Branches as Array<{ States: Record<string, unknown> }>) ?? []) walkStates(b.States, visit);
    if (d.Type === 'Map') {
      const proc = (d.ItemProcessor ?? d.Iterator) as { States: Record<string, unknown> } | undefined;
      if (proc) walkStates(proc.States, visit);
    }
  }
}

function replaceToken<T>(v: T, token: string): T {
  if (typeof v === 'string') return (v.includes(TOKEN_PLACEHOLDER) ? v.split(TOKEN_PLACEHOLDER).join(token) : v) as T;
  if (Array.isArray(v)) return v.map((x) => replaceToken(x, token)) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceToken(x, token)])) as T;
  return v;
}

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

/** Start the local Step Functions endpoint. */
export async function startStepFunctions(opts: LocalStepFunctionsOptions = {}): Promise<LocalStepFunctions> {
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const account = opts.accountId ?? LOCAL_ACCOUNT_ID;
  const defaultTimeout = Math.min(opts.defaultTaskTimeoutSeconds ?? MAX_TIMER_SECONDS, MAX_TIMER_SECONDS);
  const machines = new Map<string, MachineRecord>(); // by arn
  const executions = new Map<string, ExecutionRecord>(); // by arn
  const tokens = new Map<string, TokenRecord>();
  const expiredTokens = new Set<string>();
  const taskHandlers = new Map<string, TaskHandler>(Object.entries(opts.taskHandlers ?? {}));
  const tokenWaiters = new Set<() => void>();
  let lambdaInvoker = opts.invokeLambda;
  let selfEndpoint = '';
  const clients = new Map<string, { send(cmd: unknown): Promise<unknown>; destroy(): void }>();
  const endpoints: Partial<Record<LocalService, string>> = { ...opts.endpoints };

  const smArn = (name: string) => `arn:aws:states:${region}:${account}:stateMachine:${name}`;
  const execArn = (smName: string, name: string) => `arn:aws:states:${region}:${account}:execution:${smName}:${name}`;

  function client(svc: SdkService) {
    let c = clients.get(svc.key);
    if (!c) {
      const endpoint = endpoints[svc.key] ?? (svc.key === 'sfn' ? selfEndpoint : undefined);
      const Ctor = svc.module[svc.client] as new (cfg: unknown) => { send(cmd: unknown): Promise<unknown>; destroy(): void };
      c = new Ctor(localClientConfig(svc.key, endpoint, region));
      clients.set(svc.key, c);
    }
    return c;
  }

  async function sdkCall(svc: SdkService, action: string, params: Record<string, unknown>): Promise<unknown> {
    const Cmd = svc.module[`${upperFirst(action)}Command`] as (new (input: unknown) => unknown) | undefined;
    if (!Cmd) throw new TaskFailedError('States.Runtime', `the ${svc.key} sdk has no action ${action}`);
    const input = svc.camelCase ? mapKeys(params, lowerFirst, MAP_FIELDS) : params;
    const out = await client(svc).send(new Cmd(input));
    const json = toJson(out);
    return svc.camelCase ? mapKeys(json, upperFirst, MAP_FIELDS) : json;
  }

  async function invokeLambda(fn: string, payload: unknown, ctx: TaskContext): Promise<unknown> {
    if (!lambdaInvoker) throw new TaskFailedError('Lambda.ResourceNotFoundException', `no local lambda invoker is registered (function ${fn})`);
    try {
      return await lambdaInvoker(fn, payload, ctx);
    } catch (err) {
      const e = err as Error;
      const errorType = e?.name || 'Error';
      throw new TaskFailedError(
        errorType,
        JSON.stringify({ errorType, errorMessage: e?.message ?? String(err), trace: (e?.stack ?? '').split('\n').slice(0, 8) }),
      );
    }
  }

  /** Perform a Task resource (without the token wait). */
  async function integrate(resource: string, params: unknown, ctx: TaskContext): Promise<unknown> {
    const p = (params ?? {}) as Record<string, unknown>;
    if (/^arn:aws[\w-]*:states:::lambda:invoke$/.test(resource)) {
      const fn = p.FunctionName;
      if (typeof fn !== 'string')
        throw new TaskFailedError('States.Runtime', `lambda:invoke needs Parameters.FunctionName, got ${JSON.stringify(fn)}`);
      const result = await invokeLambda(fn, p.Payload ?? null, ctx);
      return {
        ExecutedVersion: '$LATEST',
        Payload: result ?? null,
        StatusCode: 200,
        SdkHttpMetadata: { HttpStatusCode: 200 },
        SdkResponseMetadata: { RequestId: randomUUID() },
      };
    }
    if (/^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:/.test(resource)) {
      return invokeLambda(resource, params, ctx);
    }
    const sdkm = /^arn:aws[\w-]*:states:::aws-sdk:([a-z0-9]+):(\w+)$/.exec(resource);
    if (sdkm) {
      const svc = SDK_SERVICES[sdkm[1]];
      if (!svc)
        throw new TaskFailedError(
          'States.Runtime',
          `aws-sdk:${sdkm[1]} is not emulated locally (supported: ${Object.keys(SDK_SERVICES).join(', ')})`,
        );
      try {
        return await sdkCall(svc, sdkm[2], p);
      } catch (err) {
        if (err instanceof TaskFailedError) throw err;
        throw sdkErrorName(svc.prefix, err, true);
      }
    }
    const optm = /^arn:aws[\w-]*:states:::([a-z]+):(\w+)$/.exec(resource);
    if (optm && OPTIMIZED[optm[1]]?.actions.includes(optm[2])) {
      const o = OPTIMIZED[optm[1]];
      const svc = SDK_SERVICES[o.sdk];
      let input: Record<string, unknown> = p;
      if (optm[1] === 'sqs' && input.MessageBody !== undefined && typeof input.MessageBody !== 'string') {
        input = { ...input, MessageBody: JSON.stringify(input.MessageBody) };
      }
      if (optm[1] === 'events' && Array.isArray(input.Entries)) {
        input = {
          ...input,
          Entries: (input.Entries as Array<Record<string, unknown>>).map((e) =>
            e.Detail !== undefined && typeof e.Detail !== 'string' ? { ...e, Detail: JSON.stringify(e.Detail) } : e,
          ),
        };
      }
      if (optm[1] === 'states' && input.Input !== undefined && typeof input.Input !== 'string') {
        input = { ...input, Input: JSON.stringify(input.Input) };
      }
      let out: unknown;
      try {
        out = await sdkCall(svc, optm[2], input);
      } catch (err) {
        if (err instanceof TaskFailedError) throw err;
        throw sdkErrorName(o.prefix, err, false);
      }
      if (optm[1] === 'events' && Number((out as { FailedEntryCount?: number }).FailedEntryCount ?? 0) > 0) {
        throw new TaskFailedError('EventBridge.FailedEntry', JSON.stringify(out));
      }
      return out;
    }
    if (/\.sync(:2)?$/.test(resource)) throw new TaskFailedError('States.Runtime', `.sync integrations are not emulated locally: ${resource}`);
    throw new TaskFailedError('States.Runtime', `task resource ${resource} is not emulated locally; register a handler with setTaskHandler`);
  }

  function heartbeatErrorName(def: TaskStateDef): string {
    const names = new Set([...(def.Retry ?? []), ...(def.Catch ?? [])].flatMap((r) => r.ErrorEquals ?? []));
    return !names.has('States.HeartbeatTimeout') && names.has('States.Timeout') ? 'States.Timeout' : 'States.HeartbeatTimeout';
  }

  function expireToken(token: string): void {
    const t = tokens.get(token);
    if (!t) return;
    clearTimeout(t.heartbeatTimer);
    clearTimeout(t.timeoutTimer);
    tokens.delete(token);
    expiredTokens.add(token);
  }

  function armHeartbeat(t: TokenRecord): void {
    if (!t.heartbeatMs) return;
    clearTimeout(t.heartbeatTimer);
    t.heartbeatTimer = setTimeout(() => {
      expireToken(t.taskToken);
      void captureTimeoutErrorClass().then(() =>
        t.reject(timeoutError(t.heartbeatErrorName, `no heartbeat for ${t.heartbeatMs! / 1000} s (HeartbeatSeconds)`)),
      );
    }, t.heartbeatMs);
  }

  function buildHandlers(m: MachineRecord, exec: ExecutionRecord): Record<string, (input: JsonValue) => Promise<JsonValue>> {
    const out: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
    for (const [stateName, def] of m.tasks) {
      out[stateName] = async (rawInput) => {
        const resource = def.Resource;
        const waits = resource.endsWith('.waitForTaskToken');
        const base = waits ? resource.slice(0, -'.waitForTaskToken'.length) : resource;
        const token = waits ? randomBytes(96).toString('base64') : undefined;
        const input = replaceToken(rawInput, token ?? '');
        const ctx: TaskContext = {
          executionArn: exec.executionArn,
          executionName: exec.name,
          stateMachineArn: m.arn,
          stateName,
          resource,
          ...(token ? { taskToken: token } : {}),
        };
        let wait: Promise<unknown> | undefined;
        if (token) {
          const { promise, resolve, reject } = (Promise as unknown as { withResolvers: WithResolvers }).withResolvers<unknown>();
          promise.catch(() => undefined); // may be abandoned after a state timeout
          const rec: TokenRecord = {
            taskToken: token,
            executionArn: exec.executionArn,
            stateName,
            resource,
            input,
            since: new Date(),
            resolve,
            reject,
            heartbeatMs: typeof def.HeartbeatSeconds === 'number' ? def.HeartbeatSeconds * 1000 : undefined,
            heartbeatErrorName: heartbeatErrorName(def),
          };
          // The library enforces TimeoutSeconds (States.Timeout); this only invalidates the token afterwards.
          const timeoutS = typeof def.TimeoutSeconds === 'number' ? def.TimeoutSeconds : undefined;
          if (timeoutS !== undefined) rec.timeoutTimer = setTimeout(() => expireToken(token), Math.min(timeoutS, MAX_TIMER_SECONDS) * 1000 + 250);
          tokens.set(token, rec);
          armHeartbeat(rec);
          wait = promise;
        }
        try {
          const custom = taskHandlers.get(stateName) ?? taskHandlers.get(resource) ?? taskHandlers.get(base);
          const result = custom ? await custom(input, ctx) : await integrate(base, input, ctx);
          if (!wait) return (result ?? null) as JsonValue;
          for (const w of [...tokenWaiters]) w();
        } catch (err) {
          if (token) expireToken(token);
          throw err;
        }
        return (await wait) as JsonValue;
      };
    }
    return out;
  }

  function addHistory(exec: ExecutionRecord, type: string, details: Record<string, unknown>, timestamp = Date.now()): void {
    const id = exec.history.length + 1;
    exec.history.push({ timestamp: timestamp / 1000, type, id, previousEventId: id - 1, ...details });
  }

  async function consumeEvents(exec: ExecutionRecord, m: MachineRecord, logs: AsyncGenerator<Record<string, unknown>>): Promise<void> {
    const json = (v: unknown) => JSON.stringify(v ?? null);
    for await (const ev of logs) {
      const ts = Number(ev.timestamp ?? Date.now());
      const state = ev.state as { name: string; type: string; input?: unknown; output?: unknown } | undefined;
      switch (ev.type) {
        case 'ExecutionStarted':
          addHistory(exec, 'ExecutionStarted', { executionStartedEventDetails: { input: json(ev.input), roleArn: m.roleArn } }, ts);
          break;
        case 'StateEntered':
          addHistory(exec, `${state!.type}StateEntered`, { stateEnteredEventDetails: { name: state!.name, input: json(state!.input) } }, ts);
          break;
        case 'StateExited':
          addHistory(
            exec,
            `${state!.type}StateExited`,
            { stateExitedEventDetails: { name: state!.name, output: json(ev.state && (ev.state as { output?: unknown }).output) } },
            ts,
          );
          break;
        case 'StateFailed':
          if (state?.type === 'Task') {
            addHistory(
              exec,
              'TaskFailed',
              {
                taskFailedEventDetails: {
                  resourceType: 'local',
                  resource: m.tasks.get(state.name)?.Resource,
                  error: ev.Error,
                  cause: typeof ev.Cause === 'string' ? ev.Cause : json(ev.Cause),
                },
              },
              ts,
            );
          }
          break;
        case 'StateRetried':
          addHistory(
            exec,
            'TaskStateRetried',
            { stateRetriedEventDetails: { name: state?.name, attempt: (ev.retry as { attempt?: number })?.attempt } },
            ts,
          );
          break;
        case 'ExecutionSucceeded':
          addHistory(exec, 'ExecutionSucceeded', { executionSucceededEventDetails: { output: json(ev.output) } }, ts);
          break;
        case 'ExecutionFailed':
          addHistory(
            exec,
            'ExecutionFailed',
            {
              executionFailedEventDetails: {
                error: ev.Error,
                cause: typeof ev.Cause === 'string' ? ev.Cause : String((ev.Cause as Error)?.message ?? json(ev.Cause)),
              },
            },
            ts,
          );
          break;
        case 'ExecutionAborted':
          addHistory(
            exec,
            'ExecutionAborted',
            { executionAbortedEventDetails: { error: exec.stopRequested?.error, cause: exec.stopRequested?.cause } },
            ts,
          );
          break;
        case 'ExecutionTimeout':
          addHistory(exec, 'ExecutionTimedOut', { executionTimedOutEventDetails: {} }, ts);
          break;
        default:
          break;
      }
    }
  }

  function createMachine(name: string, definitionRaw: string | object, roleArn?: string, type = 'STANDARD'): MachineRecord {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new AwsServiceError('InvalidName', `invalid state machine name: ${JSON.stringify(name)}`);
    const definition = typeof definitionRaw === 'string' ? definitionRaw : JSON.stringify(definitionRaw);
    const arn = smArn(name);
    const existing = machines.get(arn);
    if (existing) {
      if (existing.definition === definition && existing.roleArn === roleArn) return existing;
      throw new AwsServiceError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(definition) as Record<string, unknown>;
    } catch {
      throw new AwsServiceError(
        'InvalidDefinition',
        `Invalid State Machine Definition: definition is not valid json: ${JSON.stringify(definition.slice(0, 80))}`,
      );
    }
    if (parsed.QueryLanguage === 'JSONata')
      throw new AwsServiceError('InvalidDefinition', 'JSONata state machines are not supported locally (aws-local-stepfunctions runs JSONPath)');
    // The interpreter's copy: give every Task a long default timeout (the library's is 60 s).
    const runDef = JSON.parse(definition) as Record<string, unknown>;
    const tasks = new Map<string, TaskStateDef>();
    const retryStates: string[] = [];
    const waitStates: string[] = [];
    walkStates(runDef.States as Record<string, unknown>, (stateName, d) => {
      if (d.Retry) retryStates.push(stateName);
      if (d.Type === 'Wait') waitStates.push(stateName);
      if (d.Type !== 'Task') return;
      tasks.set(stateName, JSON.parse(JSON.stringify(d)) as TaskStateDef);
      if (d.TimeoutSeconds === undefined && d.TimeoutSecondsPath === undefined) d.TimeoutSeconds = defaultTimeout;
      else if (typeof d.TimeoutSeconds === 'number' && d.TimeoutSeconds > MAX_TIMER_SECONDS) d.TimeoutSeconds = MAX_TIMER_SECONDS;
    });
    let machine: AslStateMachine;
    try {
      machine = new AslStateMachine(runDef as never, { validationOptions: { noValidate: opts.validateDefinitions === false } });
    } catch (err) {
      throw new AwsServiceError('InvalidDefinition', `Invalid State Machine Definition: ${String((err as Error).message).slice(0, 2000)}`);
    }
    const rec: MachineRecord = { name, arn, definition, roleArn, type, creationDate: new Date(), machine, tasks, retryStates, waitStates };
    if ([...tasks.values()].some((t) => t.HeartbeatSeconds !== undefined)) void captureTimeoutErrorClass();
    machines.set(arn, rec);
    return rec;
  }

  function start(stateMachineArn: string, inputRaw: string | object | undefined, nameRaw: string | undefined): ExecutionRecord {
    const m = machines.get(stateMachineArn);
    if (!m) throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    const input = inputRaw === undefined ? '{}' : typeof inputRaw === 'string' ? inputRaw : JSON.stringify(inputRaw);
    let parsedInput: JsonValue;
    try {
      parsedInput = JSON.parse(input) as JsonValue;
    } catch {
      throw new AwsServiceError('InvalidExecutionInput', `Invalid State Machine Execution Input: ${JSON.stringify(input.slice(0, 80))}`);
    }
    const name = nameRaw ?? randomUUID();
    if (!EXEC_NAME.test(name)) throw new AwsServiceError('InvalidName', `Invalid Name: '${name}'`);
    const arn = execArn(m.name, name);
    const existing = executions.get(arn);
    if (existing) {
      // AWS: same name + same input while RUNNING returns the original execution; otherwise ExecutionAlreadyExists.
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const exec: ExecutionRecord = {
      executionArn: arn,
      stateMachineArn,
      name,
      input,
      status: 'RUNNING',
      startDate: new Date(),
      history: [],
      done: Promise.resolve(),
    };
    executions.set(arn, exec);
    const retryIntervalOverrides =
      opts.retryIntervalMs !== undefined ? Object.fromEntries(m.retryStates.map((s) => [s, opts.retryIntervalMs!])) : undefined;
    const waitTimeOverrides = opts.waitTimeMs !== undefined ? Object.fromEntries(m.waitStates.map((s) => [s, opts.waitTimeMs!])) : undefined;
    const run = m.machine.run(parsedInput as never, {
      overrides: { taskResourceLocalHandlers: buildHandlers(m, exec) as never, retryIntervalOverrides, waitTimeOverrides },
      context: {
        Execution: { Id: arn, Name: name, RoleArn: m.roleArn ?? `arn:aws:iam::${account}:role/local`, StartTime: exec.startDate.toISOString() },
        StateMachine: { Id: m.arn, Name: m.name },
        Task: { Token: TOKEN_PLACEHOLDER },
      },
    });
    exec.abort = run.abort;
    const events = consumeEvents(exec, m, run.eventLogs as unknown as AsyncGenerator<Record<string, unknown>>).catch(() => undefined);
    exec.done = run.result
      .then(
        (output) => {
          exec.status = 'SUCCEEDED';
          exec.output = JSON.stringify(output ?? null);
        },
        (err: unknown) => {
          if (err instanceof ExecutionAbortedError || exec.stopRequested) {
            exec.status = 'ABORTED';
            exec.error = exec.stopRequested?.error;
            exec.cause = exec.stopRequested?.cause;
          } else if (err instanceof ExecutionTimeoutError) {
            exec.status = 'TIMED_OUT';
            exec.error = 'States.Timeout';
          } else if (err instanceof ExecutionError) {
            const inner = (err as Error & { cause?: Error }).cause;
            exec.status = 'FAILED';
            exec.error = inner?.name ?? 'States.Runtime';
            exec.cause = inner?.message ?? err.message;
          } else {
            exec.status = 'FAILED';
            exec.error = 'States.Runtime';
            exec.cause = String((err as Error)?.message ?? err);
          }
        },
      )
      .then(async () => {
        exec.stopDate = new Date();
        for (const [tok, t] of tokens) if (t.executionArn === arn) expireToken(tok);
        // give the event consumer a moment to drain the library's log
        await Promise.race([events, new Promise((r) => setTimeout(r, 50))]);
        for (const w of [...tokenWaiters]) w();
      });
    return exec;
  }

  function view(e: ExecutionRecord): ExecutionView {
    return {
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: e.startDate,
      ...(e.stopDate ? { stopDate: e.stopDate } : {}),
      input: e.input,
      ...(e.output !== undefined ? { output: e.output } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.cause !== undefined ? { cause: e.cause } : {}),
    };
  }

  function getExec(arn: unknown): ExecutionRecord {
    const e = executions.get(String(arn));
    if (!e) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(arn)}'`);
    return e;
  }

  function takeToken(token: unknown): TokenRecord {
    if (typeof token !== 'string' || !token) throw new AwsServiceError('InvalidToken', `Invalid Token: ${JSON.stringify(token)}`);
    const t = tokens.get(token);
    if (t) return t;
    if (expiredTokens.has(token))
      throw new AwsServiceError(
        'TaskTimedOut',
        'Task Timed Out: the task token is no longer valid (the task timed out, failed or its execution ended)',
      );
    throw new AwsServiceError('TaskDoesNotExist', 'Task Does Not Exist: unknown task token');
  }

  const seconds = (d?: Date) => (d ? d.getTime() / 1000 : undefined);
  const wire = (v: ExecutionView) => ({ ...v, startDate: seconds(v.startDate), stopDate: seconds(v.stopDate) });

  const api: Omit<LocalStepFunctions, 'endpoint' | 'port' | 'stop'> = {
    region,
    accountId: account,
    createStateMachine: (name, definition, roleArn) => createMachine(name, definition, roleArn).arn,
    stateMachineArn: smArn,
    startExecution: (arn, input, name) => {
      const e = start(arn, input, name);
      return { executionArn: e.executionArn, startDate: e.startDate };
    },
    describeExecution: (arn) => view(getExec(arn)),
    listExecutions: (smArnFilter) => [...executions.values()].filter((e) => !smArnFilter || e.stateMachineArn === smArnFilter).map(view),
    history: (arn) => [...getExec(arn).history],
    waitForExecution: async (arn, timeoutMs = 60000) => {
      const e = getExec(arn);
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          e.done,
          new Promise((_, rej) => {
            timer = setTimeout(() => rej(new Error(`execution ${arn} still ${e.status} after ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
      return view(e);
    },
    pendingTasks: (arn) =>
      [...tokens.values()]
        .filter((t) => !arn || t.executionArn === arn)
        .map(({ taskToken, executionArn, stateName, resource, input, since }) => ({ taskToken, executionArn, stateName, resource, input, since })),
    waitForPendingTask: (stateName, arn, timeoutMs = 30000) =>
      new Promise<PendingTask>((resolve, reject) => {
        const check = (): boolean => {
          const t = api.pendingTasks(arn).find((x) => x.stateName === stateName);
          if (t) {
            done();
            resolve(t);
            return true;
          }
          if (arn && executions.get(arn)?.status !== 'RUNNING') {
            done();
            reject(new Error(`execution ${arn} ended (${executions.get(arn)?.status}) before ${stateName} waited for a token`));
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no task waiting in state ${stateName} after ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = () => void check();
        const done = () => {
          clearTimeout(timer);
          tokenWaiters.delete(waiter);
        };
        tokenWaiters.add(waiter);
        check();
      }),
    sendTaskSuccess: (token, output) => {
      const t = takeToken(token);
      const text = typeof output === 'string' ? output : JSON.stringify(output);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new AwsServiceError('InvalidOutput', `Invalid Output: not valid json: ${JSON.stringify(text.slice(0, 80))}`);
      }
      expireToken(t.taskToken);
      t.resolve(parsed);
    },
    sendTaskFailure: (token, error, cause) => {
      const t = takeToken(token);
      expireToken(t.taskToken);
      t.reject(new TaskFailedError(error ?? 'States.TaskFailed', cause ?? ''));
    },
    sendTaskHeartbeat: (token) => {
      armHeartbeat(takeToken(token));
    },
    stopExecution: (arn, error, cause) => {
      const e = getExec(arn);
      if (e.status !== 'RUNNING') return;
      e.stopRequested = { error, cause };
      e.abort?.();
      // settle the abandoned token waits so the interpreter's task timers are cleared
      for (const [tok, t] of [...tokens]) {
        if (t.executionArn !== arn) continue;
        expireToken(tok);
        t.reject(new TaskFailedError('States.Aborted', 'execution stopped'));
      }
    },
    setLambdaInvoker: (inv) => {
      lambdaInvoker = inv;
    },
    setTaskHandler: (k, h) => {
      if (h) taskHandlers.set(k, h);
      else taskHandlers.delete(k);
    },
    setEndpoints: (eps) => {
      Object.assign(endpoints, eps);
      for (const k of Object.keys(eps)) {
        clients.get(k)?.destroy();
        clients.delete(k);
      }
    },
    idle: async (timeoutMs = 60000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const running = [...executions.values()].filter((e) => e.status === 'RUNNING');
        if (!running.length) return;
        if (Date.now() > deadline) throw new Error(`${running.length} executions still running after ${timeoutMs} ms`);
        await Promise.race([Promise.all(running.map((e) => e.done)), new Promise((r) => setTimeout(r, 200))]);
      }
    },
  };

  const operations = {
    CreateStateMachine: (i: Record<string, unknown>) => {
      const m = createMachine(
        requireString(i, 'name'),
        requireString(i, 'definition'),
        optionalString(i, 'roleArn'),
        optionalString(i, 'type') ?? 'STANDARD',
      );
      return { stateMachineArn: m.arn, creationDate: seconds(m.creationDate) };
    },
    DescribeStateMachine: (i: Record<string, unknown>) => {
      const m = machines.get(requireString(i, 'stateMachineArn'));
      if (!m) throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(i.stateMachineArn)}'`);
      return {
        stateMachineArn: m.arn,
        name: m.name,
        status: 'ACTIVE',
        definition: m.definition,
        roleArn: m.roleArn ?? `arn:aws:iam::${account}:role/local`,
        type: m.type,
        creationDate: seconds(m.creationDate),
      };
    },
    ListStateMachines: () => ({
      stateMachines: [...machines.values()].map((m) => ({
        stateMachineArn: m.arn,
        name: m.name,
        type: m.type,
        creationDate: seconds(m.creationDate),
      })),
    }),
    DeleteStateMachine: (i: Record<string, unknown>) => {
      machines.delete(requireString(i, 'stateMachineArn'));
      return {};
    },
    StartExecution: (i: Record<string, unknown>) => {
      const e = start(requireString(i, 'stateMachineArn'), optionalString(i, 'input'), optionalString(i, 'name'));
      return { executionArn: e.executionArn, startDate: seconds(e.startDate) };
    },
    DescribeExecution: (i: Record<string, unknown>) => wire(view(getExec(requireString(i, 'executionArn')))),
    ListExecutions: (i: Record<string, unknown>) => {
      const arn = requireString(i, 'stateMachineArn');
      if (!machines.has(arn)) throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
      const status = optionalString(i, 'statusFilter');
      const max = typeof i.maxResults === 'number' && i.maxResults > 0 ? i.maxResults : 100;
      const offset = typeof i.nextToken === 'string' ? Number(i.nextToken) || 0 : 0;
      const all = [...executions.values()]
        .filter((e) => e.stateMachineArn === arn && (!status || e.status === status))
        .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
      const page = all.slice(offset, offset + max);
      return {
        executions: page.map((e) => ({
          executionArn: e.executionArn,
          stateMachineArn: e.stateMachineArn,
          name: e.name,
          status: e.status,
          startDate: seconds(e.startDate),
          stopDate: seconds(e.stopDate),
        })),
        ...(offset + max < all.length ? { nextToken: String(offset + max) } : {}),
      };
    },
    GetExecutionHistory: (i: Record<string, unknown>) => {
      const e = getExec(requireString(i, 'executionArn'));
      const all = i.reverseOrder === true ? [...e.history].reverse() : [...e.history];
      const max = typeof i.maxResults === 'number' && i.maxResults > 0 ? i.maxResults : 1000;
      const offset = typeof i.nextToken === 'string' ? Number(i.nextToken) || 0 : 0;
      const events = all.slice(offset, offset + max).map((ev) => (i.includeExecutionData === false ? stripData(ev) : ev));
      return { events, ...(offset + max < all.length ? { nextToken: String(offset + max) } : {}) };
    },
    StopExecution: (i: Record<string, unknown>) => {
      const arn = requireString(i, 'executionArn');
      api.stopExecution(arn, optionalString(i, 'error'), optionalString(i, 'cause'));
      return { stopDate: seconds(getExec(arn).stopDate ?? new Date()) };
    },
    SendTaskSuccess: (i: Record<string, unknown>) => {
      api.sendTaskSuccess(requireString(i, 'taskToken', 'InvalidToken'), requireString(i, 'output', 'InvalidOutput'));
      return {};
    },
    SendTaskFailure: (i: Record<string, unknown>) => {
      api.sendTaskFailure(requireString(i, 'taskToken', 'InvalidToken'), optionalString(i, 'error'), optionalString(i, 'cause'));
      return {};
    },
    SendTaskHeartbeat: (i: Record<string, unknown>) => {
      api.sendTaskHeartbeat(requireString(i, 'taskToken', 'InvalidToken'));
      return {};
    },
  };

  const ep = await listen(jsonProtocolHandler({ targetPrefix: 'AWSStepFunctions', jsonVersion: '1.0', operations }), opts.port ?? 0);
  selfEndpoint = ep.endpoint;
  return {
    ...api,
    endpoint: ep.endpoint,
    port: ep.port,
    stop: async () => {
      for (const e of executions.values())
        if (e.status === 'RUNNING') api.stopExecution(e.executionArn, 'Local.Shutdown', 'local step functions stopped');
      await Promise.allSettled([...executions.values()].map((e) => e.done));
      for (const c of clients.values()) c.destroy();
      await ep.stop();
    },
  } as LocalStepFunctions;
}
