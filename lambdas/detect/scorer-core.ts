/**
 * The scheduled scorer's work, with its clients injected (the handler in scorer.ts is the thin adapter):
 *
 * 1. read the windows of the last `lookbackHours` (window-reader.ts): list them through the features table's
 *    `byHour` GSI (`gsi1pk = H#<windowStart>#<bucket 0..15>`: 16 small partitions per hour, queried in parallel; no
 *    scan), then BatchGet the ones not already held unchanged from an earlier run (`cache`, change marker `upd`);
 * 2. read `MODEL#<model>/FIRST` for the models seen, the allowlist (`byState` GSI partition `ALLOW`) and the shadow
 *    config (`CONFIG/SHADOW`) from the control table;
 * 3. build profiles (reusing those whose windows did not change) and run the same detection code as replay
 *    (src/detect). From `sharded.minAccounts` accounts on (the population the last run measured), nothing of this
 *    runs here: the scorer starts a distributed run (sharded-run.ts) whose children read, link, decide and write
 *    per account shard (score-shard.ts, linkage-stage.ts), and the invocation that run's end makes (`finish`)
 *    sums it up;
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
import type { ShardPlan } from '../../src/detect/linkage/sharded';
import { finishRun, modelsInNameOrder, sampleIds, type PopulationState, type RunPlan } from '../../src/detect/sharded-run/stages';
import { LINKAGE_RUN_PREFIX } from '../../src/detect/linkage-bucket';
import {
  readPopulationState,
  runningLinkage,
  startShardedRun,
  sumDecideCounts,
  wantsSharded,
  writePopulationState,
  type DecideCounts,
  type ShardedLinkageDeps,
} from './sharded-run';
import {
  batchGetAll,
  buildProfiles,
  emptyReadStats,
  pool,
  readWindows,
  type WindowCache,
  type WindowReadDeps,
  type WindowReadStats,
} from './window-reader';

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
  /** The distributed run (sharded-run.ts). Without it every run scores in process. */
  sharded?: ShardedLinkageDeps;
  /** This invocation is a distributed run's last step: sum that run up. */
  finish?: RunPlan;
}

/** How a run linked: in process, by starting a sharded run, as a sharded run's last step, or not (one in flight). */
export type LinkagePath = 'single' | 'sharded' | 'sharded-finish' | 'sharded-in-flight';

