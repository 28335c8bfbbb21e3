/**
 * A local Amazon EventBridge endpoint (AWS JSON 1.1, `X-Amz-Target: AWSEvents.<Operation>`), so the real
 * `@aws-sdk/client-eventbridge` works against it via `endpoint` or `AWS_ENDPOINT_URL_EVENTBRIDGE`.
 *
 * EventBridge has no maintained emulator on npm, so this is hand-written. It implements event buses, rules with
 * event patterns (./event-pattern.ts), targets, and delivery:
 * - SQS queue ARN -> SendMessage to the local SQS emulator (real `@aws-sdk/client-sqs`; queue resolved by name),
 * - Lambda function ARN -> the `invokeLambda` callback the local runtime registers,
 * - Step Functions state machine ARN -> StartExecution on the local Step Functions endpoint,
 * - event bus ARN -> PutEvents onto that local bus.
 * Delivery is asynchronous (after PutEvents returns, as in AWS) with a few retries; every delivery attempt is
 * recorded in memory per rule (`delivered()`), and every accepted event per bus (`events()`), for tests and
 * `distill-guard events tail`. `GET /_local/events?bus=NAME&after=SEQ` exposes the bus log to other processes.
 *
 * Failure injection for tests: `injectFailures({ count })` fails the next N otherwise-valid entries of PutEvents
 * (partial failure, per-entry ErrorCode, FailedEntryCount), `injectFailures({ predicate })` fails matching
 * entries, and `failNextRequests(n)` makes whole PutEvents calls fail with a 500 (total failure).
 *
 * Not emulated: IAM / resource policies (the endpoint only checks a SigV4 header is present), schedules (the
 * local runtime runs ScheduleExpression rules itself), archives and replays, API destinations, input
 * transformers beyond `InputPathsMap` + `InputTemplate`, DLQs on targets.
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import { SQSClient, GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { AwsServiceError, jsonProtocolHandler, listen, LocalEndpoint, LOCAL_ACCOUNT_ID, optionalString, requireString } from './aws-http';
import { EventPattern, InvalidEventPatternError, matchesEventPattern, parseEventPattern } from './event-pattern';
import { localClientConfig } from './clients';

/** The envelope EventBridge delivers to targets. */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** A PutEvents request entry as it arrives on the wire. */
export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  EventBusName?: string;
  Time?: number | string;
  TraceHeader?: string;
}

export interface TargetDefinition {
  Id: string;
  Arn: string;
  Input?: string;
  InputPath?: string;
  InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string };
  SqsParameters?: { MessageGroupId?: string };
  RoleArn?: string;
  [other: string]: unknown;
}

export interface RuleDefinition {
  Name: string;
  Arn: string;
  EventBusName: string;
  EventPattern?: string;
  ScheduleExpression?: string;
  State: 'ENABLED' | 'DISABLED' | 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
  Description?: string;
  RoleArn?: string;
  targets: Map<string, TargetDefinition>;
  pattern?: EventPattern;
}

/** One delivery of an event to one rule target. */
export interface DeliveryRecord {
  readonly seq: number;
  readonly busName: string;
  readonly ruleName: string;
  readonly targetId: string;
  readonly targetArn: string;
  readonly event: EventEnvelope;
  /** What the target received (after Input / InputPath / InputTransformer). */
  readonly payload: unknown;
  readonly ok: boolean;
  readonly attempts: number;
  readonly error?: string;
  readonly at: string;
}

/** An event accepted onto a bus. */
export interface BusEventRecord {
  readonly seq: number;
  readonly busName: string;
  readonly event: EventEnvelope;
  /** Names of the rules it matched. */
  readonly matchedRules: string[];
}

export interface FailureInjection {
  /** Fail this many of the next otherwise-valid entries. */
  readonly count?: number;
  /** Fail entries for which this returns true (each call counts against `count` when both are given). */
  readonly predicate?: (entry: PutEventsEntry, index: number) => boolean;
  /** @default 'InternalFailure' */
  readonly errorCode?: string;
  /** @default 'injected failure (local test hook)' */
  readonly errorMessage?: string;
}

