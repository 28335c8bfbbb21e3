/**
 * Creates the resources of a LocalStackModel in the emulators through the real AWS SDK clients: DynamoDB tables
 * (keys, GSIs/LSIs, TTL, streams) in DynamoDB Local, streams in kinesalite, queues (with redrive) in the SQS
 * emulator, buses + rules + targets in the local EventBridge, state machines in the local Step Functions, buckets
 * in the S3 emulator (empty; bucket policies, KMS encryption and versioning are not emulated).
 * Idempotent: a resource that already exists is left as it is.
 */
import { CreateTableCommand, CreateTableCommandInput, DescribeTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand, PutTargetsCommandInput } from '@aws-sdk/client-eventbridge';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanCommand, CreateUsagePlanKeyCommand } from '@aws-sdk/client-api-gateway';
import { getRandomValues } from 'crypto';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { secretsManagerClient } from '../../lambdas/shared/secrets-manager';
import { LOCAL_CREDENTIALS } from '../services/clients';
import { LocalStackModel, QueueModel, RuleModel, SecretModel, TableModel } from './template';

export interface ProvisionClients {
  dynamodb: DynamoDBClient;
  kinesis: KinesisClient;
  sqs: SQSClient;
  eventbridge?: EventBridgeClient;
  sfn?: SFNClient;
  apigateway?: APIGatewayClient;
  s3?: S3Client;
  /** The local Secrets Manager endpoint. */
  secretsManager?: { endpoint: string; region: string };
}

export interface ProvisionOptions {
  /** Shards for streams the template declares ON_DEMAND (kinesalite needs a count). @default 2 */
  readonly onDemandShards?: number;
  /** Progress lines. */
  readonly log?: (msg: string) => void;
}

export interface ProvisionResult {
  /** Queue ARN -> the URL the SQS emulator returned. */
  queueUrls: Record<string, string>;
  /** Table name -> the stream ARN DynamoDB Local reports. */
  tableStreamArns: Record<string, string>;
  /** State machine ARN in the template -> ARN in the local Step Functions (normally identical). */
  stateMachineArns: Record<string, string>;
  /** API key logical id -> the id the local API Gateway assigned. */
  apiKeyIds: Record<string, string>;
  /** Secret logical id -> its ARN in the local Secrets Manager. */
  secretArns: Record<string, string>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const exists = (err: unknown) =>
  [
    'ResourceInUseException',
    'QueueAlreadyExists',
    'ResourceAlreadyExistsException',
    'StateMachineAlreadyExists',
    'ResourceExistsException',
    'BucketAlreadyOwnedByYou',
  ].includes((err as Error).name);

function tableInput(t: TableModel): CreateTableCommandInput {
  // DynamoDB rejects attribute definitions not used by a key or index; the template only has used ones, but
  // filter anyway so hand-written templates work too.
  const used = new Set<string>([t.partitionKey.name, ...(t.sortKey ? [t.sortKey.name] : [])]);
  for (const g of t.globalSecondaryIndexes) {
    used.add(g.partitionKey.name);
    if (g.sortKey) used.add(g.sortKey.name);
  }
  for (const l of t.localSecondaryIndexes) used.add(l.sortKey.name);
  const keySchema = (hash: string, range?: string) => [
    { AttributeName: hash, KeyType: 'HASH' as const },
    ...(range ? [{ AttributeName: range, KeyType: 'RANGE' as const }] : []),
  ];
  const projection = (p: { projectionType: string; nonKeyAttributes?: string[] }) => ({
    ProjectionType: p.projectionType as 'ALL',
    ...(p.projectionType === 'INCLUDE' && p.nonKeyAttributes ? { NonKeyAttributes: p.nonKeyAttributes } : {}),
  });
  return {
    TableName: t.name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: t.attributeDefinitions.filter((a) => used.has(a.name)).map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: keySchema(t.partitionKey.name, t.sortKey?.name),
    ...(t.globalSecondaryIndexes.length
      ? {
          GlobalSecondaryIndexes: t.globalSecondaryIndexes.map((g) => ({
            IndexName: g.name,
            KeySchema: keySchema(g.partitionKey.name, g.sortKey?.name),
            Projection: projection(g),
          })),
        }
      : {}),
    ...(t.localSecondaryIndexes.length
      ? {
          LocalSecondaryIndexes: t.localSecondaryIndexes.map((l) => ({
            IndexName: l.name,
            KeySchema: keySchema(t.partitionKey.name, l.sortKey.name),
            Projection: projection(l),
          })),
        }
      : {}),
    ...(t.streamViewType ? { StreamSpecification: { StreamEnabled: true, StreamViewType: t.streamViewType } } : {}),
  };
}

function queueAttributes(q: QueueModel, byArn: Map<string, QueueModel>): Record<string, string> {
  const a: Record<string, string> = {};
  if (q.fifo) a.FifoQueue = 'true';
  if (q.visibilityTimeout !== undefined) a.VisibilityTimeout = String(q.visibilityTimeout);
  if (q.messageRetentionPeriod !== undefined) a.MessageRetentionPeriod = String(q.messageRetentionPeriod);
  if (q.redrive) {
    const dlq = byArn.get(q.redrive.deadLetterTargetArn);
    a.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: dlq?.arn ?? q.redrive.deadLetterTargetArn, maxReceiveCount: q.redrive.maxReceiveCount });
  }
  return a;
}

