/**
 * Escalation operations on AWS: the control-table repository plus API Gateway key handling. Used by the
 * workflow Lambdas (lambdas/escalate/*.ts), the scheduled expirer, and the operators' CLI and web console,
 * which call it with the operator's own credentials. The decisions themselves are src/escalate (plain TS).
 */
import { APIGatewayClient, GetApiKeyCommand, GetApiKeysCommand, UpdateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  QueryCommandInput,
  TransactWriteCommand,
  TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { buildBanEvent, reinstatedEvent, toOutboxItem } from '../../src/notify/ban-event';
import { planSuspension, BanPolicy } from '../../src/escalate/ban';
import { AllowEntry, BreakerConfig, BreakerState, ShadowConfig } from '../../src/escalate/guardrails';
import {
  ALLOW_GSI_PK,
  AuditAction,
  AuditEntry,
  CaseRecord,
  CaseState,
  DEFAULT_CASE_RETENTION_DAYS,
  SUSPENDED_GSI_PK,
  assertId,
  auditEntry,
  caseStateGsiPk,
  keys,
  pad13,
} from '../../src/escalate/model';
import {
  ACCOUNT_PREFIX,
  AUDIT_SK_PREFIX,
  CONTROL_BY_STATE_INDEX,
  FEATURES_BY_HOUR_INDEX,
  GSI_BUCKETS,
  WINDOW_PREFIX,
  hourGsiPk,
} from '../../src/shared/tables';
import { liftRestriction, restoreRestrictedKeys, usagePlansFromEnv, type UsagePlans } from './restriction-store';

type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;

/** A key seen in a suspended account's traffic that the account does not own (kept as evidence, not disabled). */
export interface SeenKey {
  id: string;
  /** The key's `customerId`, or null when it names none. */
  owner: string | null;
  deleted?: boolean;
}

/** Traffic-seen keys whose owner is looked up when a suspension is applied. */
const MAX_SEEN_KEY_LOOKUPS = 20;
/** Attempts of a suspension's transaction when DynamoDB cancels it for a conflict (e.g. on the breaker counter). */
const TX_CONFLICT_ATTEMPTS = 6;

/** Longest allowlist entry: an allowlist is a reviewed exception, not a permanent state. */
export const ALLOWLIST_MAX_DAYS = 366;
export const ALLOWLIST_MAX_OWNER = 128;
export const ALLOWLIST_MAX_REASON = 1000;

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
  audit(e: {
    caseId: string;
    accountId: string;
    actor: string;
    action: AuditAction;
    reason?: string;
    details?: Record<string, unknown>;
    at?: string;
  }): AuditEntry {
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

  async getAllow(accountId: string): Promise<AllowEntry | undefined> {
    const r = await this.ddb.send(new GetCommand({ TableName: this.table, Key: keys.allow(accountId), ConsistentRead: true }));
    return r.Item as AllowEntry | undefined;
  }

  async getBreaker(): Promise<BreakerState> {
    const r = await this.ddb.send(new GetCommand({ TableName: this.table, Key: keys.breakerState(), ConsistentRead: true }));
    return (r.Item as BreakerState | undefined) ?? { tripped: false };
  }

  /** Auto-suspensions counted in the current and previous hour. */
  async breakerCounts(nowMs = this.now()): Promise<{ current: number; previous: number }> {
    const hour = Math.floor(nowMs / 3_600_000) * 3_600_000;
    const [cur, prev] = await Promise.all(
      [hour, hour - 3_600_000].map((h) => this.ddb.send(new GetCommand({ TableName: this.table, Key: keys.breakerHour(h), ConsistentRead: true }))),
    );
    return { current: Number(cur.Item?.n ?? 0), previous: Number(prev.Item?.n ?? 0) };
  }

  async getShadow(defaults: ShadowConfig): Promise<ShadowConfig & { source: 'config' | 'default' }> {
    const r = await this.ddb.send(new GetCommand({ TableName: this.table, Key: keys.shadowConfig(), ConsistentRead: true }));
    if (!r.Item) return { ...defaults, source: 'default' };
    const signals = r.Item.signals instanceof Set ? [...r.Item.signals] : Array.isArray(r.Item.signals) ? r.Item.signals : [];
    return { global: r.Item.global === true, signals: signals.map(String), source: 'config' };
  }

  async setShadow(cfg: ShadowConfig, actor: string, reason: string): Promise<void> {
    const now = this.now();
    await this.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.table,
              Item: {
                ...keys.shadowConfig(),
                global: cfg.global,
                signals: cfg.signals,
                updatedBy: actor,
                updatedAt: new Date(now).toISOString(),
                reason,
              },
            },
          },
          this.auditPut(this.audit({ caseId: keys.opsAuditCase(), accountId: '-', actor, action: 'shadow-changed', reason, details: { ...cfg } })),
        ],
      }),
    );
  }

  /** Accounts active in the most recent complete or current hour (features table GSI byHour, 16 buckets). */
  async activeAccounts(nowMs = this.now()): Promise<number | undefined> {
    if (!this.featuresTable) return undefined;
    const hour = Math.floor(nowMs / 3_600_000) * 3_600_000;
    const counts = await Promise.all(
      [hour, hour - 3_600_000].map(async (h) => {
        let total = 0;
        for (let b = 0; b < GSI_BUCKETS; b++) {
          let start: Record<string, unknown> | undefined;
          do {
            const r = await this.ddb.send(
              new QueryCommand({
                TableName: this.featuresTable,
                IndexName: FEATURES_BY_HOUR_INDEX,
                KeyConditionExpression: 'gsi1pk = :p',
                ExpressionAttributeValues: { ':p': hourGsiPk(h, b) },
                Select: 'COUNT',
                ExclusiveStartKey: start,
              }),
            );
            total += r.Count ?? 0;
            start = r.LastEvaluatedKey;
          } while (start);
        }
        return total;
      }),
    );
    return Math.max(...counts);
  }

  /** Query the byState GSI, all pages (bounded by `limit`). */
  async queryState(gsi1pk: string, opts: { limit?: number; ascending?: boolean; before?: string } = {}): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    const limit = opts.limit ?? 500;
    do {
      const q: QueryCommandInput = {
        TableName: this.table,
        IndexName: CONTROL_BY_STATE_INDEX,
        KeyConditionExpression: opts.before ? 'gsi1pk = :p AND gsi1sk < :b' : 'gsi1pk = :p',
        ExpressionAttributeValues: opts.before ? { ':p': gsi1pk, ':b': opts.before } : { ':p': gsi1pk },
        ScanIndexForward: opts.ascending ?? true,
        ExclusiveStartKey: start,
      };
      const r = await this.ddb.send(new QueryCommand(q));
      out.push(...((r.Items ?? []) as Record<string, unknown>[]));
      start = r.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out.slice(0, limit);
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

  /** Feature windows of an account (most recent `hours`). */
  async accountWindows(accountId: string, hours = 24 * 14): Promise<Record<string, unknown>[]> {
    if (!this.featuresTable) return [];
    const since = this.now() - hours * 3_600_000;
    const out: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.ddb.send(
        new QueryCommand({
          TableName: this.featuresTable,
          KeyConditionExpression: 'pk = :p AND sk >= :s',
          ExpressionAttributeValues: { ':p': `${ACCOUNT_PREFIX}${accountId}`, ':s': `${WINDOW_PREFIX}${pad13(since)}` },
          ExclusiveStartKey: start,
        }),
      );
      out.push(...((r.Items ?? []) as Record<string, unknown>[]));
      start = r.LastEvaluatedKey;
    } while (start && out.length < 2000);
    return out;
  }

  // ---------------- allowlist and breaker (operators) ----------------

  async allowlistAdd(e: { accountId: string; owner: string; reason: string; expiresAtMs: number; actor: string }): Promise<AllowEntry> {
    assertId('accountId', e.accountId);
    const text = (what: string, v: unknown, max: number): string => {
      if (typeof v !== 'string' || !v.trim()) throw new OperatorError(`allowlist ${what} must not be empty`);
      if (v.length > max) throw new OperatorError(`allowlist ${what} must be at most ${max} characters, got ${v.length}`);
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f]/.test(v)) throw new OperatorError(`allowlist ${what} must not contain control characters`);
      return v;
    };
    text('owner', e.owner, ALLOWLIST_MAX_OWNER);
    text('reason', e.reason, ALLOWLIST_MAX_REASON);
    const now = this.now();
    if (typeof e.expiresAtMs !== 'number' || !Number.isFinite(e.expiresAtMs))
      throw new OperatorError(`allowlist expiry must be a date, got ${JSON.stringify(e.expiresAtMs)}`);
    if (!(e.expiresAtMs > now)) throw new OperatorError(`allowlist expiry must be in the future, got ${new Date(e.expiresAtMs).toISOString()}`);
    const latest = now + ALLOWLIST_MAX_DAYS * 86_400_000;
    if (e.expiresAtMs > latest) {
      throw new OperatorError(
        `allowlist expiry must be at most ${ALLOWLIST_MAX_DAYS} days ahead (${new Date(latest).toISOString()}), got ${new Date(e.expiresAtMs).toISOString()}; renew the entry when it ends`,
      );
    }
    const entry: AllowEntry & Record<string, unknown> = {
      ...keys.allow(e.accountId),
      accountId: e.accountId,
      owner: e.owner,
      reason: e.reason,
      expiresAt: Math.floor(e.expiresAtMs / 1000),
      createdAt: new Date(now).toISOString(),
      createdBy: e.actor,
      gsi1pk: ALLOW_GSI_PK,
      gsi1sk: e.accountId,
    };
    await this.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: this.table, Item: entry } },
          this.auditPut(
            this.audit({
              caseId: keys.opsAuditCase(),
              accountId: e.accountId,
              actor: e.actor,
              action: 'allowlist-added',
              reason: e.reason,
              details: { owner: e.owner, expiresAt: new Date(entry.expiresAt * 1000).toISOString() },
            }),
          ),
        ],
      }),
    );
    return entry;
  }

  async allowlistList(): Promise<AllowEntry[]> {
    const now = this.now();
    return ((await this.queryState(ALLOW_GSI_PK)) as unknown as AllowEntry[]).filter((e) => e.expiresAt * 1000 > now);
  }

  async allowlistRemove(accountId: string, actor: string, reason: string): Promise<void> {
    assertId('accountId', accountId);
    try {
      await this.ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            { Delete: { TableName: this.table, Key: keys.allow(accountId), ConditionExpression: 'attribute_exists(pk)' } },
            this.auditPut(this.audit({ caseId: keys.opsAuditCase(), accountId, actor, action: 'allowlist-removed', reason })),
          ],
        }),
      );
    } catch (err) {
      if (err instanceof TransactionCanceledException && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') {
        throw new OperatorError(`account ${accountId} is not on the allowlist`);
      }
      throw err;
    }
  }

  /** Trip the breaker (idempotent: only the first trip is recorded). Returns true when this call tripped it. */
  async tripBreaker(reason: string, caseId: string, accountId: string): Promise<boolean> {
    const at = new Date(this.now()).toISOString();
    try {
      await this.ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: keys.breakerState(),
                UpdateExpression: 'SET tripped = :t, trippedAt = :at, trippedReason = :r, trippedByCase = :c',
                ConditionExpression: 'attribute_not_exists(tripped) OR tripped = :f',
                ExpressionAttributeValues: { ':t': true, ':f': false, ':at': at, ':r': reason, ':c': caseId },
              },
            },
            this.auditPut(this.audit({ caseId, accountId, actor: 'auto', action: 'breaker-tripped', reason })),
          ],
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof TransactionCanceledException) return false;
      throw err;
    }
  }

  async rearmBreaker(actor: string, reason: string): Promise<BreakerState> {
    const at = new Date(this.now()).toISOString();
    await this.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.table,
              Key: keys.breakerState(),
              UpdateExpression: 'SET tripped = :f, rearmedAt = :at, rearmedBy = :by, rearmReason = :r',
              ExpressionAttributeValues: { ':f': false, ':at': at, ':by': actor, ':r': reason },
            },
          },
          this.auditPut(this.audit({ caseId: keys.opsAuditCase(), accountId: '-', actor, action: 'breaker-rearmed', reason })),
        ],
      }),
    );
    return this.getBreaker();
  }

  // ---------------- API keys ----------------

  /**
   * The API keys the account OWNS: those whose `customerId` is the account, plus the ids recorded on the account
   * (`apiKeyIds`) unless the key names another customer. Keys merely seen in the account's traffic are not
   * included: a key can be shared, and disabling it would lock out every other account using it.
   */
  async discoverKeys(accountId: string, recorded: string[] = []): Promise<string[]> {
    if (!this.manageApiKeys) return [];
    const ids = new Set<string>();
    let position: string | undefined;
    do {
      const r = await this.apigw.send(new GetApiKeysCommand({ customerId: accountId, includeValues: false, limit: 500, position }));
      for (const k of r.items ?? []) if (k.id && k.customerId === accountId) ids.add(k.id);
      position = r.position;
    } while (position);
    for (const id of recorded.filter((k) => k && k !== '-' && !ids.has(k))) {
      const owner = await this.keyOwner(id);
      if (owner.exists && (owner.customerId === undefined || owner.customerId === accountId)) ids.add(id);
    }
    return [...ids].sort();
  }

  /** The `customerId` of a key (`exists: false` when it no longer exists). */
  async keyOwner(id: string): Promise<{ exists: boolean; customerId?: string }> {
    try {
      const k = await this.apigw.send(new GetApiKeyCommand({ apiKey: id, includeValue: false }));
      return { exists: true, ...(k.customerId ? { customerId: k.customerId } : {}) };
    } catch (err) {
      if ((err as { name?: string }).name === 'NotFoundException') return { exists: false };
      throw err;
    }
  }

  /**
   * Keys seen in the account's traffic that it does not own: kept as evidence (with their owner, when the key
   * names one), never disabled. At most `MAX_SEEN_KEY_LOOKUPS` are looked up; the rest are listed without owner.
   */
  async seenKeysNotOwned(seen: string[], owned: string[]): Promise<SeenKey[]> {
    if (!this.manageApiKeys) return [];
    const own = new Set(owned);
    const ids = [...new Set(seen.filter((k) => typeof k === 'string' && k && k !== '-' && !own.has(k)))].sort();
    const out: SeenKey[] = [];
    for (const [i, id] of ids.entries()) {
      if (i >= MAX_SEEN_KEY_LOOKUPS) {
        out.push({ id, owner: null });
        continue;
      }
      const o = await this.keyOwner(id);
      out.push({ id, owner: o.exists ? (o.customerId ?? null) : null, ...(o.exists ? {} : { deleted: true }) });
    }
    return out;
  }

  /** Keys among `ids` that are currently enabled (keys that no longer exist are skipped). */
  async enabledKeys(ids: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const id of ids) {
      try {
        const k = await this.apigw.send(new GetApiKeyCommand({ apiKey: id, includeValue: false }));
        if (k.enabled) out.push(id);
      } catch (err) {
        if ((err as { name?: string }).name === 'NotFoundException') continue;
        throw err;
      }
    }
    return out;
  }

  async setKeysEnabled(ids: string[], enabled: boolean): Promise<void> {
    for (const id of ids) {
      try {
        await this.apigw.send(
          new UpdateApiKeyCommand({ apiKey: id, patchOperations: [{ op: 'replace', path: '/enabled', value: String(enabled) }] }),
        );
      } catch (err) {
        if ((err as { name?: string }).name === 'NotFoundException') continue; // a deleted key is as good as disabled
        throw err;
      }
    }
  }

  // ---------------- suspension ----------------

  /**
   * Apply a suspension for a case, so that a failure never leaves it half-applied:
   * 1. record on the case which keys are about to be disabled (`pendingKeyDisable`: the keys the account OWNS,
   *    see discoverKeys) and which keys seen in its traffic are left alone (`keysSeenNotDisabled`, evidence),
   *    then disable the owned ones;
   * 2. one transaction: allowlist and breaker (auto only) condition checks, account status, case closed,
   *    audit entry, `Account Suspended` outbox item, and (auto only) the breaker hour counter, incremented only
   *    while it stays within the limit: the limit is enforced here, atomically, so a burst of simultaneous
   *    cases can never apply more than it;
   * 3. if the transaction is refused by the allowlist or breaker, re-enable the keys (compensation) and report;
   *    a refusal by the hour counter also trips the breaker.
   * Idempotent: a retry after success returns `suspended` without touching anything.
   */
  async applySuspension(p: {
    caseId: string;
    decidedBy: string;
    decidedAt: string;
    reason?: string;
    policy: BanPolicy;
    auto: boolean;
    /** Auto only: most auto-suspensions in the sliding hour (the guardrails' limit, count and share rules). */
    breakerLimit?: number;
    /** Count this suspension on the breaker (and honour its limit). @default auto */
    countBreaker?: boolean;
    /** The cluster case whose one decision this suspension applies (audited). */
    clusterCaseId?: string;
  }): Promise<{
    outcome: 'suspended' | 'allowlisted' | 'breaker' | 'not-open';
    suspendedUntil?: number;
    offence?: number;
    keys?: string[];
    breakerTripped?: boolean;
  }> {
    const counted = p.countBreaker ?? p.auto;
    const c = await this.requireCase(p.caseId);
    if (c.outcome === 'suspended') return { outcome: 'suspended', suspendedUntil: c.suspendedUntil ?? undefined, offence: c.offence };
    if (c.state === 'closed') return { outcome: 'not-open' };
    const now = this.now();
    const allow = await this.getAllow(c.accountId);
    if (allow && allow.expiresAt * 1000 > now) return { outcome: 'allowlisted' };

    // The breaker's room, for an auto-suspension: how high the current hour's counter may go.
    const hour = Math.floor(now / 3_600_000) * 3_600_000;
    let hourCap = Infinity;
    const limit = p.breakerLimit;
    if (counted && limit !== undefined && Number.isFinite(limit)) {
      const { previous } = await this.breakerCounts(now);
      // suspensionsLastHour = current + previous * (1 - elapsed) must stay <= limit after the increment.
      hourCap = Math.floor(limit - previous * (1 - (now % 3_600_000) / 3_600_000) + 1e-9);
    }
    // A refusal undoes step 1 (when it ran: a retry may find keys already disabled).
    const undo = async (why: string) => {
      if ((await this.getCase(p.caseId))?.pendingKeyDisable) await this.compensateSuspension(p.caseId, why);
    };
    const breakerRefusal = async (why: string) => {
      const tripped = await this.tripBreaker(why, c.caseId, c.accountId);
      await undo(`suspension refused: breaker (${why})`);
      return { outcome: 'breaker' as const, breakerTripped: tripped };
    };
    if (counted) {
      const state = await this.getBreaker();
      if (state.tripped) {
        await undo('suspension refused: breaker tripped');
        return { outcome: 'breaker' };
      }
      if (hourCap < 1) return breakerRefusal(`auto-suspension limit ${limit} per hour reached at apply time`);
    }
    const account = await this.getAccount(c.accountId);

    // 1. keys: remember, then disable (only the account's own; keys seen in its traffic are evidence).
    let pending = c.pendingKeyDisable as string[] | undefined;
    let seen = (c.keysSeenNotDisabled as SeenKey[] | undefined) ?? [];
    if (!pending) {
      const owned = await this.discoverKeys(c.accountId, account?.apiKeyIds ?? []);
      const enabled = await this.enabledKeys(owned);
      const seenNow = await this.seenKeysNotOwned(c.evidence?.apiKeys ?? [], owned);
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.case(p.caseId),
          UpdateExpression:
            'SET pendingKeyDisable = if_not_exists(pendingKeyDisable, :k), keysSeenNotDisabled = if_not_exists(keysSeenNotDisabled, :s)',
          ExpressionAttributeValues: { ':k': enabled, ':s': seenNow },
        }),
      );
      const fresh = await this.getCase(p.caseId);
      pending = (fresh?.pendingKeyDisable as string[] | undefined) ?? enabled;
      seen = (fresh?.keysSeenNotDisabled as SeenKey[] | undefined) ?? seenNow;
    }
    await this.setKeysEnabled(pending, false);

    // 2. the decision, atomically.
    const plan = planSuspension({ offences: Number(account?.offences ?? 0), lastSuspensionEnd: account?.lastSuspensionEnd ?? null }, p.policy, now);
    const event = buildBanEvent('Account Suspended', {
      accountId: c.accountId,
      caseId: c.caseId,
      decidedBy: p.decidedBy,
      reasons: c.reasons,
      score: c.score,
      clusterId: c.clusterId,
      relatedAccountIds: c.relatedAccountIds,
      decidedAt: p.decidedAt,
      reasonDetails: c.reasonDetails,
      suspendedUntil: plan.suspendedUntil,
      offence: plan.offence,
    });
    const iso = new Date(now).toISOString();
    const sharedKeys = seen.filter((k) => k.owner !== c.accountId);
    const items: TransactItems = [
      {
        ConditionCheck: {
          TableName: this.table,
          Key: keys.allow(c.accountId),
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :nowS',
          ExpressionAttributeValues: { ':nowS': Math.floor(now / 1000) },
        },
      },
      {
        Update: {
          TableName: this.table,
          Key: keys.accountStatus(c.accountId),
          UpdateExpression:
            'SET #s = :sus, suspendedUntil = :until, offences = :off, lastCaseId = :c, disabledKeyIds = :keys, suspendedAt = :at, suspendedBy = :by, accountId = :a, gsi1pk = :g, gsi1sk = :gs, createdAt = if_not_exists(createdAt, :at) REMOVE openCaseId',
          ConditionExpression: 'openCaseId = :c',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':sus': 'suspended',
            ':until': plan.suspendedUntil,
            ':off': plan.offence,
            ':c': c.caseId,
            ':keys': pending,
            ':at': iso,
            ':by': p.decidedBy,
            ':a': c.accountId,
            ':g': SUSPENDED_GSI_PK,
            ':gs': `${pad13(plan.suspendedUntil)}#${c.accountId}`,
          },
        },
      },
      {
        Update: {
          TableName: this.table,
          Key: keys.case(c.caseId),
          UpdateExpression:
            'SET #st = :closed, outcome = :o, decidedBy = :by, decidedAt = :dat, suspendedUntil = :until, offence = :off, disabledKeyIds = :keys, updatedAt = :at, gsi1pk = :g, gsi1sk = :gsk REMOVE pendingKeyDisable',
          ConditionExpression: '#st <> :closed',
          ExpressionAttributeNames: { '#st': 'state' },
          ExpressionAttributeValues: {
            ':closed': 'closed',
            ':o': 'suspended',
            ':by': p.decidedBy,
            ':dat': p.decidedAt,
            ':until': plan.suspendedUntil,
            ':off': plan.offence,
            ':keys': pending,
            ':at': iso,
            ':g': caseStateGsiPk('closed'),
            ':gsk': c.createdAt,
          },
        },
      },
      this.auditPut(
        this.audit({
          caseId: c.caseId,
          accountId: c.accountId,
          actor: p.decidedBy,
          action: 'suspended',
          reason: p.reason ?? (p.auto ? `auto-suspended: ${c.reasons.join(', ')}` : undefined),
          details: {
            suspendedUntil: new Date(plan.suspendedUntil).toISOString(),
            offence: plan.offence,
            durationMs: plan.durationMs,
            apiKeysDisabled: pending,
            // Keys in its traffic it does not own (shared with, or owned by, other accounts): evidence, left enabled.
            ...(sharedKeys.length ? { apiKeysSeenNotDisabled: sharedKeys } : {}),
            eventId: event.eventId,
            clusterId: c.clusterId,
            ...(p.clusterCaseId ? { clusterCaseId: p.clusterCaseId } : {}),
          },
        }),
      ),
      { Put: { TableName: this.table, Item: toOutboxItem(event, now), ConditionExpression: 'attribute_not_exists(pk)' } },
    ];
    const BREAKER_STATE = 5;
    const BREAKER_HOUR = 6;
    if (counted) {
      items.push({
        ConditionCheck: {
          TableName: this.table,
          Key: keys.breakerState(),
          ConditionExpression: 'attribute_not_exists(tripped) OR tripped = :f',
          ExpressionAttributeValues: { ':f': false },
        },
      });
      const bounded = Number.isFinite(hourCap);
      items.push({
        Update: {
          TableName: this.table,
          Key: keys.breakerHour(hour),
          UpdateExpression: 'ADD n :one SET expiresAt = :exp',
          // The limit, atomically: the counter only moves while it is below the cap (hourCap >= 1 here).
          ...(bounded ? { ConditionExpression: 'attribute_not_exists(n) OR n < :cap' } : {}),
          ExpressionAttributeValues: { ':one': 1, ':exp': Math.floor(hour / 1000) + 3 * 86_400, ...(bounded ? { ':cap': hourCap } : {}) },
        },
      });
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.ddb.send(new TransactWriteCommand({ TransactItems: items }));
        break;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        const codes = (err.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
        const failed = (i: number) => codes[i] === 'ConditionalCheckFailed';
        if (codes.some((x) => x === 'ConditionalCheckFailed')) {
          const again = await this.getCase(p.caseId);
          if (again?.outcome === 'suspended')
            return { outcome: 'suspended', suspendedUntil: again.suspendedUntil ?? undefined, offence: again.offence };
          if (failed(0)) {
            await this.compensateSuspension(p.caseId, 'suspension refused: allowlisted');
            return { outcome: 'allowlisted' };
          }
          if (failed(1) || failed(2)) {
            await this.compensateSuspension(p.caseId, `suspension refused: ${codes.join(',')}`);
            return { outcome: 'not-open' };
          }
          if (counted && failed(BREAKER_HOUR)) return breakerRefusal(`auto-suspension limit ${limit} per hour reached at apply time`);
          if (counted && failed(BREAKER_STATE)) {
            await this.compensateSuspension(p.caseId, 'suspension refused: breaker tripped');
            return { outcome: 'breaker' };
          }
          throw err;
        }
        // Simultaneous suspensions contend on the breaker counter: a conflict is retried here, with jitter,
        // before handing the failure to the state machine's retry.
        if (codes.includes('TransactionConflict') && attempt < TX_CONFLICT_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, Math.random() * 50 * 2 ** attempt));
          continue;
        }
        throw err; // transient (TransactionConflict, throttling): the state machine retries
      }
    }
    return { outcome: 'suspended', suspendedUntil: plan.suspendedUntil, offence: plan.offence, keys: pending };
  }

  /** Undo step 1 of applySuspension: re-enable the keys it disabled, unless the suspension committed. */
  async compensateSuspension(caseId: string, why: string): Promise<{ reenabled: string[] }> {
    const c = await this.getCase(caseId);
    if (!c || c.outcome === 'suspended') return { reenabled: [] };
    const pending = (c.pendingKeyDisable as string[] | undefined) ?? [];
    await this.setKeysEnabled(pending, true);
    await this.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          { Update: { TableName: this.table, Key: keys.case(caseId), UpdateExpression: 'REMOVE pendingKeyDisable' } },
          this.auditPut(
            this.audit({
              caseId,
              accountId: c.accountId,
              actor: 'auto',
              action: 'suspension-compensated',
              reason: why,
              details: { apiKeysReenabled: pending },
            }),
          ),
        ],
      }),
    );
    return { reenabled: pending };
  }

  /**
   * Reinstate a suspended account. The keys the suspension disabled are re-enabled FIRST, while the account is
   * still `suspended` and on the suspended index: if that fails (a throttled UpdateApiKey), nothing else has
   * changed, no event has gone out, and the expirer (or the operator) simply tries again. Then one transaction,
   * guarded on the suspension it saw: status restored, audit entry, `Account Reinstated` outbox event.
   */
  async reinstate(p: {
    accountId: string;
    actor: string;
    reason: string;
    kind: 'manual' | 'expired';
  }): Promise<{ reinstated: boolean; keys: string[]; caseId: string }> {
    assertId('accountId', p.accountId);
    if (!p.reason.trim()) throw new OperatorError('a reason is required');
    const a = await this.getAccount(p.accountId);
    if (!a) throw new OperatorError(`account ${p.accountId} has no status record`);
    const caseId = a.lastCaseId ?? keys.opsAuditCase();
    const now = this.now();
    if (a.status === 'restricted') {
      const r = await liftRestriction(this, { accountId: p.accountId, actor: p.actor, reason: p.reason, kind: p.kind });
      return { reinstated: r.lifted, keys: r.keys, caseId: r.caseId };
    }
    if (a.status !== 'suspended') {
      // Left over by an earlier version that re-enabled keys after the status change.
      if (!a.keysPendingEnable?.length) throw new OperatorError(`account ${p.accountId} is not suspended (status ${a.status})`);
      await this.setKeysEnabled(a.keysPendingEnable, true);
      await this.ddb.send(
        new UpdateCommand({ TableName: this.table, Key: keys.accountStatus(p.accountId), UpdateExpression: 'REMOVE keysPendingEnable' }),
      );
      return { reinstated: false, keys: a.keysPendingEnable, caseId };
    }
    if (p.kind === 'expired' && !(typeof a.suspendedUntil === 'number' && a.suspendedUntil <= now)) {
      return { reinstated: false, keys: [], caseId };
    }
    const keysToEnable = a.disabledKeyIds ?? [];
    // 1. keys back on (idempotent; a failure throws with the account still suspended and indexed), and back on
    // their usage plan when a restriction preceded the suspension.
    await this.setKeysEnabled(keysToEnable, true);
    const unrestricted = await restoreRestrictedKeys(this, a);

    // 2. the decision, atomically.
    const c = a.lastCaseId ? await this.getCase(a.lastCaseId) : undefined;
    // Expiry is decided by the clock at suspendedUntil: a stable decision time, so retries share the event id.
    const decidedAt = p.kind === 'expired' && typeof a.suspendedUntil === 'number' ? a.suspendedUntil : now;
    const event = reinstatedEvent(
      {
        accountId: p.accountId,
        caseId,
        actor: p.actor,
        reason: p.reason,
        decidedAt,
        reinstatedReason: p.kind === 'expired' ? 'suspension-expired' : 'manual',
      },
      c,
    );
    const iso = new Date(now).toISOString();
    try {
      await this.ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: keys.accountStatus(p.accountId),
                UpdateExpression:
                  'SET #s = :active, lastSuspensionEnd = :now, reinstatedAt = :at, reinstatedBy = :by REMOVE suspendedUntil, disabledKeyIds, keysPendingEnable, gsi1pk, gsi1sk, stepUp, restrictedUntil, restrictedKeyIds',
                ConditionExpression: '#s = :sus AND suspendedAt = :seenAt',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: {
                  ':active': 'active',
                  ':sus': 'suspended',
                  ':now': now,
                  ':at': iso,
                  ':by': p.actor,
                  ':seenAt': a.suspendedAt ?? null,
                },
              },
            },
            this.auditPut(
              this.audit({
                caseId,
                accountId: p.accountId,
                actor: p.actor,
                action: p.kind === 'expired' ? 'suspension-expired' : 'reinstated',
                reason: p.reason,
                details: {
                  apiKeysEnabled: keysToEnable,
                  eventId: event.eventId,
                  suspendedUntil: a.suspendedUntil ?? null,
                  ...(unrestricted.length ? { apiKeysUnrestricted: unrestricted } : {}),
                },
              }),
            ),
            { Put: { TableName: this.table, Item: toOutboxItem(event, now), ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
    } catch (err) {
      if (err instanceof TransactionCanceledException) {
        // Someone else reinstated it (keys on is then right), or a newer suspension replaced the one we saw: its
        // account must not keep the keys we just turned on.
        const after = await this.getAccount(p.accountId);
        if (after?.status === 'suspended' && after.suspendedAt !== a.suspendedAt) await this.setKeysEnabled(keysToEnable, false);
        throw new OperatorError(
          `account ${p.accountId} changed while reinstating (${(err.CancellationReasons ?? []).map((r) => r.Code).join(',')}); check its status and retry`,
        );
      }
      throw err;
    }
    if (c) {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.case(c.caseId),
          UpdateExpression: 'SET reinstatedAt = :at, reinstatedBy = :by',
          ExpressionAttributeValues: { ':at': iso, ':by': p.actor },
        }),
      );
    }
    return { reinstated: true, keys: keysToEnable, caseId };
  }

  /** Suspended accounts whose suspension ended before `nowMs` (GSI byState, sorted by end time). */
  async expiredSuspensions(nowMs = this.now(), limit = 100): Promise<AccountStatus[]> {
    return (await this.queryState(SUSPENDED_GSI_PK, { limit, before: `${pad13(nowMs)}#~` })) as unknown as AccountStatus[];
  }

  async suspendedAccounts(limit = 500): Promise<AccountStatus[]> {
    return (await this.queryState(SUSPENDED_GSI_PK, { limit })) as unknown as AccountStatus[];
  }

  async deleteItem(key: { pk: string; sk: string }): Promise<void> {
    await this.ddb.send(new DeleteCommand({ TableName: this.table, Key: key }));
  }
}

export type { BreakerConfig };