export type LambdaTargetInvoker = (functionArn: string, event: unknown, ctx: { rule: string; bus: string; targetId: string }) => Promise<unknown>;

export interface LocalEventBridgeOptions {
  /** @default a free port */
  readonly port?: number;
  /** @default process.env.AWS_REGION ?? 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** Endpoint of the SQS emulator, for SQS targets. @default AWS_ENDPOINT_URL_SQS from the environment */
  readonly sqsEndpoint?: string;
  /** Endpoint of the local Step Functions, for state machine targets. @default AWS_ENDPOINT_URL_SFN */
  readonly sfnEndpoint?: string;
  /** Called for Lambda function targets; the runtime registers it (also settable later with `setLambdaInvoker`). */
  readonly invokeLambda?: LambdaTargetInvoker;
  /** Delivery attempts per target before the failure is recorded. @default 3 */
  readonly deliveryAttempts?: number;
  /** Keep at most this many bus events and deliveries in memory. @default 10000 */
  readonly historyLimit?: number;
}

export interface LocalEventBridge extends LocalEndpoint {
  /** Register the Lambda target invoker (the local runtime does this once functions are loaded). */
  setLambdaInvoker(invoker: LambdaTargetInvoker | undefined): void;
  /** Partial failures: fail upcoming PutEvents entries (see FailureInjection). Replaces any previous injection. */
  injectFailures(injection: FailureInjection): void;
  /** Total failures: the next `n` PutEvents calls fail whole with HTTP 500 `errorCode`. */
  failNextRequests(n: number, errorCode?: string): void;
  clearFailures(): void;
  /** Deliveries, optionally only for one rule (and bus). */
  delivered(ruleName?: string, busName?: string): DeliveryRecord[];
  /** Events accepted onto a bus (all buses when omitted), oldest first, with seq > `afterSeq`. */
  events(busName?: string, afterSeq?: number): BusEventRecord[];
  /** Subscribe to accepted events and deliveries (for a live tail). Returns an unsubscribe function. */
  subscribe(listener: (e: { kind: 'event'; record: BusEventRecord } | { kind: 'delivery'; record: DeliveryRecord }) => void): () => void;
  /** Resolves when every delivery started so far has finished (use in tests before asserting on targets). */
  idle(): Promise<void>;
  /** Rules currently defined (for the runtime: e.g. to run ScheduleExpression rules). */
  rules(busName?: string): RuleDefinition[];
  /** Put events in-process, bypassing HTTP (same validation and delivery as PutEvents). */
  putEvents(entries: PutEventsEntry[]): { FailedEntryCount: number; Entries: Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }> };
  /** Deliver a synthetic event to one rule's targets (e.g. a scheduled rule firing). */
  fireRule(ruleName: string, busName?: string, event?: Partial<EventEnvelope>): void;
}

const MAX_ENTRY_BYTES = 256 * 1024;

function busNameOf(nameOrArn: string | undefined): string {
  if (!nameOrArn) return 'default';
  const m = /^arn:aws[\w-]*:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(nameOrArn);
  return m ? m[1] : nameOrArn;
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Minimal JSONPath for InputPath / InputPathsMap: `$`, `$.a.b`, `$.a[0]`, `$['a-b']`. */
export function simpleJsonPath(obj: unknown, path: string): unknown {
  if (path === '$') return obj;
  if (!path.startsWith('$')) throw new Error(`unsupported json path ${JSON.stringify(path)}`);
  const tokens: Array<string | number> = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]|\['([^']+)'\]|\["([^"]+)"\]/g;
  let m: RegExpExecArray | null;
  let consumed = 1;
  while ((m = re.exec(path))) {
    if (m.index !== consumed) throw new Error(`unsupported json path ${JSON.stringify(path)}`);
    consumed = m.index + m[0].length;
    tokens.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (m[3] ?? m[4])));
  }
  if (consumed !== path.length) throw new Error(`unsupported json path ${JSON.stringify(path)}`);
  let cur: unknown = obj;
  for (const t of tokens) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[t];
  }
  return cur;
}

