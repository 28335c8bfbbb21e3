/**
 * The scheduled scorer's work, with its clients injected (the handler in scorer.ts is the thin adapter):
 *
 * 1. read the windows of the last `lookbackHours` (window-reader.ts): list them through the features table's
 *    `byHour` GSI (`gsi1pk = H#<windowStart>#<bucket 0..15>`: 16 small partitions per hour, queried in parallel; no
 *    scan), then BatchGet the ones not already held unchanged from an earlier run (`cache`, change marker `upd`);
 * 2. read `MODEL#<model>/FIRST` for the models seen, the allowlist (`byState` GSI partition `ALLOW`) and the shadow
 *    config (`CONFIG/SHADOW`) from the control table;
 * 3. build profiles (reusing those whose windows did not change) and run the same detection code as replay
 *    (src/detect);
 * 4. write `SCORE#<id>/SCORE` for every account above `allow` (firstFlaggedAt kept with if_not_exists): a partition
 *    of its own, so the scorer's role can write scores without being able to touch `ACCOUNT#<id>/STATUS`;
 * 5. start the escalation workflow for accounts at review/suspend without an open case: execution name = caseId
 *    (`nextCaseId`: stable per account, UTC day and the account's last case, so a re-run of the scorer cannot open
 *    a second case, ExecutionAlreadyExists is success, and an account whose case closed can be escalated again the
 *    same day), input per docs/DESIGN.md "Workflow input".
 */
import { DynamoDBClient, GetItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ALLOW_GSI_PK, CONTROL_BY_STATE_INDEX, MODEL_FIRST_SK, MODEL_PREFIX, keys } from '../../src/shared/tables';
import { executionNamePart } from '../../src/shared/account-id';
import { fnv1a } from '../../src/shared/hash';
import { WINDOW_MS, type AccountWindow } from '../../src/aggregate/window';
import {
  abusePoints,
  decisionRank,
  runDetection,
  SIGNALS,
  type DetectionConfig,
  type DetectionResult,
  type ExternalIndicatorSet,
  type Signal,
} from '../../src/detect/index';
import { recommendStep } from '../../src/escalate/restriction';
import { batchGetAll, buildProfiles, pool, readWindows, type WindowCache, type WindowReadDeps, type WindowReadStats } from './window-reader';

export interface ScorerLog {
  info(msg: string, extra: Record<string, unknown>): void;
  error?(msg: string, extra: Record<string, unknown>): void;
}

/** What the scorer needs: the window reader's (features table, hour index, clock, BatchGet options) and its own. */
export interface ScorerDeps extends WindowReadDeps {
  ddb: DynamoDBClient;
  sfn: SFNClient;
  controlTable: string;
  stateMachineArn: string;
  config: DetectionConfig;
  /** Indicators partners shared (the `external-indicator` signal); none when absent. */
  external?: ExternalIndicatorSet;
  lookbackHours: number;
  now: number;
  log?: ScorerLog;
  /** Parallel DynamoDB/SFN requests. @default 16 */
  concurrency?: number;
  /** Name of the control table's state index. @default 'byState' */
  byStateIndex?: string;
  /**
   * Windows and profiles kept from earlier runs (module scope in the handler, so a warm execution environment keeps
   * them). Without it every run reads and builds everything.
   */
  cache?: WindowCache;
  /** A cached window older than this is read again even if unchanged. @default no limit */
  cacheMaxAgeMs?: number;
}

export interface ScorerSummary {
  windows: number;
  accounts: number;
  clusters: number;
  decisions: Record<string, number>;
  scoresWritten: number;
  casesStarted: number;
  /** Flagged accounts whose case today's execution already opened (`CASE#<caseId>` exists). */
  casesAlreadyOpen: number;
  /**
   * Flagged accounts for which no case was opened: StartExecution was refused (validation, throttling), or today's
   * execution of that name exists but never recorded its case (it failed first). Never counted as open; retried
   * next run.
   */
  casesStartFailed: number;
  /** Up to 5 of them, for the log. */
  startFailures: Array<{ accountId: string; caseId: string; reason: string }>;
  allowlisted: number;
  shadow: { global: boolean; signals: string[] };
  /** Profile building plus detection. */
  detectMs: number;
  /** How the windows were read. */
  read: WindowReadStats;
  /** Profiles rebuilt this run and reused from the previous one. */
  profilesRebuilt: number;
  profilesReused: number;
  /** Phases, wall ms: reading (windows, allowlist, shadow config, model first-seen), profiles, detection, writes. */
  timings: { readMs: number; profileMs: number; runDetectionMs: number; writeMs: number; totalMs: number };
}