export interface ScorerSummary {
  path: LinkagePath;
  /** The sharded run this invocation started (`started: false`: it existed already), found in flight, or finished. */
  sharded?: { executionName: string; started?: boolean; accountShards?: number; keyPartitions?: number };
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
  const read: Record<string, number> = Object.create(null);
  const keys = models.map((m) => ({ pk: { S: MODEL_PREFIX + m }, sk: { S: MODEL_FIRST_SK } }));
  await batchGetAll(
    deps.ddb,
    deps.featuresTable,
    keys,
    (item) => {
      const pk = item.pk?.S ?? '';
      const first = Number(item.firstSeen?.N);
      if (pk.startsWith(MODEL_PREFIX) && Number.isFinite(first)) read[pk.slice(MODEL_PREFIX.length)] = first;
    },
    { ...deps.batchGet, concurrency: deps.concurrency ?? 16 },
  );
  // In name order, whatever order the reads completed in: detection's result does not depend on the reads.
  return modelsInNameOrder(read);
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

/** The deployed config with CONFIG/SHADOW's signals and global switch on top. */
export function withShadow(config: DetectionConfig, shadow: { global: boolean; signals: Signal[] }): DetectionConfig {
  const shadowMap: DetectionConfig['shadow'] = { ...config.shadow };
  for (const s of shadow.signals) shadowMap[s] = true;
  return { ...config, shadow: shadowMap, globalShadow: config.globalShadow || shadow.global };
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

/** What a case's input says of the account's cluster. */
export type CaseCluster = Pick<DetectionResult['clusters'][number], 'accountIds' | 'reasons' | 'evidence'>;

function workflowInput(a: Scored, caseId: string, now: number, cluster: CaseCluster | undefined, config: DetectionConfig): Record<string, unknown> {
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

/** What a run reads and builds before linking: the same for both linkage paths. */
interface ScorerInputs {
  from: number;
  read: Awaited<ReturnType<typeof readWindows>>;
  allowlist: Set<string>;
  shadow: { global: boolean; signals: Signal[] };
  modelFirstSeen: Record<string, number>;
  config: DetectionConfig;
  built: ReturnType<typeof buildProfiles>;
  /** Wall ms: start, reads done, profiles built. */
  t0: number;
  t1: number;
  t2: number;
}

async function readInputs(deps: ScorerDeps): Promise<ScorerInputs> {
  const t0 = Date.now();
  const from = deps.now - deps.lookbackHours * WINDOW_MS;
  const [read, allowlist, shadow] = await Promise.all([
    readWindows(deps, from, deps.now + 1, deps.cache, deps.cacheMaxAgeMs),
    readAllowlist(deps),
    readShadow(deps),
  ]);
  const models = new Set<string>();
  for (const w of read.windows) for (const m in w.models) models.add(m);
  const modelFirstSeen = await readModelFirstSeen(deps, [...models]);
  const t1 = Date.now();
  const config = withShadow(deps.config, shadow);
  const built = buildProfiles(read.windows, config.linkage.syncBucketMs, deps.cache, read.gens);
  return { from, read, allowlist, shadow, modelFirstSeen, config, built, t0, t1, t2: Date.now() };
}

export type WriteCounts = Pick<ScorerSummary, 'scoresWritten' | 'casesStarted' | 'casesAlreadyOpen' | 'casesStartFailed' | 'startFailures'>;

/**
 * SCORE items for every account above `allow`, and a case for each at review/suspend without one (`clusters`: the
 * clusters of the flagged accounts, for the case input).
 */
export async function writeScores(
  deps: Pick<ScorerDeps, 'ddb' | 'sfn' | 'controlTable' | 'stateMachineArn' | 'now' | 'concurrency' | 'log'>,
  accounts: readonly Scored[],
  clusters: ReadonlyMap<string, CaseCluster>,
  config: DetectionConfig,
): Promise<WriteCounts> {
  const counts: WriteCounts = { scoresWritten: 0, casesStarted: 0, casesAlreadyOpen: 0, casesStartFailed: 0, startFailures: [] };
  const flagged = accounts.filter((a) => a.decision !== 'allow');
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
    counts.scoresWritten++;
    if (!isFlag) return;
    const status = await deps.ddb.send(
      new GetItemCommand({ TableName: deps.controlTable, Key: marshall(keys.accountStatus(a.accountId)), ConsistentRead: true }),
    );
    const st = status.Item
      ? (unmarshall(status.Item) as { status?: string; suspendedUntil?: number | null; openCaseId?: string; lastCaseId?: string })
      : undefined;
    if (st?.openCaseId) {
      counts.casesAlreadyOpen++;
      return;
    }
    if (st?.status === 'suspended' && (st.suspendedUntil === null || st.suspendedUntil === undefined || st.suspendedUntil > deps.now)) return;
    const caseId = nextCaseId(a.accountId, deps.now, st?.lastCaseId);
    const cluster = a.clusterId ? clusters.get(a.clusterId) : undefined;
    const started = await startCase(deps, caseId, workflowInput(a, caseId, deps.now, cluster, config));
    if (started.outcome === 'started') counts.casesStarted++;
    else if (started.outcome === 'open') counts.casesAlreadyOpen++;
    else {
      counts.casesStartFailed++;
      if (counts.startFailures.length < 5) counts.startFailures.push({ accountId: a.accountId, caseId, reason: started.reason });
    }
  });
  if (counts.casesStartFailed > 0)
    deps.log?.error?.('case executions not started (retried on the next run)', {
      casesStartFailed: counts.casesStartFailed,
      samples: counts.startFailures,
    });
  return counts;
}

/** The summary of a run that scored nobody (a sharded run started or in flight). */
function emptySummary(path: LinkagePath, inputs?: ScorerInputs): ScorerSummary {
  const now = Date.now();
  const readMs = inputs ? inputs.t1 - inputs.t0 : 0;
  const profileMs = inputs ? inputs.t2 - inputs.t1 : 0;
  return {
    path,
    windows: inputs?.read.windows.length ?? 0,
    accounts: inputs?.built.profiles.length ?? 0,
    clusters: 0,
    decisions: {},
    scoresWritten: 0,
    casesStarted: 0,
    casesAlreadyOpen: 0,
    casesStartFailed: 0,
    startFailures: [],
    allowlisted: inputs?.allowlist.size ?? 0,
    shadow: inputs?.shadow ?? { global: false, signals: [] },
    detectMs: profileMs,
    read: inputs?.read.stats ?? emptyReadStats(),
    profilesRebuilt: inputs?.built.rebuilt ?? 0,
    profilesReused: inputs?.built.reused ?? 0,
    timings: { readMs, profileMs, runDetectionMs: 0, writeMs: 0, totalMs: inputs ? now - inputs.t0 : 0 },
  };
}

/**
 * One run. With `deps.sharded`, a population at or above its threshold is not scored here: the run starts a
 * distributed run (`path: 'sharded'`) planned from the last population measured, without reading the windows, or
 * does nothing while one is in flight; `deps.finish` (the distributed run's last step) sums the run up.
 */
export async function runScorer(deps: ScorerDeps): Promise<ScorerSummary> {
  const sharded = deps.sharded;
  if (deps.finish) {
    if (!sharded)
      throw new Error(`a distributed run's finishing invocation needs the linkage bucket, got plan ${JSON.stringify(deps.finish.prefix)}`);
    return finishDistributed(deps, sharded, deps.finish);
  }
  if (sharded) {
    const running = await runningLinkage(sharded);
    if (running) {
      deps.log?.info('distributed run in flight: nothing to do', { executionName: running });
      return { ...emptySummary('sharded-in-flight'), sharded: { executionName: running } };
    }
    const state = await readPopulationState(sharded.store);
    if (state && wantsSharded(state.population, sharded)) return startDistributed(deps, sharded, state);
  }
  const inputs = await readInputs(deps);
  const { config, from } = inputs;
  const profiles = inputs.built.profiles;
  if (sharded) {
    // profiles are sorted by id: the sample plans the next distributed run's shards
    const state = { population: profiles.length, sample: sampleIds(profiles.map((p) => p.accountId)), at: deps.now };
    // Best effort: without it the next run measures the population again, and this run still scores.
    await writePopulationState(sharded.store, state).catch((err: unknown) =>
      deps.log?.error?.('population state not written', { error: String((err as Error).message ?? err) }),
    );
    if (wantsSharded(profiles.length, sharded)) return startDistributed(deps, sharded, state, inputs);
  }
  const t2 = Date.now();
  const input = { profiles, modelFirstSeen: inputs.modelFirstSeen, now: deps.now, periodStart: from, config, allowlist: inputs.allowlist };
  const result = runDetection({ ...input, external: deps.external });
  const t3 = Date.now();
  const decisions: Record<string, number> = { allow: 0, monitor: 0, review: 0, suspend: 0 };
  for (const a of result.accounts) decisions[a.decision]++;
  const counts = await writeScores(deps, result.accounts, new Map(result.clusters.map((c) => [c.clusterId, c])), config);
  const t4 = Date.now();
  const summary: ScorerSummary = {
    path: 'single',
    windows: inputs.read.windows.length,
    accounts: profiles.length,
    clusters: result.clusters.length,
    decisions,
    ...counts,
    allowlisted: inputs.allowlist.size,
    shadow: inputs.shadow,
    detectMs: t3 - inputs.t1,
    read: inputs.read.stats,
    profilesRebuilt: inputs.built.rebuilt,
    profilesReused: inputs.built.reused,
    timings: { readMs: inputs.t1 - inputs.t0, profileMs: inputs.t2 - inputs.t1, runDetectionMs: t3 - t2, writeMs: t4 - t3, totalMs: t4 - inputs.t0 },
  };
  deps.log?.info('scorer run', { ...summary, linkage: result.linkage });
  return summary;
}

async function startDistributed(
  deps: ScorerDeps,
  sharded: ShardedLinkageDeps,
  state: PopulationState,
  inputs?: ScorerInputs,
): Promise<ScorerSummary> {
  const from = deps.now - deps.lookbackHours * WINDOW_MS;
  const run = await startShardedRun(sharded, state, { now: deps.now, from });
  const summary: ScorerSummary = {
    ...emptySummary('sharded', inputs),
    accounts: inputs?.built.profiles.length ?? state.population,
    sharded: { executionName: run.executionName, started: run.started, ...shape(run.plan) },
  };
  deps.log?.info('scorer run', summary as unknown as Record<string, unknown>);
  return summary;
}

/** The distributed run's last step: the children decided and wrote; sum them up, and each cluster's verdict. */
async function finishDistributed(deps: ScorerDeps, sharded: ShardedLinkageDeps, plan: RunPlan): Promise<ScorerSummary> {
  const t0 = Date.now();
  const { clusters, shards, linkage } = await finishRun<DecideCounts>(sharded.store, plan, deps.config);
  const c = sumDecideCounts(shards);
  let acted = 0;
  for (const v of clusters.values()) if (decisionRank(v.clusterDecision) >= decisionRank('review')) acted++;
  const summary: ScorerSummary = {
    ...emptySummary('sharded-finish'),
    sharded: { executionName: plan.prefix.slice(LINKAGE_RUN_PREFIX.length, -1), ...shape(plan) },
    accounts: c.accounts,
    clusters: clusters.size,
    decisions: c.decisions,
    scoresWritten: c.scoresWritten,
    casesStarted: c.casesStarted,
    casesAlreadyOpen: c.casesAlreadyOpen,
    casesStartFailed: c.casesStartFailed,
    startFailures: c.startFailures,
  };
  summary.timings.totalMs = Date.now() - t0;
  deps.log?.info('scorer run', { ...summary, clustersActedOn: acted, linkage } as unknown as Record<string, unknown>);
  return summary;
}

const shape = (plan: ShardPlan) => ({ accountShards: plan.accountShards, keyPartitions: plan.keyPartitions });
