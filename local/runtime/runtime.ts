/**
 * The local runtime: given a synthesized cloud assembly and running emulators, it creates every resource the
 * template declares, runs each function's bundle from cdk.out with its resolved environment, polls every event
 * source mapping, wires EventBridge Lambda targets and Step Functions Lambda tasks to the local functions, and
 * runs schedule rules on a simulated clock. Nothing about the wiring is written here: it all comes from the
 * template (see docs/local.md).
 */
import * as path from 'path';
import { LocalFunctionUrl, startFunctionUrl } from '../services/function-url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, DeleteQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { randomUUID } from 'crypto';
import { LambdaRunner } from './lambda-runner';
import { DynamoDbStreamPoller, KinesisPoller, MappingStats, Poller, sqsDestinationSender, SqsPoller } from './pollers';
import { provision, ProvisionResult } from './provision';
import { parseSchedule, SimClock } from './schedule';
import { findTemplateFile, loadStackModel, LocalStackModel, parseArn, RuleModel, RuleTargetModel } from './template';

/** Endpoints of the running emulators / local services (http://127.0.0.1:PORT). */
export interface LocalEndpoints {
  dynamodb: string;
  kinesis: string;
  sqs: string;
  eventbridge?: string;
  sfn?: string;
  api_gateway?: string;
  secrets_manager?: string;
  s3?: string;
  [service: string]: string | undefined;
}

/** What the runtime needs of the local EventBridge service (local/services/eventbridge.ts). */
export interface EventBridgeHooks {
  setLambdaInvoker(
    invoker: ((functionArn: string, event: unknown, ctx: { rule: string; bus: string; targetId: string }) => Promise<unknown>) | undefined,
  ): void;
  idle?(): Promise<void>;
}

/** What the runtime needs of the local Step Functions service (local/services/stepfunctions.ts). */
export interface StepFunctionsHooks {
  setLambdaInvoker?(invoker: ((functionArn: string, payload: unknown) => Promise<unknown>) | undefined): void;
  idle?(): Promise<void>;
}

export interface LocalRuntimeOptions {
  /** @default 'cdk.out' */
  readonly cdkOut?: string;
  /** @default the only stack in the assembly */
  readonly stackName?: string;
  readonly endpoints: LocalEndpoints;
  /** In-process handles of the local EventBridge / Step Functions, to wire Lambda targets and tasks. */
  readonly eventbridge?: EventBridgeHooks;
  readonly stepfunctions?: StepFunctionsHooks;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Where function logs go. @default '.local/logs/functions.log' */
  readonly functionLogFile?: string;
  /** Runtime progress lines. @default none */
  readonly log?: (msg: string) => void;
  /** Start of simulated time (schedules fire relative to it). @default Date.now() */
  readonly clockStartMs?: number;
  /** Extra environment for every function (wins over the defaults, loses to the function's own). */
  readonly extraEnv?: Record<string, string>;
  /** Override function environment values after resolution, per function logical id or name ('*' = all). */
  readonly envOverrides?: Record<string, Record<string, string>>;
  /** Shards for ON_DEMAND streams. @default 2 */
  readonly onDemandShards?: number;
  /** Sandboxes per function. @default 4 */
  readonly maxConcurrencyPerFunction?: number;
  /** Poll interval of idle stream shards. @default 200 */
  readonly idlePollMs?: number;
  /** See PollerOptions.flushWhenCaughtUp. @default false */
  readonly flushWhenCaughtUp?: boolean;
}

export interface RuntimeStats {
  functions: ReturnType<LambdaRunner['stats']>;
  mappings: MappingStats[];
  scheduleTicks: number;
  scheduleErrors: number;
}