/** Run a create call; an "already exists" answer is fine (provisioning is idempotent), any other error names the resource. */
async function createOrKeep<T>(what: string, create: () => Promise<T>): Promise<T | undefined> {
  try {
    return await create();
  } catch (err) {
    if (!exists(err)) throw new Error(`cannot create ${what}: ${(err as Error).message}`);
    return undefined;
  }
}

type Log = (msg: string) => void;

/** Tables (in parallel), then TTL. */
async function provisionTables(model: LocalStackModel, dynamodb: DynamoDBClient, result: ProvisionResult, log: Log): Promise<void> {
  await Promise.all(
    model.tables.map(async (t) => {
      await createOrKeep(`table ${t.name} (${t.logicalId})`, () => dynamodb.send(new CreateTableCommand(tableInput(t))));
      if (t.ttlAttribute) {
        try {
          await dynamodb.send(
            new UpdateTimeToLiveCommand({ TableName: t.name, TimeToLiveSpecification: { AttributeName: t.ttlAttribute, Enabled: true } }),
          );
        } catch (err) {
          if (!/already enabled/i.test((err as Error).message)) throw err;
        }
      }
      const d = await dynamodb.send(new DescribeTableCommand({ TableName: t.name }));
      if (d.Table?.LatestStreamArn) result.tableStreamArns[t.name] = d.Table.LatestStreamArn;
      log(
        `table ${t.name}${t.globalSecondaryIndexes.length ? ` (+${t.globalSecondaryIndexes.map((g) => g.name).join(', ')})` : ''}${t.streamViewType ? ` stream ${t.streamViewType}` : ''}`,
      );
    }),
  );
}

/** Kinesis streams, each waited for until ACTIVE. */
async function provisionStreams(model: LocalStackModel, kinesis: KinesisClient, onDemandShards: number | undefined, log: Log): Promise<void> {
  for (const s of model.streams) {
    const shards = s.shardCount ?? onDemandShards ?? 2;
    await createOrKeep(`stream ${s.name}`, () => kinesis.send(new CreateStreamCommand({ StreamName: s.name, ShardCount: shards })));
    for (let i = 0; i < 100; i++) {
      const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: s.name }));
      if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
      await sleep(100);
    }
    log(`stream ${s.name} (${shards} shard${shards === 1 ? '' : 's'}${s.onDemand ? ', on-demand in the template' : ''})`);
  }
}