function transformInput(target: TargetDefinition, event: EventEnvelope): { payload: unknown; body: string } {
  if (target.Input !== undefined) return { payload: JSON.parse(target.Input), body: target.Input };
  if (target.InputPath) {
    const v = simpleJsonPath(event, target.InputPath);
    return { payload: v, body: JSON.stringify(v) };
  }
  if (target.InputTransformer) {
    const vars: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(target.InputTransformer.InputPathsMap ?? {})) vars[k] = simpleJsonPath(event, p);
    const tpl = target.InputTransformer.InputTemplate;
    // In a JSON template a placeholder inside quotes takes the raw string, outside quotes the JSON value.
    const body = tpl.replace(/(")?<([\w.-]+)>(")?/g, (all, q1: string | undefined, name: string, q2: string | undefined) => {
      if (name === 'aws.events.event.json') return JSON.stringify(event);
      if (!(name in vars)) return all;
      const v = vars[name];
      if (q1 && q2) return JSON.stringify(typeof v === 'string' ? v : JSON.stringify(v ?? null));
      return (q1 ?? '') + (typeof v === 'string' ? v : JSON.stringify(v ?? null)) + (q2 ?? '');
    });
    let payload: unknown = body;
    try {
      payload = JSON.parse(body);
    } catch {
      /* a plain-text template */
    }
    return { payload, body };
  }
  return { payload: event, body: JSON.stringify(event) };
}

