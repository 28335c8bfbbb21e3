/**
 * The control table as the escalation code sees it: the connection (DynamoDB and API Gateway clients, clock,
 * retention), the audit entry every write carries, and the reads of cases and account status. What each item
 * family does lives beside it, one file each: allowlist.ts, breaker.ts, shadow.ts, api-keys.ts, suspension.ts,
 * reinstatement.ts, restriction-store.ts, feature-reads.ts. Used by the workflow Lambdas, the scheduled expirer,
 * and the operator API (ops/), which calls it with the operator's own credentials. The decisions themselves are
 * src/escalate (plain TS); the keys are src/shared/tables.ts.
 */
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  QueryCommandInput,
  QueryCommandOutput,
  TransactWriteCommand,
  TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { toOutboxItem, type BanEvent } from '../../src/notify/ban-event';
import {
  AuditAction,
  AuditEntry,
  CaseRecord,
  CaseState,
  DEFAULT_CASE_RETENTION_DAYS,
  assertId,
  auditEntry,
  caseStateGsiPk,
  keys,
} from '../../src/escalate/model';
import { AUDIT_SK_PREFIX, CONTROL_BY_STATE_INDEX } from '../../src/shared/tables';
import { requireEnv } from '../shared/env';
import { queryPages } from '../shared/query-pages';
import { usagePlansFromEnv, type UsagePlans } from './restriction-store';

export type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;

export interface AccountStatus {
  pk: string;
  sk: 'STATUS';
  accountId: string;
  status: 'active' | 'restricted' | 'suspended';
  suspendedUntil?: number | null;
  /** Restriction (lambdas/escalate/restriction-store.ts): end, step-up flag, keys on the restricted usage plan. */
  restrictedUntil?: number;
  stepUp?: boolean;
  restrictedKeyIds?: string[];
  restrictedAt?: string;
  restrictionCaseId?: string;
  offences?: number;
  openCaseId?: string;
  lastCaseId?: string;
  apiKeyIds?: string[];
  disabledKeyIds?: string[];
  keysPendingEnable?: string[];
  lastSuspensionEnd?: number;
  createdAt?: string;
  [extra: string]: unknown;
}

export interface StoreOptions {
  tableName: string;
  featuresTableName?: string;
  ddb?: DynamoDBDocumentClient;
  apigw?: APIGatewayClient;
  /** Manage API Gateway API keys on suspend/reinstate. @default true */
  manageApiKeys?: boolean;
  now?: () => number;
  /** The usage plans a restriction moves keys between. @default STANDARD_/RESTRICTED_USAGE_PLAN_ID from the environment */
  usagePlans?: UsagePlans;
  /** Days cases and audit entries are kept (TTL). @default CASE_RETENTION_DAYS from the environment, else 365 */
  caseRetentionDays?: number;
}

/** What an audit entry says (the store adds the keys, time, sequence and retention). */
export interface AuditFields {
  caseId: string;
  accountId: string;
  actor: string;
  action: AuditAction;
  reason?: string;
  details?: Record<string, unknown>;
  at?: string;
}

/** Thrown for an operator error (unknown case, wrong state, ...): the CLI prints it without a stack. */
export class OperatorError extends Error {}

export class EscalationStore {
  readonly table: string;
  readonly featuresTable?: string;
  readonly ddb: DynamoDBDocumentClient;
  readonly apigw: APIGatewayClient;
  readonly manageApiKeys: boolean;
  readonly caseRetentionDays: number;
  readonly usagePlans?: UsagePlans;
  private readonly clock: () => number;
  private seq = 0;