/** Windows of every account active in [from, to) (window-reader.ts; no reuse across runs). */
export async function readRecentWindows(deps: ScorerDeps, from: number, to: number): Promise<AccountWindow[]> {
  return (await readWindows(deps, from, to)).windows;
}

export async function readModelFirstSeen(deps: ScorerDeps, models: string[]): Promise<Record<string, number>> {
  // Keyed by model name (data): no prototype, so a model named `constructor` or `toString` is just a key.
  const out: Record<string, number> = Object.create(null);
  const keys = models.map((m) => ({ pk: { S: MODEL_PREFIX + m }, sk: { S: MODEL_FIRST_SK } }));
  await batchGetAll(
    deps.ddb,
    deps.featuresTable,
    keys,
    (item) => {
      const pk = item.pk?.S ?? '';
      const first = Number(item.firstSeen?.N);
      if (pk.startsWith(MODEL_PREFIX) && Number.isFinite(first)) out[pk.slice(MODEL_PREFIX.length)] = first;
    },
    { ...deps.batchGet, concurrency: deps.concurrency ?? 16 },
  );
  return out;
}

export async function readAllowlist(deps: ScorerDeps): Promise<Set<string>> {
  const out = new Set<string>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const r = await deps.ddb.send(
      new QueryCommand({
        TableName: deps.controlTable,
        IndexName: deps.byStateIndex ?? CONTROL_BY_STATE_INDEX,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: ALLOW_GSI_PK } },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of r.Items ?? []) {
      const e = unmarshall(item) as { accountId?: string; expiresAt?: number };
      if (e.accountId && (!e.expiresAt || e.expiresAt * 1000 > deps.now)) out.add(e.accountId);
    }
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

/** CONFIG/SHADOW (`global`, `signals`) merged over the deployed detection config. */
export async function readShadow(deps: ScorerDeps): Promise<{ global: boolean; signals: Signal[] }> {
  const r = await deps.ddb.send(new GetItemCommand({ TableName: deps.controlTable, Key: marshall(keys.shadowConfig()), ConsistentRead: true }));
  if (!r.Item) return { global: false, signals: [] };
  const v = unmarshall(r.Item) as { global?: unknown; signals?: unknown };
  const signals = (Array.isArray(v.signals) ? v.signals : v.signals instanceof Set ? [...v.signals] : []).filter((s): s is Signal =>
    (SIGNALS as readonly string[]).includes(String(s)),
  );
  return { global: v.global === true, signals };
}

/**
 * Step Functions execution names: 1..80 of [A-Za-z0-9-_]. The first case of an account on a UTC day (`nextCaseId`
 * numbers the next ones). The account part is the reversible, collision-free name form of src/shared/account-id.ts
 * (never a lossy replacement or a bare truncation).
 */
export function caseIdFor(accountId: string, now: number): string {
  const safe = executionNamePart(accountId);
  const day = new Date(now).toISOString().slice(0, 10).replace(/-/g, '');
  return `${safe}-${day}-${fnv1a(accountId).toString(16).padStart(8, '0')}`;
}

/**
 * The case id (= execution name) of the account's next case. The first case of a UTC day is `caseIdFor(...)`;
 * when the account's last case is already today's (it closed overdue, rejected, errored, or a suspension ended the
 * same day), the next one carries an attempt suffix, `-r1`, `-r2`, ...: a closed execution's name cannot be
 * reused, and an account released by a case must be escalatable again at once. The attempt comes from the case
 * state (`lastCaseId` on the account status), so two scorer runs that see the same state still pick the same
 * name, and the RecordCase transaction keeps at most one case open per account.
 */
export function nextCaseId(accountId: string, now: number, lastCaseId?: string | null): string {
  const base = caseIdFor(accountId, now);
  if (!lastCaseId) return base;
  if (lastCaseId === base) return `${base}-r1`;
  const m = lastCaseId.startsWith(`${base}-r`) ? /^[0-9]{1,4}$/.exec(lastCaseId.slice(base.length + 2)) : null;
  return m ? `${base}-r${Number(m[0]) + 1}` : base;
}

export type StartOutcome = { outcome: 'started' } | { outcome: 'open' } | { outcome: 'failed'; reason: string };

/**
 * Start the case's execution. `ExecutionAlreadyExists` (today's execution of that name exists, with another input)
 * counts as "already open" only when that execution did open the case (its `CASE#<caseId>` item exists): one that
 * failed before recording it (e.g. its input was refused) opened nothing. A refused start (validation, throttling)
 * opened nothing either. Both are reported as `failed`, never as open, so the account is not silently dropped; the
 * next run tries again. (Reading the case item needs no permission beyond the control-table read the scorer has.)
 */
export async function startCase(
  deps: Pick<ScorerDeps, 'sfn' | 'ddb' | 'stateMachineArn' | 'controlTable'>,
  caseId: string,
  input: Record<string, unknown>,
): Promise<StartOutcome> {
  try {
    await deps.sfn.send(new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name: caseId, input: JSON.stringify(input) }));
    return { outcome: 'started' };
  } catch (err) {
    const name = (err as { name?: string }).name ?? 'Error';
    if (!(err instanceof ExecutionAlreadyExists || name === 'ExecutionAlreadyExists'))
      return { outcome: 'failed', reason: `${name}: ${String((err as Error).message ?? err).slice(0, 200)}` };
  }
  try {
    const c = await deps.ddb.send(
      new GetItemCommand({ TableName: deps.controlTable, Key: marshall(keys.case(caseId)), ProjectionExpression: 'pk', ConsistentRead: true }),
    );
    return c.Item
      ? { outcome: 'open' }
      : { outcome: 'failed', reason: `execution ${caseId} exists but opened no case (it failed before recording it)` };
  } catch (err) {
    return {
      outcome: 'failed',
      reason: `ExecutionAlreadyExists, and the case could not be read: ${String((err as Error).message ?? err).slice(0, 200)}`,
    };
  }
}