/** The environment every local function gets (before its own): endpoints, region, dummy credentials. */
export function baseFunctionEnv(endpoints: LocalEndpoints, region: string): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: 'AKIALOCALDISTILLGUARD',
    AWS_SECRET_ACCESS_KEY: 'local-secret-not-checked',
    AWS_SESSION_TOKEN: 'local',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
    AWS_XRAY_SDK_ENABLED: 'false',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_DEV: 'false',
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_PATH: path.resolve(__dirname, '..', '..', 'node_modules'),
    DISTILL_GUARD_LOCAL: '1',
    // this machine runs Node 20 while the functions target Node 22; the SDK's warning about it is noise here
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  for (const [svc, url] of Object.entries(endpoints)) if (url) env[`AWS_ENDPOINT_URL_${svc.toUpperCase()}`] = url;
  if (endpoints.dynamodb && !endpoints.dynamodb_streams) env.AWS_ENDPOINT_URL_DYNAMODB_STREAMS = endpoints.dynamodb;
  if (endpoints.eventbridge && !endpoints.events) env.AWS_ENDPOINT_URL_EVENTS = endpoints.eventbridge;
  return env;
}

function clientConfig(endpoint: string | undefined, region: string) {
  return {
    region,
    endpoint,
    credentials: { accessKeyId: 'AKIALOCALDISTILLGUARD', secretAccessKey: 'local-secret-not-checked' },
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 3,
  };
}

export class LocalRuntime {
  readonly model: LocalStackModel;
  readonly runner: LambdaRunner;
  readonly clock: SimClock;
  readonly clients: {
    dynamodb: DynamoDBClient;
    kinesis: KinesisClient;
    sqs: SQSClient;
    streams: DynamoDBStreamsClient;
    eventbridge?: EventBridgeClient;
    sfn?: SFNClient;
    apigateway?: APIGatewayClient;
    s3?: S3Client;
  };
  readonly pollers: Poller[] = [];
  private readonly urlServers: LocalFunctionUrl[] = [];
  provisioned?: ProvisionResult;
  private scheduleErrors = 0;
  private readonly log: (msg: string) => void;

  private constructor(
    readonly opts: LocalRuntimeOptions,
    model: LocalStackModel,
  ) {
    const region = model.region;
    this.log = opts.log ?? (() => undefined);
    const e = opts.endpoints;
    this.clients = {
      dynamodb: new DynamoDBClient(clientConfig(e.dynamodb, region)),
      streams: new DynamoDBStreamsClient(clientConfig(e.dynamodb_streams ?? e.dynamodb, region)),
      kinesis: new KinesisClient(clientConfig(e.kinesis, region)),
      sqs: new SQSClient(clientConfig(e.sqs, region)),
      eventbridge: e.eventbridge ? new EventBridgeClient(clientConfig(e.eventbridge, region)) : undefined,
      sfn: e.sfn ? new SFNClient(clientConfig(e.sfn, region)) : undefined,
      apigateway: e.api_gateway ? new APIGatewayClient(clientConfig(e.api_gateway, region)) : undefined,
      // an IP endpoint (http://127.0.0.1:PORT) makes the SDK address buckets path-style by itself
      s3: e.s3 ? new S3Client(clientConfig(e.s3, region)) : undefined,
    };
    this.model = model;
    const base = { ...baseFunctionEnv(e, region), ...(opts.extraEnv ?? {}) };
    for (const f of model.functions) {
      const o = { ...(opts.envOverrides?.['*'] ?? {}), ...(opts.envOverrides?.[f.logicalId] ?? {}), ...(opts.envOverrides?.[f.name] ?? {}) };
      Object.assign(f.environment, o);
    }
    this.runner = new LambdaRunner(model.functions, {
      baseEnv: base,
      logFile: opts.functionLogFile ?? path.resolve('.local', 'logs', 'functions.log'),
      maxConcurrencyPerFunction: opts.maxConcurrencyPerFunction,
    });
    this.clock = new SimClock(opts.clockStartMs ?? Date.now());
  }