  constructor(opts: StoreOptions) {
    this.table = opts.tableName;
    this.featuresTable = opts.featuresTableName;
    // convertClassInstanceToMap: evidence records keyed by model name may hold a model named `constructor`, which the
    // marshaller would otherwise take for a class instance and refuse (the case could then never be recorded).
    this.ddb =
      opts.ddb ??
      DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true } });
    this.apigw = opts.apigw ?? new APIGatewayClient({});
    this.manageApiKeys = opts.manageApiKeys ?? true;
    this.usagePlans = opts.usagePlans ?? usagePlansFromEnv();
    this.clock = opts.now ?? Date.now;
    const envRetention = Number(process.env.CASE_RETENTION_DAYS);
    this.caseRetentionDays = opts.caseRetentionDays ?? (envRetention > 0 ? envRetention : DEFAULT_CASE_RETENTION_DAYS);
  }

  now(): number {
    return this.clock();
  }

  /** A fresh audit entry (the per-process sequence keeps two entries of the same millisecond apart). */
  audit(e: AuditFields): AuditEntry {
    const at = e.at ?? new Date(this.now()).toISOString();
    return auditEntry({ ...e, at }, this.seq++ % 1000, this.caseRetentionDays);
  }

  /** Put an audit entry on its own (append-only: never overwrites). */
  async putAudit(entry: AuditEntry): Promise<void> {
    await this.ddb.send(new PutCommand({ TableName: this.table, Item: entry, ConditionExpression: 'attribute_not_exists(pk)' }));
  }

  auditPut(entry: AuditEntry): TransactItems[number] {
    return { Put: { TableName: this.table, Item: entry, ConditionExpression: 'attribute_not_exists(pk)' } };
  }

  /** One transaction: `items`, then the audit entry that records them. */
  async transactAudited(items: TransactItems, audited: AuditFields): Promise<void> {
    await this.ddb.send(new TransactWriteCommand({ TransactItems: [...items, this.auditPut(this.audit(audited))] }));
  }

  /** The transactional outbox's item for a ban event, put in the decision's own transaction (never overwritten). */
  outboxPut(event: BanEvent, now: number): TransactItems[number] {
    return { Put: { TableName: this.table, Item: toOutboxItem(event, now), ConditionExpression: 'attribute_not_exists(pk)' } };
  }

  // ---------------- reads ----------------

  async getCase(caseId: string): Promise<CaseRecord | undefined> {
    assertId('caseId', caseId);
    const r = await this.ddb.send(new GetCommand({ TableName: this.table, Key: keys.case(caseId), ConsistentRead: true }));
    return r.Item as CaseRecord | undefined;
  }

  async requireCase(caseId: string): Promise<CaseRecord> {
    const c = await this.getCase(caseId);
    if (!c) throw new OperatorError(`case ${caseId} not found`);
    return c;
  }

  async getAccount(accountId: string): Promise<AccountStatus | undefined> {
    assertId('accountId', accountId);
    const r = await this.ddb.send(new GetCommand({ TableName: this.table, Key: keys.accountStatus(accountId), ConsistentRead: true }));
    return r.Item as AccountStatus | undefined;
  }

  /** The pages of a Query, one response at a time; stop iterating to stop reading. */
  queryPages(input: QueryCommandInput): AsyncGenerator<QueryCommandOutput> {
    return queryPages(this.ddb, input);
  }

  /** Query the byState GSI, all pages (bounded by `limit`). */
  async queryState(gsi1pk: string, opts: { limit?: number; ascending?: boolean; before?: string } = {}): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    const limit = opts.limit ?? 500;
    for await (const r of this.queryPages({
      TableName: this.table,
      IndexName: CONTROL_BY_STATE_INDEX,
      KeyConditionExpression: opts.before ? 'gsi1pk = :p AND gsi1sk < :b' : 'gsi1pk = :p',
      ExpressionAttributeValues: opts.before ? { ':p': gsi1pk, ':b': opts.before } : { ':p': gsi1pk },
      ScanIndexForward: opts.ascending ?? true,
    })) {
      out.push(...((r.Items ?? []) as Record<string, unknown>[]));
      if (out.length >= limit) break;
    }
    return out.slice(0, limit);
  }

  /** An unconditional update of a case item (`update` with its `values`). */
  async updateCase(caseId: string, update: string, values: Record<string, unknown>): Promise<void> {
    await this.ddb.send(
      new UpdateCommand({ TableName: this.table, Key: keys.case(caseId), UpdateExpression: update, ExpressionAttributeValues: values }),
    );
  }

  async listCases(state: CaseState, limit = 200): Promise<CaseRecord[]> {
    return (await this.queryState(caseStateGsiPk(state), { limit, ascending: state !== 'closed' })) as unknown as CaseRecord[];
  }

  async auditTrail(caseId: string): Promise<AuditEntry[]> {
    const r = await this.ddb.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :a)',
        ExpressionAttributeValues: { ':p': keys.case(caseId).pk, ':a': AUDIT_SK_PREFIX },
        ConsistentRead: true,
      }),
    );
    return (r.Items ?? []) as AuditEntry[];
  }

  async deleteItem(key: { pk: string; sk: string }): Promise<void> {
    await this.ddb.send(new DeleteCommand({ TableName: this.table, Key: key }));
  }
}

/**
 * The store of a handler: the control table from CONTROL_TABLE; with `apiKeys`, API key handling unless
 * MANAGE_API_KEYS is `false` (the handlers that suspend, restrict or reinstate); with `featuresTable`, the features
 * table from FEATURES_TABLE when set.
 */
export function storeFromEnv(opts: { apiKeys?: boolean; featuresTable?: boolean } = {}): EscalationStore {
  return new EscalationStore({
    tableName: requireEnv('CONTROL_TABLE'),
    ...(opts.featuresTable ? { featuresTableName: process.env.FEATURES_TABLE || undefined } : {}),
    ...(opts.apiKeys ? { manageApiKeys: process.env.MANAGE_API_KEYS !== 'false' } : {}),
  });
}
