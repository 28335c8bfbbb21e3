/**
 * The local model of a stack that the template reader builds: what the runtime provisions and runs. Also the
 * CloudFormation template types it is read from.
 */
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