  /** Loads the template, creates every resource and starts the pollers. */
  static async start(opts: LocalRuntimeOptions): Promise<LocalRuntime> {
    const region = opts.region ?? 'us-east-1';
    const cdkOut = path.resolve(opts.cdkOut ?? 'cdk.out');
    // Queue URLs are resolved into function environments and state machine definitions, so learn the SQS
    // emulator's URL format first (e.g. http://sqs.us-east-1.localhost:PORT/000000000000/<name>) with a probe.
    const prefix = await LocalRuntime.queueUrlPrefix(opts.endpoints.sqs, region);
    const model = loadStackModel({ cdkOut, stackName: opts.stackName, region, sqsEndpoint: prefix });
    const rt = new LocalRuntime(opts, model);
    rt.provisioned = await provision(
      model,
      {
        dynamodb: rt.clients.dynamodb,
        kinesis: rt.clients.kinesis,
        sqs: rt.clients.sqs,
        eventbridge: rt.clients.eventbridge,
        sfn: rt.clients.sfn,
        apigateway: rt.clients.apigateway,
        s3: rt.clients.s3,
        secretsManager: opts.endpoints.secrets_manager ? { endpoint: opts.endpoints.secrets_manager, region } : undefined,
      },
      { onDemandShards: opts.onDemandShards, log: rt.log },
    );
    for (const q of model.queues) {
      const actual = rt.provisioned.queueUrls[q.arn];
      if (actual && actual !== q.url) rt.log(`warning: queue ${q.name} has url ${actual}, the template resolved ${q.url}`);
    }
    rt.wireServices();
    await rt.startFunctionUrls();
    await rt.startPollers();
    rt.registerSchedules();
    return rt;
  }

  /** `<scheme>://<host>/<account>` of the SQS emulator's queue URLs. */
  static async queueUrlPrefix(sqsEndpoint: string, region: string): Promise<string> {
    const sqs = new SQSClient(clientConfig(sqsEndpoint, region));
    try {
      const name = `local-runtime-url-probe-${process.pid}`;
      const r = await sqs.send(new CreateQueueCommand({ QueueName: name }));
      await sqs.send(new DeleteQueueCommand({ QueueUrl: r.QueueUrl })).catch(() => undefined);
      const url = r.QueueUrl ?? '';
      const i = url.lastIndexOf(`/${name}`);
      const withAccount = i > 0 ? url.slice(0, i) : `${sqsEndpoint}/000000000000`;
      return withAccount.replace(/\/[0-9]{12}$/, '');
    } finally {
      sqs.destroy();
    }
  }

  /** Template file the runtime uses (for messages). */
  static templateFile(cdkOut = 'cdk.out', stackName?: string): string {
    return findTemplateFile(path.resolve(cdkOut), stackName).file;
  }

  private wireServices(): void {
    const invokeOrThrow = (arn: string, payload: unknown) => this.runner.invokeOrThrow(arn, payload);
    this.opts.eventbridge?.setLambdaInvoker(async (arn, event) => {
      // EventBridge invokes Lambda targets asynchronously: a function error is retried by the bus, so throw.
      return invokeOrThrow(arn, event);
    });
    this.opts.stepfunctions?.setLambdaInvoker?.(invokeOrThrow);
  }

  /**
   * Serve each function URL on its own port (local/services/function-url.ts: the SigV4 signature is verified and the
   * caller's ARN put in the request context), and put the real URL where the template's outputs named it.
   */
  private async startFunctionUrls(): Promise<void> {
    for (const u of this.model.functionUrls) {
      if (u.authType !== 'AWS_IAM') throw new Error(`function url ${u.logicalId}: only AuthType AWS_IAM is served locally, got ${u.authType}`);
      const server = await startFunctionUrl({ region: this.model.region, invoke: (event) => this.runner.invokeOrThrow(u.functionArn, event) });
      this.urlServers.push(server);
      for (const [k, v] of Object.entries(this.model.outputs))
        if (v.includes(u.placeholder)) this.model.outputs[k] = v.split(u.placeholder).join(server.url);
      this.log(`function url ${u.logicalId} -> ${server.url} (AWS_IAM, SigV4 verified)`);
    }
  }

  queueUrlForArn(arn: string): string | undefined {
    return this.provisioned?.queueUrls[arn] ?? this.model.queues.find((q) => q.arn === arn)?.url;
  }

