/** The public types of the local EventBridge service, shared by its parts (see ../eventbridge.ts). */
import { LocalEndpoint } from '../aws-http';
import { EventPattern } from '../event-pattern';

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

/** What PutEvents answers: one entry per request entry, an EventId or an error. */
export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }>;
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
  subscribe(listener: (e: BusActivity) => void): () => void;
  /** Resolves when every delivery started so far has finished (use in tests before asserting on targets). */
  idle(): Promise<void>;
  /** Rules currently defined (for the runtime: e.g. to run ScheduleExpression rules). */
  rules(busName?: string): RuleDefinition[];
  /** Put events in-process, bypassing HTTP (same validation and delivery as PutEvents). */
  putEvents(entries: PutEventsEntry[]): PutEventsResult;
  /** Deliver a synthetic event to one rule's targets (e.g. a scheduled rule firing). */
  fireRule(ruleName: string, busName?: string, event?: Partial<EventEnvelope>): void;
}

/** What `subscribe` listeners receive. */
export type BusActivity = { kind: 'event'; record: BusEventRecord } | { kind: 'delivery'; record: DeliveryRecord };
