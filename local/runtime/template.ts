/**
 * Reads a synthesized CloudFormation template (plus the cdk.out asset layout) and turns it into the local model
 * the runtime needs: every table, stream, queue, bus, rule, function, event source mapping, state machine and
 * schedule, with intrinsic functions resolved to LOCAL physical names and ARNs.
 *
 * Hand-written: no library resolves CloudFormation intrinsics to local names (cfn-resolver-lib and friends target
 * deployed stacks). Physical names are deterministic from the logical id so that two runs of the same template
 * name everything identically, unless the template gives an explicit name (TableName, QueueName, ...).
 */
import * as fs from 'fs';
import * as path from 'path';

export type CfnValue = unknown;

export interface CfnResource {
  Type: string;
  Properties?: Record<string, CfnValue>;
  Metadata?: Record<string, CfnValue>;
  DependsOn?: string | string[];
  Condition?: string;
}

export interface CfnTemplate {
  Parameters?: Record<string, { Type: string; Default?: unknown }>;
  Conditions?: Record<string, CfnValue>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: CfnValue; Export?: unknown; Description?: string }>;
}

/** Where the local account lives. */
export interface LocalEnvironment {
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** @default 'aws' */
  readonly partition?: string;
  /**
   * The SQS endpoint queue URLs are built on (`<endpoint>/<account>/<name>`). Set it once the SQS emulator runs.
   * @default 'http://127.0.0.1:9324'
   */
  readonly sqsEndpoint?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------------------------

export interface KeyAttr {
  name: string;
  type: 'S' | 'N' | 'B';
}

export interface TableModel {
  logicalId: string;
  name: string;
  arn: string;
  partitionKey: KeyAttr;
  sortKey?: KeyAttr;
  /** Every attribute definition, as the template declares them. */
  attributeDefinitions: KeyAttr[];
  globalSecondaryIndexes: Array<{
    name: string;
    partitionKey: KeyAttr;
    sortKey?: KeyAttr;
    projectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
    nonKeyAttributes?: string[];
  }>;
  localSecondaryIndexes: Array<{
    name: string;
    sortKey: KeyAttr;
    projectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
    nonKeyAttributes?: string[];
  }>;
  ttlAttribute?: string;
  streamViewType?: 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY';
  /** A deterministic stand-in for the stream ARN until the emulator reports the real one. */
  streamArn?: string;
}

export interface KinesisStreamModel {
  logicalId: string;
  name: string;
  arn: string;
  /** Provisioned shard count, or undefined for on-demand (the runtime then picks a local default). */
  shardCount?: number;
  onDemand: boolean;
  retentionHours?: number;
}

export interface QueueModel {
  logicalId: string;
  name: string;
  arn: string;
  url: string;
  fifo: boolean;
  visibilityTimeout?: number;
  messageRetentionPeriod?: number;
  redrive?: { deadLetterTargetArn: string; maxReceiveCount: number };
}

export interface EventBusModel {
  logicalId: string;
  name: string;
  arn: string;
}

export interface InputTransformerModel {
  inputPathsMap: Record<string, string>;
  inputTemplate: string;
}

export interface RuleTargetModel {
  id: string;
  arn: string;
  input?: string;
  inputPath?: string;
  inputTransformer?: InputTransformerModel;
  deadLetterArn?: string;
  retryPolicy?: { maximumRetryAttempts?: number; maximumEventAgeInSeconds?: number };
  sqsMessageGroupId?: string;
}

export interface RuleModel {
  logicalId: string;
  name: string;
  arn: string;
  /** Bus NAME (default bus when the template names none). */
  eventBusName: string;
  eventPattern?: Record<string, unknown>;
  scheduleExpression?: string;
  enabled: boolean;
  targets: RuleTargetModel[];
}

export interface FunctionModel {
  logicalId: string;
  name: string;
  arn: string;
  /** `index.handler` */
  handler: string;
  runtime?: string;
  /** Absolute path of the bundle directory (cdk.out/asset.<hash>), when one exists. */
  codeDir?: string;
  /** Inline code (`Code.ZipFile`), when the template carries it. */
  inlineCode?: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
  architecture?: string;
  reservedConcurrency?: number;
  deadLetterArn?: string;
}

export type EventSourceKind = 'kinesis' | 'dynamodb' | 'sqs';

export interface EventSourceMappingModel {
  logicalId: string;
  uuid: string;
  kind: EventSourceKind;
  eventSourceArn: string;
  /** The logical id of the stream / table / queue the mapping reads, when it is in this template. */
  sourceLogicalId?: string;
  functionLogicalId?: string;
  functionName: string;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  bisectBatchOnFunctionError: boolean;
  /** -1 = infinite (the AWS default for streams) */
  maximumRetryAttempts: number;
  /** -1 = infinite */
  maximumRecordAgeInSeconds: number;
  functionResponseTypes: string[];
  onFailureDestinationArn?: string;
  filterPatterns: Array<Record<string, unknown>>;
  startingPosition?: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
  startingPositionTimestamp?: number;
  parallelizationFactor: number;
  tumblingWindowInSeconds?: number;
  enabled: boolean;
  maximumConcurrency?: number;
}

export interface StateMachineModel {
  logicalId: string;
  name: string;
  arn: string;
  type: 'STANDARD' | 'EXPRESS';
  /** The ASL definition with every substitution resolved. */
  definition: Record<string, unknown>;
  definitionString: string;
  roleArn?: string;
}

export interface ScheduleModel {
  logicalId: string;
  name: string;
  groupName: string;
  scheduleExpression: string;
  enabled: boolean;
  target: { arn: string; input?: string; roleArn?: string };
}

export interface ApiKeyModel {
  logicalId: string;
  id: string;
  name: string;
  enabled: boolean;
  value?: string;
}

/** An API Gateway usage plan (the local API Gateway records it and which keys are on it; no throttling). */
export interface UsagePlanModel {
  logicalId: string;
  /** The local physical id (what `Ref` returns), given to the local plan as its id. */
  id: string;
  name: string;
  throttle?: { rateLimit?: number; burstLimit?: number };
}

/** A key on a usage plan (`AWS::ApiGateway::UsagePlanKey`); `keyId` is the key's local physical id. */
export interface UsagePlanKeyModel {
  logicalId: string;
  planId: string;
  keyId: string;
}

/** An S3 bucket (`AWS::S3::Bucket`): created empty in the S3 emulator; policies, encryption and versioning are not emulated. */
export interface BucketModel {
  logicalId: string;
  name: string;
  arn: string;
  /** `VersioningConfiguration.Status` is `Enabled` in the template. */
  versioned: boolean;
}

/** A Secrets Manager secret; its value is generated at provisioning when the template asks for one. */
export interface SecretModel {
  logicalId: string;
  name: string;
  arn: string;
  /** A fixed value (`SecretString`). */
  secretString?: string;
  /** `GenerateSecretString` of the template (length and excluded characters). */
  generate?: { passwordLength?: number; excludePunctuation?: boolean; excludeCharacters?: string; includeSpace?: boolean };
}

export interface SubscriptionFilterModel {
  logicalId: string;
  logGroupName: string;
  filterName: string;
  filterPattern: string;
  destinationArn: string;
}

/** A Lambda function URL. Its `FunctionUrl` resolves to {@link functionUrlPlaceholder} until the runtime serves it. */
export interface FunctionUrlModel {
  logicalId: string;
  /** ARN of the target function. */
  functionArn: string;
  authType: 'AWS_IAM' | 'NONE';
  placeholder: string;
}

/** What `Fn::GetAtt <Url>.FunctionUrl` resolves to before the runtime starts the URL's server. */
export const functionUrlPlaceholder = (logicalId: string) => `http://local-function-url.invalid/${logicalId}/`;

export interface LocalStackModel {
  stackName: string;
  region: string;
  accountId: string;
  partition: string;
  template: CfnTemplate;
  tables: TableModel[];
  streams: KinesisStreamModel[];
  queues: QueueModel[];
  buses: EventBusModel[];
  rules: RuleModel[];
  functions: FunctionModel[];
  eventSourceMappings: EventSourceMappingModel[];
  stateMachines: StateMachineModel[];
  schedules: ScheduleModel[];
  apiKeys: ApiKeyModel[];
  usagePlans: UsagePlanModel[];
  usagePlanKeys: UsagePlanKeyModel[];
  secrets: SecretModel[];
  buckets: BucketModel[];
  functionUrls: FunctionUrlModel[];
  /** CloudWatch Logs subscription filters (where access logs go: the traffic generator packs for these). */
  subscriptionFilters: SubscriptionFilterModel[];
  outputs: Record<string, string>;
  /** Resource types present in the template that the runtime does not emulate (IAM, KMS, logs...), with counts. */
  ignored: Record<string, number>;
  /** Resolve any template value against this model (for callers that read extra properties). */
  resolve(value: CfnValue): unknown;
  /** Logical id -> the local physical id (what `Ref` returns). */
  physicalIds: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------------------------

export interface LoadOptions extends LocalEnvironment {
  /** The cloud assembly directory. @default 'cdk.out' */
  readonly cdkOut?: string;
  /** The stack (artifact) name. @default the only stack in the assembly, or 'DistillGuard' */
  readonly stackName?: string;
}

interface CdkManifest {
  artifacts?: Record<string, { type: string; properties?: { templateFile?: string }; displayName?: string }>;
}

/** Finds the template file of a stack in a cloud assembly via manifest.json. */
export function findTemplateFile(cdkOut: string, stackName?: string): { stackName: string; file: string } {
  const manifestFile = path.join(cdkOut, 'manifest.json');
  if (fs.existsSync(manifestFile)) {
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as CdkManifest;
    const stacks = Object.entries(manifest.artifacts ?? {}).filter(([, a]) => a.type === 'aws:cloudformation:stack');
    const pick = stackName
      ? stacks.find(([id, a]) => id === stackName || a.displayName === stackName)
      : stacks.length === 1
        ? stacks[0]
        : stacks.find(([id]) => id === 'DistillGuard');
    if (pick) {
      return { stackName: pick[0], file: path.join(cdkOut, pick[1].properties?.templateFile ?? `${pick[0]}.template.json`) };
    }
    if (stackName) throw new Error(`stack ${stackName} not found in ${manifestFile}; stacks: ${stacks.map(([id]) => id).join(', ') || 'none'}`);
  }
  const name = stackName ?? 'DistillGuard';
  const file = path.join(cdkOut, `${name}.template.json`);
  if (!fs.existsSync(file)) throw new Error(`no template for stack ${name} in ${cdkOut} (expected ${file}); run cdk synth first`);
  return { stackName: name, file };
}

export function loadStackModel(opts: LoadOptions = {}): LocalStackModel {
  const cdkOut = path.resolve(opts.cdkOut ?? 'cdk.out');
  const { stackName, file } = findTemplateFile(cdkOut, opts.stackName);
  const template = JSON.parse(fs.readFileSync(file, 'utf8')) as CfnTemplate;
  return buildStackModel(template, { ...opts, cdkOut, stackName });
}

// ---------------------------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------------------------

function shortHash(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** A deterministic local physical name for a logical id, clipped to a service's length limit. */
export function localName(stackName: string, logicalId: string, maxLen = 128): string {
  const raw = `${stackName}-${logicalId}`.replace(/[^A-Za-z0-9_.-]/g, '-');
  if (raw.length <= maxLen) return raw;
  const h = shortHash(raw);
  return `${raw.slice(0, maxLen - 9)}-${h}`;
}

/** A local bucket name: S3's rules (3-63 characters, lowercase letters, digits, '-' and '.'), kept unique with a hash. */
export function bucketName(stackName: string, logicalId: string): string {
  const raw = `${stackName}-${logicalId}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-');
  const h = shortHash(`${stackName}/${logicalId}`);
  return `${raw.slice(0, 63 - 9).replace(/-+$/, '')}-${h}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Intrinsics
// ---------------------------------------------------------------------------------------------------------------

export class TemplateResolver {
  readonly refs = new Map<string, string>();
  readonly attrs = new Map<string, string>();
  constructor(
    private readonly template: CfnTemplate,
    private readonly pseudo: Record<string, string>,
  ) {}

  setRef(logicalId: string, value: string): void {
    this.refs.set(logicalId, value);
  }

  setAttr(logicalId: string, attr: string, value: string): void {
    this.attrs.set(`${logicalId}.${attr}`, value);
  }

  condition(name: string): boolean {
    const c = this.template.Conditions?.[name];
    if (c === undefined) throw new Error(`unknown condition ${name}`);
    return Boolean(this.resolve(c));
  }

  resolve(value: CfnValue): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const k = keys[0];
      const arg = obj[k];
      switch (k) {
        case 'Ref':
          return this.ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split(/\.(.+)/);
          return this.getAtt(id, String(this.resolve(attr)));
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown[]];
          const resolved = this.resolve(parts) as unknown[];
          return resolved.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(sep);
        }
        case 'Fn::Sub':
          return this.sub(arg);
        case 'Fn::Select': {
          const [idx, list] = arg as [unknown, unknown];
          const l = this.resolve(list) as unknown[];
          return l[Number(this.resolve(idx))];
        }
        case 'Fn::Split': {
          const [sep, s] = arg as [string, unknown];
          return String(this.resolve(s)).split(sep);
        }
        case 'Fn::If': {
          const [cond, a, b] = arg as [string, unknown, unknown];
          return this.condition(cond) ? this.resolve(a) : this.resolve(b);
        }
        case 'Fn::Equals': {
          const [a, b] = arg as [unknown, unknown];
          return JSON.stringify(this.resolve(a)) === JSON.stringify(this.resolve(b));
        }
        case 'Fn::Not':
          return !this.resolve((arg as unknown[])[0]);
        case 'Fn::And':
          return (arg as unknown[]).every((a) => Boolean(this.resolve(a)));
        case 'Fn::Or':
          return (arg as unknown[]).some((a) => Boolean(this.resolve(a)));
        case 'Condition':
          return this.condition(String(arg));
        case 'Fn::FindInMap': {
          const [m, k1, k2] = (arg as unknown[]).map((a) => this.resolve(a)) as string[];
          const v = this.template.Mappings?.[m]?.[k1]?.[k2];
          if (v === undefined) throw new Error(`fn::findinmap found nothing for ${m}.${k1}.${k2}`);
          return v;
        }
        case 'Fn::GetAZs':
          return [`${this.pseudo['AWS::Region']}a`, `${this.pseudo['AWS::Region']}b`, `${this.pseudo['AWS::Region']}c`];
        case 'Fn::Base64':
          return Buffer.from(String(this.resolve(arg))).toString('base64');
        case 'Fn::ImportValue':
          throw new Error(`fn::importvalue is not supported locally (got ${JSON.stringify(arg)})`);
        default:
          break;
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = this.resolve(v);
    return out;
  }

  ref(id: string): string {
    if (id in this.pseudo) return this.pseudo[id];
    if (id === 'AWS::NoValue') return undefined as unknown as string;
    const r = this.refs.get(id);
    if (r !== undefined) return r;
    const param = this.template.Parameters?.[id];
    if (param) return param.Default === undefined ? '' : String(param.Default);
    if (this.template.Resources[id]) return id;
    throw new Error(`ref to unknown logical id ${id}`);
  }

  getAtt(id: string, attr: string): string {
    const a = this.attrs.get(`${id}.${attr}`);
    if (a !== undefined) return a;
    const res = this.template.Resources[id];
    if (!res) throw new Error(`fn::getatt on unknown logical id ${id}.${attr}`);
    // Generic fallback: an ARN-looking value for anything we do not model.
    const { 'AWS::Partition': p, 'AWS::Region': r, 'AWS::AccountId': a2 } = this.pseudo;
    const service = res.Type.split('::')[1]?.toLowerCase() ?? 'unknown';
    const name = this.ref(id);
    if (attr === 'Arn') return `arn:${p}:${service}:${r}:${a2}:${res.Type.split('::')[2]?.toLowerCase() ?? 'resource'}/${name}`;
    return `${name}.${attr}`;
  }

  private sub(arg: unknown): string {
    let str: string;
    let vars: Record<string, unknown> = {};
    if (Array.isArray(arg)) {
      str = String(arg[0]);
      vars = (this.resolve(arg[1] ?? {}) as Record<string, unknown>) ?? {};
    } else str = String(arg);
    return str.replace(/\$\{(!?)([^}]+)\}/g, (_m, bang: string, name: string) => {
      if (bang) return `\${${name}}`;
      if (name in vars) return String(vars[name]);
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) return this.getAtt(name.slice(0, dot), name.slice(dot + 1));
      return this.ref(name);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Model building
// ---------------------------------------------------------------------------------------------------------------

/** The fields of `AWS::DynamoDB::Table` indexes and `AWS::Events::Rule` targets read here (resolved values). */
interface CfnIndex {
  IndexName?: unknown;
  KeySchema?: unknown;
  Projection?: { ProjectionType?: string; NonKeyAttributes?: unknown };
}
interface CfnRuleTarget {
  Id?: unknown;
  Arn?: unknown;
  Input?: unknown;
  InputPath?: unknown;
  InputTransformer?: { InputPathsMap?: unknown; InputTemplate?: unknown };
  DeadLetterConfig?: { Arn?: unknown };
  RetryPolicy?: { MaximumRetryAttempts?: unknown; MaximumEventAgeInSeconds?: unknown };
  SqsParameters?: { MessageGroupId?: unknown };
}

const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));
const num = (v: unknown): number | undefined => (v === undefined || v === null || v === '' ? undefined : Number(v));
const bool = (v: unknown, dflt: boolean): boolean => (v === undefined || v === null ? dflt : v === true || v === 'true');

/** Parses an ARN into its parts (resource = everything after the 5th colon). */
export function parseArn(arn: string): { partition: string; service: string; region: string; account: string; resource: string } {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') throw new Error(`not an arn: ${arn}`);
  return { partition: parts[1], service: parts[2], region: parts[3], account: parts[4], resource: parts.slice(5).join(':') };
}

function assetDirFor(cdkOut: string, res: CfnResource, code: Record<string, unknown> | undefined): string | undefined {
  const metaPath = res.Metadata?.['aws:asset:path'];
  if (typeof metaPath === 'string') {
    const p = path.isAbsolute(metaPath) ? metaPath : path.join(cdkOut, metaPath);
    if (fs.existsSync(p)) return p;
  }
  const key = code?.S3Key;
  if (typeof key === 'string') {
    const hash = key.replace(/\.zip$/, '');
    const p = path.join(cdkOut, `asset.${hash}`);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export interface BuildOptions extends LocalEnvironment {
  readonly cdkOut: string;
  readonly stackName: string;
}

export function buildStackModel(template: CfnTemplate, opts: BuildOptions): LocalStackModel {
  const region = opts.region ?? 'us-east-1';
  const accountId = opts.accountId ?? '000000000000';
  const partition = opts.partition ?? 'aws';
  const sqsEndpoint = (opts.sqsEndpoint ?? 'http://127.0.0.1:9324').replace(/\/$/, '');
  const stackName = opts.stackName;
  const pseudo: Record<string, string> = {
    'AWS::Region': region,
    'AWS::AccountId': accountId,
    'AWS::Partition': partition,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': stackName,
    'AWS::StackId': `arn:${partition}:cloudformation:${region}:${accountId}:stack/${stackName}/00000000-0000-0000-0000-000000000000`,
    'AWS::NotificationARNs': '',
  };
  const r = new TemplateResolver(template, pseudo);
  const resources = Object.entries(template.Resources ?? {}).filter(([, res]) => !res.Condition || r.condition(res.Condition));
  const arn = (service: string, resource: string): string => `arn:${partition}:${service}:${region}:${accountId}:${resource}`;
  const explicitName = (res: CfnResource, prop: string): string | undefined => {
    const v = res.Properties?.[prop];
    return v === undefined ? undefined : String(r.resolve(v));
  };

  // Phase 1: physical ids and attributes of everything that can be named without resolving other resources.
  // Names may themselves use intrinsics (Fn::Join of the stack name); resolve them lazily in a second pass.
  const physical: Record<string, string> = {};
  for (const [id, res] of resources) {
    switch (res.Type) {
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        physical[id] = localName(stackName, id, 255);
        break;
      case 'AWS::SQS::Queue': {
        const fifo = bool(res.Properties?.FifoQueue, false);
        physical[id] = `${localName(stackName, id, fifo ? 75 : 80)}${fifo ? '.fifo' : ''}`;
        break;
      }
      case 'AWS::Lambda::Function':
        physical[id] = localName(stackName, id, 64);
        break;
      case 'AWS::Events::Rule':
        physical[id] = localName(stackName, id, 64);
        break;
      case 'AWS::ApiGateway::ApiKey':
        physical[id] = `key-${shortHash(`${stackName}/${id}`)}`;
        break;
      case 'AWS::S3::Bucket':
        physical[id] = bucketName(stackName, id);
        break;
      default:
        physical[id] = localName(stackName, id, 128);
    }
    r.setRef(id, physical[id]);
  }
  // Explicit names (second pass: they can reference pseudo params or other names).
  const nameProps: Record<string, string> = {
    'AWS::DynamoDB::Table': 'TableName',
    'AWS::Kinesis::Stream': 'Name',
    'AWS::SQS::Queue': 'QueueName',
    'AWS::Events::EventBus': 'Name',
    'AWS::Events::Rule': 'Name',
    'AWS::Lambda::Function': 'FunctionName',
    'AWS::StepFunctions::StateMachine': 'StateMachineName',
    'AWS::Scheduler::Schedule': 'Name',
    'AWS::SNS::Topic': 'TopicName',
    'AWS::SecretsManager::Secret': 'Name',
    'AWS::S3::Bucket': 'BucketName',
  };
  for (const [id, res] of resources) {
    const prop = nameProps[res.Type];
    if (!prop) continue;
    const n = explicitName(res, prop);
    if (n) {
      physical[id] = n;
      r.setRef(id, n);
    }
  }

  // Phase 2: references and attributes.
  for (const [id, res] of resources) {
    const name = physical[id];
    switch (res.Type) {
      case 'AWS::DynamoDB::Table': {
        r.setAttr(id, 'Arn', arn('dynamodb', `table/${name}`));
        r.setAttr(id, 'StreamArn', arn('dynamodb', `table/${name}/stream/local`));
        break;
      }
      case 'AWS::Kinesis::Stream':
        r.setAttr(id, 'Arn', arn('kinesis', `stream/${name}`));
        break;
      case 'AWS::SQS::Queue': {
        const url = `${sqsEndpoint}/${accountId}/${name}`;
        r.setRef(id, url);
        r.setAttr(id, 'QueueUrl', url);
        r.setAttr(id, 'QueueName', name);
        r.setAttr(id, 'Arn', arn('sqs', name));
        break;
      }
      case 'AWS::Events::EventBus':
        r.setAttr(id, 'Arn', arn('events', `event-bus/${name}`));
        r.setAttr(id, 'Name', name);
        break;
      case 'AWS::Events::Rule':
        r.setAttr(id, 'Arn', arn('events', `rule/${name}`));
        break;
      case 'AWS::Lambda::Function':
        r.setAttr(id, 'Arn', arn('lambda', `function:${name}`));
        break;
      case 'AWS::Lambda::Alias':
      case 'AWS::Lambda::Version':
        break;
      case 'AWS::Lambda::Url':
        r.setAttr(id, 'FunctionUrl', functionUrlPlaceholder(id));
        break;
      case 'AWS::StepFunctions::StateMachine': {
        const a = arn('states', `stateMachine:${name}`);
        r.setRef(id, a);
        r.setAttr(id, 'Arn', a);
        r.setAttr(id, 'Name', name);
        break;
      }
      case 'AWS::SNS::Topic': {
        const a = arn('sns', name);
        r.setRef(id, a);
        r.setAttr(id, 'TopicArn', a);
        break;
      }
      case 'AWS::IAM::Role':
        r.setAttr(id, 'Arn', `arn:${partition}:iam::${accountId}:role/${name}`);
        r.setAttr(id, 'RoleId', `AROA${shortHash(name).toUpperCase()}`);
        break;
      case 'AWS::IAM::ManagedPolicy':
        r.setRef(id, `arn:${partition}:iam::${accountId}:policy/${name}`);
        break;
      case 'AWS::KMS::Key':
        r.setRef(id, `00000000-0000-0000-0000-${shortHash(name)}0000`);
        r.setAttr(id, 'Arn', arn('kms', `key/${r.ref(id)}`));
        break;
      case 'AWS::Logs::LogGroup':
        if (explicitName(res, 'LogGroupName')) r.setRef(id, explicitName(res, 'LogGroupName')!);
        r.setAttr(id, 'Arn', arn('logs', `log-group:${explicitName(res, 'LogGroupName') ?? name}:*`));
        break;
      case 'AWS::ApiGateway::RestApi':
        r.setAttr(id, 'RootResourceId', `root${shortHash(name)}`);
        break;
      case 'AWS::EventSchemas::Registry':
        r.setAttr(id, 'RegistryArn', arn('schemas', `registry/${name}`));
        r.setAttr(id, 'RegistryName', name);
        break;
      case 'AWS::Scheduler::ScheduleGroup':
        r.setAttr(id, 'Arn', arn('scheduler', `schedule-group/${name}`));
        break;
      case 'AWS::Events::Archive':
        r.setAttr(id, 'Arn', arn('events', `archive/${name}`));
        break;
      case 'AWS::S3::Bucket':
        // S3 ARNs have no region or account; the domain names are what CloudFormation returns (not reachable locally)
        r.setAttr(id, 'Arn', `arn:${partition}:s3:::${name}`);
        r.setAttr(id, 'DomainName', `${name}.s3.amazonaws.com`);
        r.setAttr(id, 'RegionalDomainName', `${name}.s3.${region}.amazonaws.com`);
        r.setAttr(id, 'DualStackDomainName', `${name}.s3.dualstack.${region}.amazonaws.com`);
        r.setAttr(id, 'WebsiteURL', `http://${name}.s3-website-${region}.amazonaws.com`);
        break;
      case 'AWS::SecretsManager::Secret':
        // Ref is the secret's ARN (local ARNs have no random suffix; local/services/secretsmanager.ts)
        r.setRef(id, arn('secretsmanager', `secret:${name}`));
        r.setAttr(id, 'Id', arn('secretsmanager', `secret:${name}`));
        break;
      default:
        break;
    }
  }

  const keyOf = (defs: KeyAttr[], schema: unknown, which: 'HASH' | 'RANGE'): KeyAttr | undefined => {
    const k = (schema as Array<{ AttributeName: string; KeyType: string }>).find((e) => e.KeyType === which);
    if (!k) return undefined;
    const d = defs.find((a) => a.name === k.AttributeName);
    if (!d) throw new Error(`key ${k.AttributeName} has no attribute definition`);
    return d;
  };

  const model: LocalStackModel = {
    stackName,
    region,
    accountId,
    partition,
    template,
    tables: [],
    streams: [],
    queues: [],
    buses: [],
    rules: [],
    functions: [],
    eventSourceMappings: [],
    stateMachines: [],
    schedules: [],
    apiKeys: [],
    usagePlans: [],
    usagePlanKeys: [],
    secrets: [],
    buckets: [],
    functionUrls: [],
    subscriptionFilters: [],
    outputs: {},
    ignored: {},
    resolve: (v) => r.resolve(v),
    physicalIds: physical,
  };

  const logicalByArn = new Map<string, string>();
  for (const [id] of resources) {
    for (const attr of ['Arn', 'StreamArn']) {
      const v = r.attrs.get(`${id}.${attr}`);
      if (v) logicalByArn.set(v, id);
    }
  }

  for (const [id, res] of resources) {
    const P = (res.Properties ?? {}) as Record<string, unknown>;
    const name = physical[id];
    switch (res.Type) {
      case 'AWS::DynamoDB::Table': {
        const defs = ((r.resolve(P.AttributeDefinitions) as Array<{ AttributeName: string; AttributeType: 'S' | 'N' | 'B' }>) ?? []).map((d) => ({
          name: d.AttributeName,
          type: d.AttributeType,
        }));
        const ks = r.resolve(P.KeySchema);
        const gsis = ((r.resolve(P.GlobalSecondaryIndexes) as CfnIndex[] | undefined) ?? []).map((g) => ({
          name: String(g.IndexName),
          partitionKey: keyOf(defs, g.KeySchema, 'HASH')!,
          sortKey: keyOf(defs, g.KeySchema, 'RANGE'),
          projectionType: (g.Projection?.ProjectionType ?? 'ALL') as 'ALL',
          nonKeyAttributes: g.Projection?.NonKeyAttributes as string[] | undefined,
        }));
        const lsis = ((r.resolve(P.LocalSecondaryIndexes) as CfnIndex[] | undefined) ?? []).map((g) => ({
          name: String(g.IndexName),
          sortKey: keyOf(defs, g.KeySchema, 'RANGE')!,
          projectionType: (g.Projection?.ProjectionType ?? 'ALL') as 'ALL',
          nonKeyAttributes: g.Projection?.NonKeyAttributes as string[] | undefined,
        }));
        const ttl = r.resolve(P.TimeToLiveSpecification) as { AttributeName?: string; Enabled?: boolean } | undefined;
        const stream = r.resolve(P.StreamSpecification) as { StreamViewType?: TableModel['streamViewType'] } | undefined;
        model.tables.push({
          logicalId: id,
          name,
          arn: r.getAtt(id, 'Arn'),
          partitionKey: keyOf(defs, ks, 'HASH')!,
          sortKey: keyOf(defs, ks, 'RANGE'),
          attributeDefinitions: defs,
          globalSecondaryIndexes: gsis,
          localSecondaryIndexes: lsis,
          ttlAttribute: ttl?.Enabled ? ttl.AttributeName : undefined,
          streamViewType: stream?.StreamViewType,
          streamArn: stream?.StreamViewType ? r.getAtt(id, 'StreamArn') : undefined,
        });
        break;
      }
      case 'AWS::Kinesis::Stream': {
        const mode = r.resolve(P.StreamModeDetails) as { StreamMode?: string } | undefined;
        const onDemand = mode?.StreamMode === 'ON_DEMAND';
        model.streams.push({
          logicalId: id,
          name,
          arn: r.getAtt(id, 'Arn'),
          onDemand,
          shardCount: onDemand ? undefined : (num(r.resolve(P.ShardCount)) ?? 1),
          retentionHours: num(r.resolve(P.RetentionPeriodHours)),
        });
        break;
      }
      case 'AWS::SQS::Queue': {
        let redrive = r.resolve(P.RedrivePolicy) as { deadLetterTargetArn?: string; maxReceiveCount?: number } | string | undefined;
        if (typeof redrive === 'string') redrive = JSON.parse(redrive) as { deadLetterTargetArn?: string; maxReceiveCount?: number };
        model.queues.push({
          logicalId: id,
          name,
          arn: r.getAtt(id, 'Arn'),
          url: r.getAtt(id, 'QueueUrl'),
          fifo: bool(P.FifoQueue, false),
          visibilityTimeout: num(r.resolve(P.VisibilityTimeout)),
          messageRetentionPeriod: num(r.resolve(P.MessageRetentionPeriod)),
          redrive: redrive?.deadLetterTargetArn
            ? { deadLetterTargetArn: redrive.deadLetterTargetArn, maxReceiveCount: Number(redrive.maxReceiveCount ?? 1) }
            : undefined,
        });
        break;
      }
      case 'AWS::Events::EventBus':
        model.buses.push({ logicalId: id, name, arn: r.getAtt(id, 'Arn') });
        break;
      case 'AWS::Events::Rule': {
        const bus = str(r.resolve(P.EventBusName)) ?? 'default';
        const busName = bus.startsWith('arn:') ? parseArn(bus).resource.replace(/^event-bus\//, '') : bus;
        let pattern = r.resolve(P.EventPattern) as Record<string, unknown> | string | undefined;
        if (typeof pattern === 'string') pattern = JSON.parse(pattern) as Record<string, unknown>;
        const targets = ((r.resolve(P.Targets) as CfnRuleTarget[] | undefined) ?? []).map((t) => ({
          id: String(t.Id),
          arn: String(t.Arn),
          input: str(t.Input),
          inputPath: str(t.InputPath),
          inputTransformer: t.InputTransformer
            ? {
                inputPathsMap: (t.InputTransformer.InputPathsMap ?? {}) as Record<string, string>,
                inputTemplate: String(t.InputTransformer.InputTemplate),
              }
            : undefined,
          deadLetterArn: str(t.DeadLetterConfig?.Arn),
          retryPolicy: t.RetryPolicy
            ? { maximumRetryAttempts: num(t.RetryPolicy.MaximumRetryAttempts), maximumEventAgeInSeconds: num(t.RetryPolicy.MaximumEventAgeInSeconds) }
            : undefined,
          sqsMessageGroupId: str(t.SqsParameters?.MessageGroupId),
        }));
        model.rules.push({
          logicalId: id,
          name,
          arn: r.getAtt(id, 'Arn'),
          eventBusName: busName,
          eventPattern: pattern,
          scheduleExpression: str(r.resolve(P.ScheduleExpression)),
          enabled: (str(r.resolve(P.State)) ?? 'ENABLED') === 'ENABLED',
          targets,
        });
        break;
      }
      case 'AWS::Lambda::Function': {
        const code = r.resolve(P.Code) as Record<string, unknown> | undefined;
        const env = ((r.resolve(P.Environment) as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
        const environment: Record<string, string> = {};
        for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== null) environment[k] = typeof v === 'string' ? v : JSON.stringify(v);
        const archs = r.resolve(P.Architectures) as string[] | undefined;
        model.functions.push({
          logicalId: id,
          name,
          arn: r.getAtt(id, 'Arn'),
          handler: str(r.resolve(P.Handler)) ?? 'index.handler',
          runtime: str(r.resolve(P.Runtime)),
          codeDir: assetDirFor(opts.cdkOut, res, code),
          inlineCode: str(code?.ZipFile),
          environment,
          timeoutSeconds: num(r.resolve(P.Timeout)) ?? 3,
          memoryMb: num(r.resolve(P.MemorySize)) ?? 128,
          architecture: archs?.[0],
          reservedConcurrency: num(r.resolve(P.ReservedConcurrentExecutions)),
          deadLetterArn: str((r.resolve(P.DeadLetterConfig) as { TargetArn?: string } | undefined)?.TargetArn),
        });
        break;
      }
      case 'AWS::Lambda::EventSourceMapping': {
        const src = String(r.resolve(P.EventSourceArn));
        const service = parseArn(src).service;
        const kind: EventSourceKind =
          service === 'kinesis'
            ? 'kinesis'
            : service === 'dynamodb'
              ? 'dynamodb'
              : service === 'sqs'
                ? 'sqs'
                : (() => {
                    throw new Error(`event source mapping ${id}: unsupported source ${src}`);
                  })();
        const fnRaw = P.FunctionName as Record<string, unknown> | string;
        const fnLogical = typeof fnRaw === 'object' && fnRaw && 'Ref' in fnRaw ? String(fnRaw.Ref) : undefined;
        const fnName = String(r.resolve(fnRaw));
        const dest = r.resolve(P.DestinationConfig) as { OnFailure?: { Destination?: string } } | undefined;
        const filters = ((r.resolve(P.FilterCriteria) as { Filters?: Array<{ Pattern?: string }> } | undefined)?.Filters ?? [])
          .filter((f) => f.Pattern)
          .map((f) => (typeof f.Pattern === 'string' ? JSON.parse(f.Pattern) : f.Pattern) as Record<string, unknown>);
        const isStream = kind !== 'sqs';
        const scaling = r.resolve(P.ScalingConfig) as { MaximumConcurrency?: number } | undefined;
        model.eventSourceMappings.push({
          logicalId: id,
          uuid: `${shortHash(`${stackName}/${id}`)}-0000-4000-8000-${shortHash(id).padEnd(12, '0')}`,
          kind,
          eventSourceArn: src,
          sourceLogicalId: logicalByArn.get(src),
          functionLogicalId:
            fnLogical ??
            [...resources].find(
              ([fid, fres]) => fres.Type === 'AWS::Lambda::Function' && (physical[fid] === fnName || r.attrs.get(`${fid}.Arn`) === fnName),
            )?.[0],
          functionName: fnName.startsWith('arn:')
            ? parseArn(fnName)
                .resource.replace(/^function:/, '')
                .split(':')[0]
            : fnName,
          batchSize: num(r.resolve(P.BatchSize)) ?? (kind === 'sqs' ? 10 : 100),
          maximumBatchingWindowInSeconds: num(r.resolve(P.MaximumBatchingWindowInSeconds)) ?? 0,
          bisectBatchOnFunctionError: bool(r.resolve(P.BisectBatchOnFunctionError), false),
          maximumRetryAttempts: isStream ? (num(r.resolve(P.MaximumRetryAttempts)) ?? -1) : 0,
          maximumRecordAgeInSeconds: isStream ? (num(r.resolve(P.MaximumRecordAgeInSeconds)) ?? -1) : -1,
          functionResponseTypes: (r.resolve(P.FunctionResponseTypes) as string[]) ?? [],
          onFailureDestinationArn: dest?.OnFailure?.Destination,
          filterPatterns: filters,
          startingPosition: str(r.resolve(P.StartingPosition)) as EventSourceMappingModel['startingPosition'],
          startingPositionTimestamp: num(r.resolve(P.StartingPositionTimestamp)),
          parallelizationFactor: num(r.resolve(P.ParallelizationFactor)) ?? 1,
          tumblingWindowInSeconds: num(r.resolve(P.TumblingWindowInSeconds)),
          enabled: bool(r.resolve(P.Enabled), true),
          maximumConcurrency: scaling?.MaximumConcurrency,
        });
        break;
      }
      case 'AWS::StepFunctions::StateMachine': {
        let defString: string;
        if (P.DefinitionString !== undefined) defString = String(r.resolve(P.DefinitionString));
        else if (P.Definition !== undefined) defString = JSON.stringify(r.resolve(P.Definition));
        else throw new Error(`state machine ${id} has no definition (DefinitionS3Location is not supported locally)`);
        const subs = (r.resolve(P.DefinitionSubstitutions) as Record<string, unknown>) ?? {};
        defString = defString.replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, k: string) => (k in subs ? String(subs[k]) : m));
        model.stateMachines.push({
          logicalId: id,
          name,
          arn: r.getAtt(id, 'Arn'),
          type: (str(r.resolve(P.StateMachineType)) ?? 'STANDARD') as 'STANDARD',
          definition: JSON.parse(defString) as Record<string, unknown>,
          definitionString: defString,
          roleArn: str(r.resolve(P.RoleArn)),
        });
        break;
      }
      case 'AWS::Scheduler::Schedule': {
        const t = r.resolve(P.Target) as { Arn: string; Input?: string; RoleArn?: string };
        model.schedules.push({
          logicalId: id,
          name,
          groupName: str(r.resolve(P.GroupName)) ?? 'default',
          scheduleExpression: String(r.resolve(P.ScheduleExpression)),
          enabled: (str(r.resolve(P.State)) ?? 'ENABLED') === 'ENABLED',
          target: { arn: t.Arn, input: t.Input, roleArn: t.RoleArn },
        });
        break;
      }
      case 'AWS::Logs::SubscriptionFilter':
        model.subscriptionFilters.push({
          logicalId: id,
          logGroupName: String(r.resolve(P.LogGroupName)),
          filterName: str(r.resolve(P.FilterName)) ?? name,
          filterPattern: str(r.resolve(P.FilterPattern)) ?? '',
          destinationArn: String(r.resolve(P.DestinationArn)),
        });
        break;
      case 'AWS::SecretsManager::Secret': {
        const gen = r.resolve(P.GenerateSecretString) as Record<string, unknown> | undefined;
        model.secrets.push({
          logicalId: id,
          name,
          arn: r.ref(id),
          secretString: str(r.resolve(P.SecretString)),
          generate: gen
            ? {
                passwordLength: num(gen.PasswordLength),
                excludePunctuation: bool(gen.ExcludePunctuation, false),
                excludeCharacters: str(gen.ExcludeCharacters),
                includeSpace: bool(gen.IncludeSpace, false),
              }
            : undefined,
        });
        break;
      }
      case 'AWS::S3::Bucket': {
        const versioning = r.resolve(P.VersioningConfiguration) as { Status?: string } | undefined;
        model.buckets.push({ logicalId: id, name, arn: r.getAtt(id, 'Arn'), versioned: versioning?.Status === 'Enabled' });
        break;
      }
      case 'AWS::ApiGateway::UsagePlan': {
        const t = r.resolve(P.Throttle) as { RateLimit?: number; BurstLimit?: number } | undefined;
        model.usagePlans.push({
          logicalId: id,
          id: name,
          name: str(r.resolve(P.UsagePlanName)) ?? name,
          ...(t ? { throttle: { rateLimit: num(t.RateLimit), burstLimit: num(t.BurstLimit) } } : {}),
        });
        break;
      }
      case 'AWS::ApiGateway::UsagePlanKey':
        model.usagePlanKeys.push({ logicalId: id, planId: String(r.resolve(P.UsagePlanId)), keyId: String(r.resolve(P.KeyId)) });
        break;
      case 'AWS::Lambda::Url': {
        const authType = str(r.resolve(P.AuthType)) === 'NONE' ? 'NONE' : 'AWS_IAM';
        model.functionUrls.push({
          logicalId: id,
          functionArn: String(r.resolve(P.TargetFunctionArn)),
          authType,
          placeholder: functionUrlPlaceholder(id),
        });
        break;
      }
      case 'AWS::ApiGateway::ApiKey':
        model.apiKeys.push({
          logicalId: id,
          id: name,
          name: str(r.resolve(P.Name)) ?? name,
          enabled: bool(r.resolve(P.Enabled), false),
          value: str(r.resolve(P.Value)),
        });
        break;
      default:
        model.ignored[res.Type] = (model.ignored[res.Type] ?? 0) + 1;
    }
  }

  for (const [k, o] of Object.entries(template.Outputs ?? {})) {
    try {
      model.outputs[k] = String(r.resolve(o.Value));
    } catch {
      // outputs that import values are not needed locally
    }
  }
  return model;
}

/** Finds the function a Lambda ARN / name / partial ARN refers to. */
export function findFunction(model: LocalStackModel, ref: string): FunctionModel | undefined {
  let name = ref;
  if (ref.startsWith('arn:')) {
    const { resource } = parseArn(ref);
    // function:NAME[:qualifier]
    name = resource.replace(/^function:/, '').split(':')[0];
  } else if (ref.includes(':')) name = ref.split(':')[0];
  return (
    model.functions.find((f) => f.name === name || f.logicalId === name || f.arn === ref) ??
    // a construct id: CDK logical ids are the construct path plus an 8-hex-digit hash
    model.functions.find((f) => new RegExp(`^${name.replace(/[^A-Za-z0-9]/g, '')}[0-9A-F]{8}$`).test(f.logicalId))
  );
}