  private async startPollers(): Promise<void> {
    const send = sqsDestinationSender(this.clients.sqs, (arn) => this.queueUrlForArn(arn));
    const invoke = (fn: string, event: unknown) => this.runner.invoke(fn, event);
    const popts = {
      region: this.model.region,
      accountId: this.model.accountId,
      idlePollMs: this.opts.idlePollMs,
      flushWhenCaughtUp: this.opts.flushWhenCaughtUp,
      log: this.log,
    };
    for (const m of this.model.eventSourceMappings) {
      if (!m.enabled) continue;
      if (!this.runner.has(m.functionName)) {
        this.log(`event source mapping ${m.logicalId}: function ${m.functionName} is not in the template; skipped`);
        continue;
      }
      let p: Poller;
      if (m.kind === 'kinesis') p = new KinesisPoller(m, this.clients.kinesis, invoke, send, popts);
      else if (m.kind === 'dynamodb') {
        const table = this.model.tables.find((t) => t.logicalId === m.sourceLogicalId || t.streamArn === m.eventSourceArn);
        if (!table) throw new Error(`event source mapping ${m.logicalId}: no table for ${m.eventSourceArn}`);
        p = new DynamoDbStreamPoller(m, table.name, this.clients.dynamodb, this.clients.streams, invoke, send, popts);
      } else {
        const url = this.queueUrlForArn(m.eventSourceArn);
        if (!url) throw new Error(`event source mapping ${m.logicalId}: no queue for ${m.eventSourceArn}`);
        p = new SqsPoller(m, url, this.clients.sqs, invoke, send, popts);
      }
      await p.start();
      this.pollers.push(p);
      this.log(
        `esm ${m.logicalId}: ${m.kind} -> ${m.functionName} (batch ${m.batchSize}, window ${m.maximumBatchingWindowInSeconds}s${m.bisectBatchOnFunctionError ? ', bisect' : ''}${m.functionResponseTypes.length ? `, ${m.functionResponseTypes.join(',')}` : ''})`,
      );
    }
  }

  private registerSchedules(): void {
    const anchor = this.clock.now();
    for (const rule of this.model.rules) {
      if (!rule.scheduleExpression || !rule.enabled) continue;
      const spec = parseSchedule(rule.scheduleExpression, anchor);
      this.clock.add({ id: rule.logicalId, spec, fire: (t) => this.fireScheduledRule(rule, t) });
      this.log(`schedule ${rule.name}: ${rule.scheduleExpression} -> ${rule.targets.map((t) => t.arn).join(', ')}`);
    }
    for (const s of this.model.schedules) {
      if (!s.enabled) continue;
      const spec = parseSchedule(s.scheduleExpression, anchor);
      const target: RuleTargetModel = { id: s.logicalId, arn: s.target.arn, input: s.target.input };
      const pseudo: RuleModel = {
        logicalId: s.logicalId,
        name: s.name,
        arn: `arn:aws:scheduler:${this.model.region}:${this.model.accountId}:schedule/${s.groupName}/${s.name}`,
        eventBusName: 'default',
        enabled: true,
        targets: [target],
      };
      this.clock.add({ id: s.logicalId, spec, fire: (t) => this.fireScheduledRule(pseudo, t) });
    }
  }

  /** The event a schedule rule delivers at `timeMs` (an EventBridge "Scheduled Event"). */
  scheduledEvent(rule: RuleModel, timeMs: number): Record<string, unknown> {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.model.accountId,
      time: new Date(timeMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.model.region,
      resources: [rule.arn],
      detail: {},
    };
  }