type Scored = DetectionResult['accounts'][number];

function workflowInput(a: Scored, caseId: string, now: number, result: DetectionResult, config: DetectionConfig): Record<string, unknown> {
  const cluster = a.clusterId ? result.clusters.find((c) => c.clusterId === a.clusterId) : undefined;
  const f = a.features;
  // The step for a review case (src/escalate/restriction.ts): restrict plus review, or review only.
  const strong = abusePoints(a.reasonDetails, config);
  const recommendedAction = recommendStep({
    decision: a.decision,
    coordinated: strong.coordinated,
    families: strong.families,
    accountAgeMs: f.accountAgeMs,
  });
  return {
    caseId,
    accountId: a.accountId,
    decision: a.decision,
    ...(recommendedAction ? { recommendedAction } : {}),
    score: a.score,
    reasons: a.reasons,
    reasonDetails: a.reasonDetails.map(({ signal, value, baseline, text }) => ({ signal, value, baseline, text })),
    clusterId: a.clusterId,
    relatedAccountIds: a.relatedAccountIds.slice(0, 50),
    flaggedAt: now,
    evidence: {
      features: {
        requests: f.requests,
        activeHours: f.activeHours,
        hoursOfDayActive: f.hoursOfDayActive,
        intentShare: f.intentShare,
        distinctIps: f.distinctIps,
        distinctSubnets: f.distinctSubnets,
        distinctUserAgents: f.distinctUserAgents,
        models: f.models,
        accountAgeMs: f.accountAgeMs,
      },
      cluster: cluster
        ? {
            size: cluster.accountIds.length,
            reasons: cluster.reasons,
            evidence: { ...cluster.evidence, sharedAttributes: cluster.evidence.sharedAttributes.slice(0, 5) },
          }
        : null,
    },
  };
}

