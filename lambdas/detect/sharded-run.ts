/**
 * The scorer's side of a sharded linkage run (docs/detection.md, "Two linkage paths"): when the population is too
 * large to link in one process, the scorer writes the account shards to the linkage bucket and starts the linkage
 * state machine, whose Distributed Maps run the stages; its last step invokes the scorer again with the plan, and
 * that invocation merges the records and scores as the single path does.
 *
 * One run at a time: a scheduled scorer that finds a RUNNING execution does nothing. The execution name comes from
 * the run's clock (the scheduled event's time), so a retried invocation cannot start a second run of the same clock.
 */
import { ExecutionAlreadyExists, ListExecutionsCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { LinkageConfig } from '../../src/detect/config';
import { LINKAGE_ACCOUNTS_KEY, LINKAGE_RUN_PREFIX } from '../../src/detect/linkage-bucket';
import type { AccountProfile } from '../../src/detect/profile';
import type { LinkageResult } from '../../src/detect/linkage/types';
import { mergeShardedLinkage, planShards, writeAccountShards, type ShardPlan, type ShardStore } from '../../src/detect/linkage/sharded';

/** A previous in-process run that peaked above this share of the function's memory sends the next run sharded. */
export const SHARDED_MEMORY_SHARE = 0.6;

export interface ShardedLinkageDeps {
  store: ShardStore;
  sfn: SFNClient;
  /** The linkage state machine. */
  stateMachineArn: string;
  /** Population from which the scorer shards (shardedLinkageMinAccounts). */
  minAccounts: number;
  /** Shard even below `minAccounts` (the previous in-process run used too much memory). */
  force?: boolean;
  /** @default the core's (planShards) */
  accountsPerShard?: number;
}

/** What the state machine's execution input carries: the plan and the items of each Distributed Map. */
export interface LinkageExecutionInput {
  time: string;
  plan: ShardPlan;
  frequencies: number[];
  index: number[];
  pairs: number[];
}

/** `linkage-20261206T134000Z`: the execution name (and run prefix) of the run at `now`. */
export function linkageExecutionName(now: number): string {
  return `linkage-${new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z')}`;
}

/** Whether this population (or the previous run's memory) calls for the sharded path. */
export function wantsSharded(population: number, deps: ShardedLinkageDeps): boolean {
  return population >= deps.minAccounts || deps.force === true;
}

/** The name of a RUNNING execution of the linkage state machine, if any. */
export async function runningLinkage(deps: Pick<ShardedLinkageDeps, 'sfn' | 'stateMachineArn'>): Promise<string | undefined> {
  const r = await deps.sfn.send(new ListExecutionsCommand({ stateMachineArn: deps.stateMachineArn, statusFilter: 'RUNNING', maxResults: 1 }));
  return r.executions?.[0]?.name;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Plan the run, write the account shards and the account order, start the execution. `started: false` when an
 * execution of this name exists already (a retried invocation of the same scheduled event).
 */
export async function startShardedRun(
  deps: ShardedLinkageDeps,
  profiles: AccountProfile[],
  cfg: LinkageConfig,
  period: { now: number; from: number },
): Promise<{ executionName: string; plan: ShardPlan; started: boolean }> {
  const executionName = linkageExecutionName(period.now);
  const opts = { periodStart: period.from, periodEnd: Math.max(period.now, period.from) };
  const plan = planShards(profiles.length, `${LINKAGE_RUN_PREFIX}${executionName}/`, opts, deps.accountsPerShard);
  await writeAccountShards(deps.store, plan, profiles, cfg);
  await deps.store.put(plan.prefix + LINKAGE_ACCOUNTS_KEY, JSON.stringify(profiles.map((p) => p.accountId)));
  const input: LinkageExecutionInput = {
    time: new Date(period.now).toISOString(),
    plan,
    frequencies: range(plan.keyPartitions),
    index: range(plan.accountShards),
    pairs: range(plan.keyPartitions),
  };
  try {
    await deps.sfn.send(new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name: executionName, input: JSON.stringify(input) }));
    return { executionName, plan, started: true };
  } catch (err) {
    if (err instanceof ExecutionAlreadyExists || (err as { name?: string }).name === 'ExecutionAlreadyExists')
      return { executionName, plan, started: false };
    throw err;
  }
}

/**
 * The profiles of the run, in the order they were sharded: the finishing invocation reads the windows again, and
 * accounts that became active since are left to the next run (the records hold positions in that order).
 */
export async function profilesOfRun(store: ShardStore, plan: ShardPlan, profiles: AccountProfile[]): Promise<AccountProfile[]> {
  const ids = JSON.parse(await store.get(plan.prefix + LINKAGE_ACCOUNTS_KEY)) as string[];
  const byId = new Map(profiles.map((p) => [p.accountId, p]));
  const out: AccountProfile[] = [];
  for (const id of ids) {
    const p = byId.get(id);
    if (!p) throw new Error(`sharded run ${plan.prefix}: account ${JSON.stringify(id)} of the plan has no profile any more`);
    out.push(p);
  }
  return out;
}

/** The finishing step: the run's profiles and the merged linkage. */
export async function finishShardedRun(
  store: ShardStore,
  plan: ShardPlan,
  profiles: AccountProfile[],
  cfg: LinkageConfig,
): Promise<{ profiles: AccountProfile[]; linkage: LinkageResult }> {
  const ordered = await profilesOfRun(store, plan, profiles);
  const { result } = await mergeShardedLinkage(store, plan, ordered, cfg);
  return { profiles: ordered, linkage: result };
}
