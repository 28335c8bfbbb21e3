/**
 * The scorer's side of a distributed detection run (src/detect/sharded-run): when the population is too large for
 * one process, the scorer plans the run from the last population it measured (`state/population.json`: the count
 * and a sample of account ids) and starts the run's state machine, whose children read, link, score and write; the
 * machine's last step invokes the scorer again with the plan, to sum up the run.
 *
 * One run at a time: a scheduled scorer that finds a RUNNING execution does nothing. The execution name comes from
 * the run's clock (the scheduled event's time), so a retried invocation cannot start a second run of the same clock.
 */
import { ExecutionAlreadyExists, ListExecutionsCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { LINKAGE_RUN_PREFIX, POPULATION_STATE_KEY } from '../../src/detect/linkage-bucket';
import type { ShardStore } from '../../src/detect/linkage/sharded';
import { planRun, type PopulationState, type RunPlan } from '../../src/detect/sharded-run/stages';
import type { WriteCounts } from './scorer-core';

/** A previous in-process run that peaked above this share of the function's memory sends the next run sharded. */
export const SHARDED_MEMORY_SHARE = 0.6;

export interface ShardedLinkageDeps {
  store: ShardStore;
  sfn: SFNClient;
  /** The run's state machine. */
  stateMachineArn: string;
  /** Population from which the scorer runs distributed (shardedLinkageMinAccounts). */
  minAccounts: number;
  /** Run distributed even below `minAccounts` (the previous in-process run used too much memory). */
  force?: boolean;
  /** @default the core's (planShards) */
  accountsPerShard?: number;
}

/** What the state machine's execution input carries: the plan and the items of its Distributed Maps. */
export interface LinkageExecutionInput {
  time: string;
  plan: RunPlan;
  /** 0 .. accountShards - 1 (the maps over account shards). */
  shards: number[];
  /** 0 .. keyPartitions - 1 (the maps over key partitions). */
  partitions: number[];
}

/** `linkage-20261206T134000Z`: the execution name (and run prefix) of the run at `now`. */
export function linkageExecutionName(now: number): string {
  return `linkage-${new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z')}`;
}

/** Whether this population (or the previous run's memory) calls for the distributed run. */
export function wantsSharded(population: number, deps: ShardedLinkageDeps): boolean {
  return population >= deps.minAccounts || deps.force === true;
}

/** The name of a RUNNING execution of the run's state machine, if any. */
export async function runningLinkage(deps: Pick<ShardedLinkageDeps, 'sfn' | 'stateMachineArn'>): Promise<string | undefined> {
  const r = await deps.sfn.send(new ListExecutionsCommand({ stateMachineArn: deps.stateMachineArn, statusFilter: 'RUNNING', maxResults: 1 }));
  return r.executions?.[0]?.name;
}

/** The last measured population (none before the first run, or when unreadable: the scorer then measures it). */
export async function readPopulationState(store: ShardStore): Promise<PopulationState | undefined> {
  try {
    const s = JSON.parse(await store.get(POPULATION_STATE_KEY)) as PopulationState;
    return Number.isFinite(s.population) && Array.isArray(s.sample) ? s : undefined;
  } catch {
    return undefined;
  }
}

export async function writePopulationState(store: ShardStore, state: PopulationState): Promise<void> {
  await store.put(POPULATION_STATE_KEY, JSON.stringify(state));
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Plan the run from `state` and start its execution. `started: false` when an execution of this name exists already
 * (a retried invocation of the same scheduled event).
 */
export async function startShardedRun(
  deps: ShardedLinkageDeps,
  state: PopulationState,
  period: { now: number; from: number },
): Promise<{ executionName: string; plan: RunPlan; started: boolean }> {
  const executionName = linkageExecutionName(period.now);
  const opts = { periodStart: period.from, periodEnd: Math.max(period.now, period.from) };
  const plan = planRun(`${LINKAGE_RUN_PREFIX}${executionName}/`, opts, state.population, state.sample, deps.accountsPerShard);
  const input: LinkageExecutionInput = {
    time: new Date(period.now).toISOString(),
    plan,
    shards: range(plan.accountShards),
    partitions: range(plan.keyPartitions),
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

/** What one decide child did, for the run's summary. */
export type DecideCounts = { accounts: number; decisions: Record<string, number> } & WriteCounts;

/** The children's counts, summed. */
export function sumDecideCounts(shards: readonly DecideCounts[]): DecideCounts {
  const out: DecideCounts = {
    accounts: 0,
    decisions: { allow: 0, monitor: 0, review: 0, suspend: 0 },
    scoresWritten: 0,
    casesStarted: 0,
    casesAlreadyOpen: 0,
    casesStartFailed: 0,
    startFailures: [],
  };
  for (const c of shards) {
    out.accounts += c.accounts;
    for (const [d, n] of Object.entries(c.decisions)) out.decisions[d] = (out.decisions[d] ?? 0) + n;
    out.scoresWritten += c.scoresWritten;
    out.casesStarted += c.casesStarted;
    out.casesAlreadyOpen += c.casesAlreadyOpen;
    out.casesStartFailed += c.casesStartFailed;
    out.startFailures.push(...c.startFailures.slice(0, 5 - out.startFailures.length));
  }
  return out;
}