export async function runScorer(deps: ScorerDeps): Promise<ScorerSummary> {
  const log = deps.log;
  const t0 = Date.now();
  const from = deps.now - deps.lookbackHours * WINDOW_MS;
  const [read, allowlist, shadow] = await Promise.all([
    readWindows(deps, from, deps.now + 1, deps.cache, deps.cacheMaxAgeMs),
    readAllowlist(deps),
    readShadow(deps),
  ]);
  const windows = read.windows;
  const models = new Set<string>();
  for (const w of windows) for (const m in w.models) models.add(m);
  const modelFirstSeen = await readModelFirstSeen(deps, [...models]);
  const t1 = Date.now();
  const shadowMap: DetectionConfig['shadow'] = { ...deps.config.shadow };
  for (const s of shadow.signals) shadowMap[s] = true;
  const config: DetectionConfig = { ...deps.config, shadow: shadowMap, globalShadow: deps.config.globalShadow || shadow.global };
  const started = Date.now();
  const built = buildProfiles(windows, config.linkage.syncBucketMs, deps.cache, read.gens);
  const profiles = built.profiles;
  const t2 = Date.now();
  const result = runDetection({ profiles, modelFirstSeen, now: deps.now, periodStart: from, config, allowlist, external: deps.external });
  const t3 = Date.now();
  const detectMs = t3 - started;
  const decisions: Record<string, number> = { allow: 0, monitor: 0, review: 0, suspend: 0 };
  for (const a of result.accounts) decisions[a.decision]++;
  const flagged = result.accounts.filter((a) => a.decision !== 'allow');
  let scoresWritten = 0;
  let casesStarted = 0;
  let casesAlreadyOpen = 0;
  let casesStartFailed = 0;
  const startFailures: ScorerSummary['startFailures'] = [];
  const nowIso = new Date(deps.now).toISOString();
  await pool(flagged, deps.concurrency ?? 16, async (a) => {
    const isFlag = decisionRank(a.decision) >= decisionRank('review');
    const values: Record<string, unknown> = {
      ':score': a.score,
      ':decision': a.decision,
      ':reasons': a.reasons,
      ':details': a.reasonDetails.map(({ signal, value, baseline, text, shadow: sh }) => ({ signal, value, baseline, text, shadow: sh })),
      ':cluster': a.clusterId,
      ':related': a.relatedAccountIds.slice(0, 50),
      ':updated': nowIso,
      ':account': a.accountId,
    };
    let update =
      'SET score = :score, decision = :decision, reasons = :reasons, reasonDetails = :details, clusterId = :cluster, relatedAccountIds = :related, updatedAt = :updated, accountId = :account';
    if (isFlag) {
      update += ', firstFlaggedAt = if_not_exists(firstFlaggedAt, :now)';
      values[':now'] = deps.now;
    }
    await deps.ddb.send(
      new UpdateItemCommand({
        TableName: deps.controlTable,
        Key: marshall(keys.accountScore(a.accountId)),
        UpdateExpression: update,
        ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true, convertClassInstanceToMap: true }),
      }),
    );
    scoresWritten++;
    if (!isFlag) return;
    const status = await deps.ddb.send(
      new GetItemCommand({ TableName: deps.controlTable, Key: marshall(keys.accountStatus(a.accountId)), ConsistentRead: true }),
    );
    const st = status.Item
      ? (unmarshall(status.Item) as { status?: string; suspendedUntil?: number | null; openCaseId?: string; lastCaseId?: string })
      : undefined;
    if (st?.openCaseId) {
      casesAlreadyOpen++;
      return;
    }
    if (st?.status === 'suspended' && (st.suspendedUntil === null || st.suspendedUntil === undefined || st.suspendedUntil > deps.now)) return;
    const caseId = nextCaseId(a.accountId, deps.now, st?.lastCaseId);
    const started = await startCase(deps, caseId, workflowInput(a, caseId, deps.now, result, config));
    if (started.outcome === 'started') casesStarted++;
    else if (started.outcome === 'open') casesAlreadyOpen++;
    else {
      casesStartFailed++;
      if (startFailures.length < 5) startFailures.push({ accountId: a.accountId, caseId, reason: started.reason });
    }
  });
  if (casesStartFailed > 0) log?.error?.('case executions not started (retried on the next run)', { casesStartFailed, samples: startFailures });
  const t4 = Date.now();
  const summary: ScorerSummary = {
    windows: windows.length,
    accounts: profiles.length,
    clusters: result.clusters.length,
    decisions,
    scoresWritten,
    casesStarted,
    casesAlreadyOpen,
    casesStartFailed,
    startFailures,
    allowlisted: allowlist.size,
    shadow,
    detectMs,
    read: read.stats,
    profilesRebuilt: built.rebuilt,
    profilesReused: built.reused,
    timings: { readMs: t1 - t0, profileMs: t2 - t1, runDetectionMs: t3 - t2, writeMs: t4 - t3, totalMs: t4 - t0 },
  };
  log?.info('scorer run', { ...summary, linkage: result.linkage });
  return summary;
}
