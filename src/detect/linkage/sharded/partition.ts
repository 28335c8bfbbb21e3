/**
 * Stage `partition` (per account shard): each account reduced to the record later stages need, and each of its
 * attributes sent, as an occurrence, to the partition that owns the attribute's name. Only this stage reads
 * profiles; it runs where they are held (the scorer, or replay).
 */
import type { LinkageConfig } from '../../config';
import type { AccountProfile } from '../../profile';
import { attributeNames, isPlatform } from '../attributes';
import { bucketArray } from '../primitives';
import { timingWindow, type TimingWindow } from '../timing';
import { stableInfrastructure } from '../verify';
import type { ShardPlan, ShardStore } from './index';
import { attributePartition, keys, Outbox, toLines, type AccountRecord } from './records';

/** An occurrence: attribute name, account position, position in the account's attributes. */
export type Occurrence = [name: string, i: number, pos: number];

/** The record of profile `p` at position `i`, with its attributes in the single path's intern order. */
export function accountRecord(p: AccountProfile, i: number, w: TimingWindow, cfg: LinkageConfig): AccountRecord {
  const hours: AccountRecord['hours'] = [];
  for (const [start, cell] of p.hours) if (cell.n > 0) hours.push([start, cell.n]);
  return {
    i,
    id: p.accountId,
    firstTs: Number.isFinite(p.firstTs) ? p.firstTs : null,
    hours,
    attrs: attributeNames(p),
    platform: isPlatform(p, cfg),
    stable: stableInfrastructure(p),
    createdAt: p.createdAt,
    buckets: [...bucketArray(p.syncBuckets, w.startB, w.endB)],
  };
}

/** Writes shard `shard` (positions `first`..`first + profiles.length - 1`): its accounts and its occurrences. */
export async function partitionShard(
  store: ShardStore,
  plan: ShardPlan,
  cfg: LinkageConfig,
  shard: number,
  first: number,
  profiles: readonly AccountProfile[],
): Promise<{ input: number; output: number }> {
  const records: AccountRecord[] = [];
  const occurrences = new Outbox<Occurrence>();
  const w = timingWindow(cfg, plan, plan.accounts);
  profiles.forEach((p, k) => {
    const r = accountRecord(p, first + k, w, cfg);
    records.push(r);
    r.attrs.forEach((name, pos) => occurrences.addLine(attributePartition(plan, name), `[${JSON.stringify(name)},${r.i},${pos}]`));
  });
  await store.put(keys.accounts(plan, shard), toLines(records));
  const output = await occurrences.flush(store, keys.occurrences(plan, shard));
  return { input: profiles.length, output: records.length + output };
}