/** Queues: dead-letter targets first. */
async function provisionQueues(model: LocalStackModel, sqs: SQSClient, result: ProvisionResult, log: Log): Promise<void> {
  const byArn = new Map(model.queues.map((q) => [q.arn, q]));
  const ordered = [...model.queues].sort((a, b) => Number(Boolean(a.redrive)) - Number(Boolean(b.redrive)));
  for (const q of ordered) {
    const r = await sqs.send(new CreateQueueCommand({ QueueName: q.name, Attributes: queueAttributes(q, byArn) }));
    result.queueUrls[q.arn] = r.QueueUrl!;
    log(`queue ${q.name}${q.redrive ? ` (dlq after ${q.redrive.maxReceiveCount})` : ''}`);
  }
}

function ruleTargets(rule: RuleModel): PutTargetsCommandInput['Targets'] {
  return rule.targets.map((t) => ({
    Id: t.id,
    Arn: t.arn,
    ...(t.input !== undefined ? { Input: t.input } : {}),
    ...(t.inputPath !== undefined ? { InputPath: t.inputPath } : {}),
    ...(t.inputTransformer
      ? { InputTransformer: { InputPathsMap: t.inputTransformer.inputPathsMap, InputTemplate: t.inputTransformer.inputTemplate } }
      : {}),
    ...(t.sqsMessageGroupId ? { SqsParameters: { MessageGroupId: t.sqsMessageGroupId } } : {}),
  }));
}

/** EventBridge buses, rules, targets. */
async function provisionEventBridge(model: LocalStackModel, eventbridge: EventBridgeClient, log: Log): Promise<void> {
  for (const b of model.buses) {
    await createOrKeep(`event bus ${b.name}`, () => eventbridge.send(new CreateEventBusCommand({ Name: b.name })));
    log(`event bus ${b.name}`);
  }
  for (const rule of model.rules) {
    await eventbridge.send(
      new PutRuleCommand({
        Name: rule.name,
        EventBusName: rule.eventBusName,
        ...(rule.eventPattern ? { EventPattern: JSON.stringify(rule.eventPattern) } : {}),
        ...(rule.scheduleExpression ? { ScheduleExpression: rule.scheduleExpression } : {}),
        State: rule.enabled ? 'ENABLED' : 'DISABLED',
      }),
    );
    if (rule.targets.length)
      await eventbridge.send(new PutTargetsCommand({ Rule: rule.name, EventBusName: rule.eventBusName, Targets: ruleTargets(rule) }));
    log(
      `rule ${rule.name} on ${rule.eventBusName}: ${rule.scheduleExpression ?? 'pattern'} -> ${rule.targets.map((t) => t.arn.split(':').slice(2, 3)[0]).join(', ') || 'no targets'}`,
    );
  }
}

async function provisionStateMachines(model: LocalStackModel, sfn: SFNClient, result: ProvisionResult, log: Log): Promise<void> {
  for (const sm of model.stateMachines) {
    const r = await createOrKeep(`state machine ${sm.name}`, () =>
      sfn.send(
        new CreateStateMachineCommand({
          name: sm.name,
          definition: sm.definitionString,
          roleArn: sm.roleArn ?? `arn:aws:iam::${model.accountId}:role/local`,
          type: sm.type,
        }),
      ),
    );
    result.stateMachineArns[sm.arn] = r?.stateMachineArn ?? sm.arn;
    log(`state machine ${sm.name} (${Object.keys((sm.definition.States as object) ?? {}).length} states)`);
  }
}

/** Buckets (empty, as CloudFormation creates them). */
async function provisionBuckets(model: LocalStackModel, s3: S3Client, log: Log): Promise<void> {
  for (const b of model.buckets) {
    await createOrKeep(`bucket ${b.name} (${b.logicalId})`, () => s3.send(new CreateBucketCommand({ Bucket: b.name })));
    log(`bucket ${b.name}${b.versioned ? ' (versioned in the template; not emulated)' : ''}`);
  }
}