  /** Fires a schedule rule's targets for the tick at `timeMs` and waits for them (Lambda targets synchronously). */
  async fireScheduledRule(rule: RuleModel, timeMs: number): Promise<void> {
    const event = this.scheduledEvent(rule, timeMs);
    for (const t of rule.targets) {
      let payload: unknown = event;
      if (t.input !== undefined) payload = JSON.parse(t.input);
      else if (t.inputPath)
        payload =
          t.inputPath === '$'
            ? event
            : t.inputPath
                .replace(/^\$\.?/, '')
                .split('.')
                .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], event);
      else if (t.inputTransformer) {
        const vals: Record<string, unknown> = {};
        for (const [k, p] of Object.entries(t.inputTransformer.inputPathsMap))
          vals[k] = p
            .replace(/^\$\.?/, '')
            .split('.')
            .reduce<unknown>((o, kk) => (o as Record<string, unknown> | undefined)?.[kk], event);
        const text = t.inputTransformer.inputTemplate.replace(/<([A-Za-z0-9_.-]+)>/g, (m, k: string) =>
          k in vals ? (typeof vals[k] === 'string' ? String(vals[k]) : JSON.stringify(vals[k])) : m,
        );
        try {
          payload = JSON.parse(text);
        } catch {
          payload = text;
        }
      }
      const service = parseArn(t.arn).service;
      try {
        if (service === 'lambda') {
          const r = await this.runner.invoke(t.arn, payload);
          if (!r.ok) {
            this.scheduleErrors++;
            this.log(`schedule ${rule.name} -> ${t.arn} failed: ${JSON.stringify(r.payload).slice(0, 300)}`);
          }
        } else if (service === 'states' && this.clients.sfn) {
          await this.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: t.arn, input: JSON.stringify(payload) }));
        } else if (service === 'sqs') {
          const url = this.queueUrlForArn(t.arn);
          if (url)
            await this.clients.sqs.send(
              new SendMessageCommand({ QueueUrl: url, MessageBody: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
            );
        } else this.log(`schedule ${rule.name}: target ${t.arn} not supported locally`);
      } catch (err) {
        this.scheduleErrors++;
        this.log(`schedule ${rule.name} -> ${t.arn} failed: ${(err as Error).message}`);
      }
    }
  }

  stats(): RuntimeStats {
    return {
      functions: this.runner.stats(),
      mappings: this.pollers.map((p) => ({ ...p.stats })),
      scheduleTicks: this.clock.fired,
      scheduleErrors: this.scheduleErrors,
    };
  }

  /** Max iterator age over the stream mappings, ms. */
  iteratorAgeMs(): number {
    return Math.max(0, ...this.pollers.filter((p) => p.mapping.kind !== 'sqs').map((p) => p.stats.iteratorAgeMs));
  }

  /**
   * Resolves once every stream mapping has read its shards to the end and no function is running, stable over
   * two consecutive checks (and the local EventBridge / Step Functions report idle, when they can).
   */
  async waitForQuiescence(timeoutMs = 60_000, stableChecks = 2): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const streamPollers = this.pollers.filter((p) => p.mapping.kind !== 'sqs');
    let stable = 0;
    // A check counts only once every shard has completed a poll after the previous check, so records put just
    // before the call are always seen.
    let snapshot = { read: this.pollers.reduce((s, p) => s + p.stats.recordsRead, 0), at: Date.now() };
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      if (streamPollers.some((p) => p.oldestPollAt() <= snapshot.at)) continue;
      const read = this.pollers.reduce((s, p) => s + p.stats.recordsRead, 0);
      const quiet = streamPollers.every((p) => p.stats.caughtUp) && this.runner.inFlight() === 0 && read === snapshot.read;
      stable = quiet ? stable + 1 : 0;
      snapshot = { read, at: Date.now() };
      if (stable >= stableChecks) {
        await this.opts.eventbridge?.idle?.();
        return true;
      }
    }
    return false;
  }

  async stop(): Promise<void> {
    this.opts.eventbridge?.setLambdaInvoker(undefined);
    this.opts.stepfunctions?.setLambdaInvoker?.(undefined);
    await Promise.all([...this.pollers.map((p) => p.stop()), ...this.urlServers.map((u) => u.stop())]);
    await this.runner.stop();
    for (const c of Object.values(this.clients)) c?.destroy();
  }
}