/** Start the local EventBridge endpoint. */
export async function startEventBridge(opts: LocalEventBridgeOptions = {}): Promise<LocalEventBridge> {
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const account = opts.accountId ?? LOCAL_ACCOUNT_ID;
  const attemptsMax = opts.deliveryAttempts ?? 3;
  const historyLimit = opts.historyLimit ?? 10000;
  const busArn = (name: string) => `arn:aws:events:${region}:${account}:event-bus/${name}`;
  const ruleArn = (bus: string, name: string) => `arn:aws:events:${region}:${account}:rule/${bus === 'default' ? '' : `${bus}/`}${name}`;

  const buses = new Map<
    string,
    { Name: string; Arn: string; Description?: string; Policy?: string; CreationTime: number; KmsKeyIdentifier?: string }
  >();
  buses.set('default', { Name: 'default', Arn: busArn('default'), CreationTime: Date.now() / 1000 });
  const rules = new Map<string, RuleDefinition>(); // key `${bus}\u0000${name}`
  const key = (bus: string, name: string) => `${bus}\u0000${name}`;

  let seq = 0;
  const busLog: BusEventRecord[] = [];
  const deliveries: DeliveryRecord[] = [];
  const listeners = new Set<Parameters<LocalEventBridge['subscribe']>[0]>();
  const pending = new Set<Promise<void>>();
  let lambdaInvoker = opts.invokeLambda;
  let injection: (FailureInjection & { remaining?: number }) | undefined;
  let failRequests = 0;
  let failRequestsCode = 'InternalException';

  let sqs: SQSClient | undefined;
  let sfn: SFNClient | undefined;
  const queueUrls = new Map<string, string>();
  const sqsClient = () => (sqs ??= new SQSClient(localClientConfig('sqs', opts.sqsEndpoint)));
  const sfnClient = () => (sfn ??= new SFNClient(localClientConfig('sfn', opts.sfnEndpoint)));

  const emit = (e: Parameters<Parameters<LocalEventBridge['subscribe']>[0]>[0]) => {
    for (const l of listeners) {
      try {
        l(e);
      } catch {
        /* a listener's bug must not break delivery */
      }
    }
  };
  const trim = <T>(arr: T[]) => {
    if (arr.length > historyLimit) arr.splice(0, arr.length - historyLimit);
  };

  const getRule = (busRaw: unknown, nameRaw: unknown): RuleDefinition => {
    const bus = busNameOf(busRaw as string | undefined);
    const r = rules.get(key(bus, String(nameRaw)));
    if (!r) throw new AwsServiceError('ResourceNotFoundException', `Rule ${String(nameRaw)} does not exist on EventBus ${bus}.`);
    return r;
  };
  const requireBus = (busRaw: unknown): string => {
    const bus = busNameOf(busRaw as string | undefined);
    if (!buses.has(bus)) throw new AwsServiceError('ResourceNotFoundException', `Event bus ${bus} does not exist.`);
    return bus;
  };

  async function deliverToTarget(target: TargetDefinition, event: EventEnvelope, bus: string, rule: string): Promise<unknown> {
    const { payload, body } = transformInput(target, event);
    const arn = target.Arn;
    const parts = arn.split(':');
    const service = parts[2];
    if (service === 'sqs') {
      const queueName = parts[5];
      let url = queueUrls.get(queueName);
      if (!url) {
        url = (await sqsClient().send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl!;
        queueUrls.set(queueName, url);
      }
      await sqsClient().send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: body,
          ...(target.SqsParameters?.MessageGroupId ? { MessageGroupId: target.SqsParameters.MessageGroupId, MessageDeduplicationId: event.id } : {}),
        }),
      );
    } else if (service === 'lambda') {
      if (!lambdaInvoker) throw new Error(`no local lambda invoker registered for target ${arn}`);
      await lambdaInvoker(arn, payload, { rule, bus, targetId: target.Id });
    } else if (service === 'states') {
      await sfnClient().send(new StartExecutionCommand({ stateMachineArn: arn, input: body }));
    } else if (service === 'events' && parts[5]?.startsWith('event-bus/')) {
      const res = accept(
        [
          {
            Source: event.source,
            DetailType: event['detail-type'],
            Detail: JSON.stringify(event.detail),
            Resources: event.resources,
            EventBusName: arn,
          },
        ],
        false,
      );
      if (res.FailedEntryCount) throw new Error(`forwarding to ${arn} failed: ${res.Entries[0].ErrorMessage}`);
    } else {
      throw new Error(`target type of ${arn} is not emulated locally`);
    }
    return payload;
  }

  function deliver(rule: RuleDefinition, event: EventEnvelope): void {
    for (const target of rule.targets.values()) {
      const p = (async () => {
        let attempts = 0;
        let error: string | undefined;
        let payload: unknown;
        while (attempts < attemptsMax) {
          attempts++;
          try {
            payload = await deliverToTarget(target, event, rule.EventBusName, rule.Name);
            error = undefined;
            break;
          } catch (err) {
            error = String((err as Error)?.message ?? err);
            if (attempts < attemptsMax) await new Promise((r) => setTimeout(r, 50 * attempts));
          }
        }
        const record: DeliveryRecord = {
          seq: ++seq,
          busName: rule.EventBusName,
          ruleName: rule.Name,
          targetId: target.Id,
          targetArn: target.Arn,
          event,
          payload,
          ok: error === undefined,
          attempts,
          ...(error !== undefined ? { error } : {}),
          at: new Date().toISOString(),
        };
        deliveries.push(record);
        trim(deliveries);
        emit({ kind: 'delivery', record });
      })();
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
  }

  function route(bus: string, event: EventEnvelope): string[] {
    const matched: string[] = [];
    for (const rule of rules.values()) {
      if (rule.EventBusName !== bus || rule.State === 'DISABLED' || !rule.pattern) continue;
      if (matchesEventPattern(rule.pattern, event)) {
        matched.push(rule.Name);
        deliver(rule, event);
      }
    }
    return matched;
  }

  function validateEntry(e: PutEventsEntry): { code: string; message: string } | { bus: string; detail: Record<string, unknown> } {
    if (!e || typeof e !== 'object') return { code: 'InvalidArgument', message: 'entry must be an object' };
    const size = Buffer.byteLength(JSON.stringify(e));
    if (size > MAX_ENTRY_BYTES) return { code: 'InvalidArgument', message: `entry is ${size} bytes, larger than the 256 KB limit` };
    if (typeof e.Source !== 'string' || !e.Source)
      return { code: 'InvalidArgument', message: 'Parameter Source is not valid. Reason: Source is a required argument.' };
    if (e.Source.startsWith('aws.'))
      return { code: 'InvalidArgument', message: `Parameter Source is not valid. Reason: source ${e.Source} is reserved for aws services.` };
    if (typeof e.DetailType !== 'string' || !e.DetailType)
      return { code: 'InvalidArgument', message: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.' };
    if (typeof e.Detail !== 'string' || !e.Detail)
      return { code: 'InvalidArgument', message: 'Parameter Detail is not valid. Reason: Detail is a required argument.' };
    let detail: unknown;
    try {
      detail = JSON.parse(e.Detail);
    } catch {
      return { code: 'MalformedDetail', message: 'Detail is malformed.' };
    }
    if (!detail || typeof detail !== 'object' || Array.isArray(detail))
      return { code: 'MalformedDetail', message: 'Detail is malformed: it must be a json object.' };
    if (e.Resources !== undefined && (!Array.isArray(e.Resources) || e.Resources.some((r) => typeof r !== 'string'))) {
      return { code: 'InvalidArgument', message: 'Parameter Resources is not valid: must be a list of strings.' };
    }
    const bus = busNameOf(e.EventBusName);
    if (!buses.has(bus)) return { code: 'ResourceNotFoundException', message: `Event bus ${bus} does not exist.` };
    return { bus, detail: detail as Record<string, unknown> };
  }

  function accept(entries: PutEventsEntry[], injectable: boolean): ReturnType<LocalEventBridge['putEvents']> {
    const out: ReturnType<LocalEventBridge['putEvents']>['Entries'] = [];
    let failed = 0;
    entries.forEach((e, i) => {
      const v = validateEntry(e);
      if ('code' in v) {
        failed++;
        out.push({ ErrorCode: v.code, ErrorMessage: v.message });
        return;
      }
      if (injectable && injection) {
        const byPredicate = injection.predicate ? injection.predicate(e, i) : true;
        const budget = injection.remaining === undefined || injection.remaining > 0;
        if (byPredicate && budget) {
          if (injection.remaining !== undefined) injection.remaining--;
          failed++;
          out.push({
            ErrorCode: injection.errorCode ?? 'InternalFailure',
            ErrorMessage: injection.errorMessage ?? 'injected failure (local test hook)',
          });
          if (injection.remaining === 0) injection = undefined;
          return;
        }
      }
      const t = e.Time === undefined ? new Date() : new Date(typeof e.Time === 'number' ? e.Time * 1000 : e.Time);
      const event: EventEnvelope = {
        version: '0',
        id: randomUUID(),
        'detail-type': e.DetailType!,
        source: e.Source!,
        account,
        time: isoSeconds(Number.isNaN(t.getTime()) ? new Date() : t),
        region,
        resources: e.Resources ?? [],
        detail: v.detail,
      };
      const matchedRules = route(v.bus, event);
      const record: BusEventRecord = { seq: ++seq, busName: v.bus, event, matchedRules };
      busLog.push(record);
      trim(busLog);
      emit({ kind: 'event', record });
      out.push({ EventId: event.id });
    });
    return { FailedEntryCount: failed, Entries: out };
  }

  const operations = {
    CreateEventBus: (input: Record<string, unknown>) => {
      const name = requireString(input, 'Name');
      if (name === 'default' || buses.has(name)) throw new AwsServiceError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`);
      if (!/^[/.\-_A-Za-z0-9]{1,256}$/.test(name)) throw new AwsServiceError('ValidationException', `invalid event bus name ${JSON.stringify(name)}`);
      buses.set(name, {
        Name: name,
        Arn: busArn(name),
        Description: optionalString(input, 'Description'),
        KmsKeyIdentifier: optionalString(input, 'KmsKeyIdentifier'),
        CreationTime: Date.now() / 1000,
      });
      return { EventBusArn: busArn(name) };
    },
    DescribeEventBus: (input: Record<string, unknown>) => {
      const bus = requireBus(input.Name);
      const b = buses.get(bus)!;
      return {
        Name: b.Name,
        Arn: b.Arn,
        Description: b.Description,
        Policy: b.Policy,
        KmsKeyIdentifier: b.KmsKeyIdentifier,
        CreationTime: b.CreationTime,
        LastModifiedTime: b.CreationTime,
      };
    },
    ListEventBuses: (input: Record<string, unknown>) => {
      const prefix = optionalString(input, 'NamePrefix') ?? '';
      return {
        EventBuses: [...buses.values()]
          .filter((b) => b.Name.startsWith(prefix))
          .map((b) => ({ Name: b.Name, Arn: b.Arn, CreationTime: b.CreationTime })),
      };
    },
    DeleteEventBus: (input: Record<string, unknown>) => {
      const name = requireString(input, 'Name');
      if (name === 'default') throw new AwsServiceError('ValidationException', 'cannot delete event bus default.');
      buses.delete(name);
      for (const [k, r] of rules) if (r.EventBusName === name) rules.delete(k);
      return {};
    },
    PutPermission: (input: Record<string, unknown>) => {
      const bus = requireBus(input.EventBusName);
      if (typeof input.Policy === 'string') buses.get(bus)!.Policy = input.Policy;
      return {};
    },
    PutEvents: (input: Record<string, unknown>) => {
      if (failRequests > 0) {
        failRequests--;
        throw new AwsServiceError(failRequestsCode, 'injected request failure (local test hook)', 500);
      }
      const entries = input.Entries;
      if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
        throw new AwsServiceError(
          'ValidationException',
          `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10, got ${Array.isArray(entries) ? entries.length : JSON.stringify(entries)}`,
        );
      }
      const total = Buffer.byteLength(JSON.stringify(entries));
      if (total > MAX_ENTRY_BYTES)
        throw new AwsServiceError('ValidationException', `total size of the entries is ${total} bytes, larger than the 256 KB limit`);
      return accept(entries as PutEventsEntry[], true);
    },
    PutRule: (input: Record<string, unknown>) => {
      const name = requireString(input, 'Name');
      const bus = requireBus(input.EventBusName);
      const eventPattern = optionalString(input, 'EventPattern');
      const schedule = optionalString(input, 'ScheduleExpression');
      if (!eventPattern && !schedule)
        throw new AwsServiceError('ValidationException', 'Parameter(s) EventPattern or ScheduleExpression must be specified.');
      let pattern: EventPattern | undefined;
      if (eventPattern) {
        try {
          pattern = parseEventPattern(eventPattern);
        } catch (err) {
          if (err instanceof InvalidEventPatternError)
            throw new AwsServiceError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${err.message}`);
          throw err;
        }
      }
      const state = (optionalString(input, 'State') ?? 'ENABLED') as RuleDefinition['State'];
      if (!['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS'].includes(state))
        throw new AwsServiceError('ValidationException', `invalid State ${JSON.stringify(state)}`);
      const existing = rules.get(key(bus, name));
      const rule: RuleDefinition = {
        Name: name,
        Arn: ruleArn(bus, name),
        EventBusName: bus,
        EventPattern: eventPattern,
        ScheduleExpression: schedule,
        State: state,
        Description: optionalString(input, 'Description'),
        RoleArn: optionalString(input, 'RoleArn'),
        targets: existing?.targets ?? new Map(),
        pattern,
      };
      rules.set(key(bus, name), rule);
      return { RuleArn: rule.Arn };
    },
    DescribeRule: (input: Record<string, unknown>) => {
      const r = getRule(input.EventBusName, requireString(input, 'Name'));
      return {
        Name: r.Name,
        Arn: r.Arn,
        EventPattern: r.EventPattern,
        ScheduleExpression: r.ScheduleExpression,
        State: r.State,
        Description: r.Description,
        RoleArn: r.RoleArn,
        EventBusName: r.EventBusName,
      };
    },
    ListRules: (input: Record<string, unknown>) => {
      const bus = requireBus(input.EventBusName);
      const prefix = optionalString(input, 'NamePrefix') ?? '';
      return {
        Rules: [...rules.values()]
          .filter((r) => r.EventBusName === bus && r.Name.startsWith(prefix))
          .map((r) => ({
            Name: r.Name,
            Arn: r.Arn,
            EventPattern: r.EventPattern,
            ScheduleExpression: r.ScheduleExpression,
            State: r.State,
            Description: r.Description,
            EventBusName: r.EventBusName,
          })),
      };
    },
    EnableRule: (input: Record<string, unknown>) => {
      getRule(input.EventBusName, requireString(input, 'Name')).State = 'ENABLED';
      return {};
    },
    DisableRule: (input: Record<string, unknown>) => {
      getRule(input.EventBusName, requireString(input, 'Name')).State = 'DISABLED';
      return {};
    },
    DeleteRule: (input: Record<string, unknown>) => {
      const bus = busNameOf(input.EventBusName as string | undefined);
      const name = requireString(input, 'Name');
      const r = rules.get(key(bus, name));
      if (r && r.targets.size > 0 && !input.Force) throw new AwsServiceError('ValidationException', `Rule can't be deleted since it has targets.`);
      rules.delete(key(bus, name));
      return {};
    },
    PutTargets: (input: Record<string, unknown>) => {
      const r = getRule(input.EventBusName, requireString(input, 'Rule'));
      const targets = input.Targets;
      if (!Array.isArray(targets) || targets.length < 1 || targets.length > 10)
        throw new AwsServiceError('ValidationException', `Targets must hold 1 to 10 targets, got ${JSON.stringify(targets)?.slice(0, 80)}`);
      const failed: Array<{ TargetId?: string; ErrorCode: string; ErrorMessage: string }> = [];
      for (const t of targets as TargetDefinition[]) {
        if (!t || typeof t.Id !== 'string' || typeof t.Arn !== 'string' || !t.Arn.startsWith('arn:')) {
          failed.push({ TargetId: t?.Id, ErrorCode: 'ValidationException', ErrorMessage: `target needs an Id and an Arn, got ${JSON.stringify(t)}` });
          continue;
        }
        if (t.Input !== undefined) {
          try {
            JSON.parse(t.Input);
          } catch {
            failed.push({ TargetId: t.Id, ErrorCode: 'ValidationException', ErrorMessage: `Input is not valid json: ${t.Input}` });
            continue;
          }
        }
        if (!r.targets.has(t.Id) && r.targets.size >= 5) {
          failed.push({ TargetId: t.Id, ErrorCode: 'LimitExceededException', ErrorMessage: 'a rule can have at most 5 targets' });
          continue;
        }
        r.targets.set(t.Id, { ...t });
      }
      return { FailedEntryCount: failed.length, FailedEntries: failed };
    },
    ListTargetsByRule: (input: Record<string, unknown>) => {
      const r = getRule(input.EventBusName, requireString(input, 'Rule'));
      return { Targets: [...r.targets.values()] };
    },
    RemoveTargets: (input: Record<string, unknown>) => {
      const r = getRule(input.EventBusName, requireString(input, 'Rule'));
      const ids = Array.isArray(input.Ids) ? (input.Ids as string[]) : [];
      const failed: Array<{ TargetId: string; ErrorCode: string; ErrorMessage: string }> = [];
      for (const id of ids) {
        if (!r.targets.delete(id))
          failed.push({ TargetId: id, ErrorCode: 'ResourceNotFoundException', ErrorMessage: `target ${id} not found on rule ${r.Name}` });
      }
      return { FailedEntryCount: failed.length, FailedEntries: failed };
    },
    ListRuleNamesByTarget: (input: Record<string, unknown>) => {
      const arn = requireString(input, 'TargetArn');
      const bus = busNameOf(input.EventBusName as string | undefined);
      return {
        RuleNames: [...rules.values()].filter((r) => r.EventBusName === bus && [...r.targets.values()].some((t) => t.Arn === arn)).map((r) => r.Name),
      };
    },
    TestEventPattern: (input: Record<string, unknown>) => {
      const pattern = requireString(input, 'EventPattern');
      const event = requireString(input, 'Event');
      try {
        return { Result: matchesEventPattern(parseEventPattern(pattern), JSON.parse(event)) };
      } catch (err) {
        if (err instanceof InvalidEventPatternError)
          throw new AwsServiceError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${err.message}`);
        throw new AwsServiceError('ValidationException', `event is not valid json`);
      }
    },
  };

  const awsHandler = jsonProtocolHandler({ targetPrefix: 'AWSEvents', jsonVersion: '1.1', operations });
  const handler: http.RequestListener = (req, res) => {
    // Non-AWS read-only helper for `distill-guard events tail` in another process.
    if (req.method === 'GET' && req.url?.startsWith('/_local/events')) {
      const u = new URL(req.url, 'http://local');
      const bus = u.searchParams.get('bus') ?? undefined;
      const after = Number(u.searchParams.get('after') ?? '0');
      const body = JSON.stringify({
        events: api.events(bus, after),
        deliveries: deliveries.filter((d) => d.seq > after && (!bus || d.busName === busNameOf(bus))),
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    awsHandler(req, res);
  };
  const ep = await listen(handler, opts.port ?? 0);

  const api: LocalEventBridge = {
    endpoint: ep.endpoint,
    port: ep.port,
    stop: async () => {
      await Promise.allSettled([...pending]);
      sqs?.destroy();
      sfn?.destroy();
      await ep.stop();
    },
    setLambdaInvoker: (inv) => {
      lambdaInvoker = inv;
    },
    injectFailures: (inj) => {
      injection = { ...inj, remaining: inj.count };
    },
    failNextRequests: (n, code = 'InternalException') => {
      failRequests = n;
      failRequestsCode = code;
    },
    clearFailures: () => {
      injection = undefined;
      failRequests = 0;
    },
    delivered: (ruleName, busName) =>
      deliveries.filter((d) => (!ruleName || d.ruleName === ruleName) && (!busName || d.busName === busNameOf(busName))),
    events: (busName, afterSeq = 0) => busLog.filter((e) => e.seq > afterSeq && (!busName || e.busName === busNameOf(busName))),
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    idle: async () => {
      while (pending.size) await Promise.allSettled([...pending]);
    },
    rules: (busName) => [...rules.values()].filter((r) => !busName || r.EventBusName === busNameOf(busName)),
    putEvents: (entries) => accept(entries, true),
    fireRule: (ruleName, busName, partial = {}) => {
      const rule = rules.get(key(busNameOf(busName), ruleName));
      if (!rule) throw new Error(`rule ${ruleName} not found on bus ${busNameOf(busName)}`);
      deliver(rule, {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account,
        time: isoSeconds(new Date()),
        region,
        resources: [rule.Arn],
        detail: {},
        ...partial,
      });
    },
  };
  return api;
}