/** Secrets, with values generated as CloudFormation would (GenerateSecretString), fresh for every local run. */
async function provisionSecrets(
  model: LocalStackModel,
  endpoint: { endpoint: string; region: string },
  result: ProvisionResult,
  log: Log,
): Promise<void> {
  for (const sec of model.secrets) {
    const value = sec.secretString ?? generateSecret(sec.generate ?? {});
    const r = await createOrKeep(`secret ${sec.name}`, () => {
      const sm = secretsManagerClient({ endpoint: endpoint.endpoint, region: endpoint.region, credentials: LOCAL_CREDENTIALS });
      return sm.send(new CreateSecretCommand({ Name: sec.name, SecretString: value }));
    });
    result.secretArns[sec.logicalId] = r?.ARN ?? sec.arn;
    log(`secret ${sec.name}${sec.secretString === undefined ? ' (generated)' : ''}`);
  }
}

/** API keys (the demo API's; the local API Gateway emulates the key control plane only), usage plans, plan keys. */
async function provisionApiGateway(model: LocalStackModel, apigateway: APIGatewayClient, result: ProvisionResult, log: Log): Promise<void> {
  for (const k of model.apiKeys) {
    const r = await apigateway.send(new CreateApiKeyCommand({ name: k.name, enabled: k.enabled, ...(k.value ? { value: k.value } : {}) }));
    if (r.id) result.apiKeyIds[k.logicalId] = r.id;
    log(`api key ${k.name}`);
  }
  // Usage plans keep the template's physical id (tag local:id), so the functions' plan ids resolve to them.
  for (const p of model.usagePlans) {
    await apigateway.send(new CreateUsagePlanCommand({ name: p.name, ...(p.throttle ? { throttle: p.throttle } : {}), tags: { 'local:id': p.id } }));
    log(`usage plan ${p.name}${p.throttle ? ` (rate ${p.throttle.rateLimit}/s, burst ${p.throttle.burstLimit})` : ''}`);
  }
  for (const k of model.usagePlanKeys) {
    const key = model.apiKeys.find((x) => x.id === k.keyId);
    const keyId = key ? result.apiKeyIds[key.logicalId] : undefined;
    if (!keyId) continue;
    await apigateway.send(new CreateUsagePlanKeyCommand({ usagePlanId: k.planId, keyId, keyType: 'API_KEY' }));
  }
}

export async function provision(model: LocalStackModel, c: ProvisionClients, opts: ProvisionOptions = {}): Promise<ProvisionResult> {
  const log = opts.log ?? (() => undefined);
  const result: ProvisionResult = { queueUrls: {}, tableStreamArns: {}, stateMachineArns: {}, apiKeyIds: {}, secretArns: {} };
  await provisionTables(model, c.dynamodb, result, log);
  await provisionStreams(model, c.kinesis, opts.onDemandShards, log);
  await provisionQueues(model, c.sqs, result, log);
  if (c.eventbridge) await provisionEventBridge(model, c.eventbridge, log);
  if (c.sfn) await provisionStateMachines(model, c.sfn, result, log);
  if (c.s3) await provisionBuckets(model, c.s3, log);
  if (c.secretsManager) await provisionSecrets(model, c.secretsManager, result, log);
  if (c.apigateway) await provisionApiGateway(model, c.apigateway, result, log);
  return result;
}

const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** A random value for GenerateSecretString (CloudFormation's defaults: 32 characters, letters, digits, punctuation). */
export function generateSecret(spec: NonNullable<SecretModel['generate']>): string {
  const excluded = new Set(spec.excludeCharacters ?? '');
  let alphabet =
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789' + (spec.excludePunctuation ? '' : PUNCTUATION) + (spec.includeSpace ? ' ' : '');
  alphabet = [...alphabet].filter((ch) => !excluded.has(ch)).join('');
  const length = spec.passwordLength ?? 32;
  const bytes = getRandomValues(new Uint32Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}
