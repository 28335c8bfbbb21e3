/**
 * Stage `frequencies` (per key partition): every holder of an attribute lands in the partition that owns its name,
 * so the document frequency counted here is the population's. Each account shard gets back the frequencies of its
 * attributes held by two or more accounts, and where the single path first interned each attribute (the
 * tie-break it uses when an account keeps only its rarest attributes).
 */
import type { LinkageConfig } from '../../config';
import type { ShardPlan, ShardStore } from './index';
import type { Occurrence } from './partition';
import { keys, Outbox, partFolders, readParts, shardOf, type FrequencyRecord } from './records';

/** Attributes counted in one partition (LinkageStats fields, summed over partitions by the merge). */
export interface FrequencyStats {
  attributes: number;
  indexedAttributes: number;
  skippedPopular: number;
}

export async function frequencyPartition(
  store: ShardStore,
  plan: ShardPlan,
  cfg: LinkageConfig,
  partition: number,
): Promise<{ input: number; output: number }> {
  const holders = new Map<string, number[]>(); // name -> [i, pos, i, pos, ...]
  let input = 0;
  for await (const [name, i, pos] of readParts<Occurrence>(store, partFolders.occurrences(plan), partition)) {
    let list = holders.get(name);
    if (!list) holders.set(name, (list = []));
    list.push(i, pos);
    input++;
  }
  const out = new Outbox<FrequencyRecord>();
  const stats: FrequencyStats = { attributes: holders.size, indexedAttributes: 0, skippedPopular: 0 };
  for (const list of holders.values()) {
    const df = list.length / 2;
    if (df > cfg.maxAttributeAccounts) stats.skippedPopular++;
    else if (df >= 2) stats.indexedAttributes++;
    if (df < 2) continue;
    let firstI = list[0];
    let firstPos = list[1];
    for (let k = 2; k < list.length; k += 2) {
      if (list[k] < firstI || (list[k] === firstI && list[k + 1] < firstPos)) [firstI, firstPos] = [list[k], list[k + 1]];
    }
    for (let k = 0; k < list.length; k += 2) out.add(shardOf(plan, list[k]), [list[k], list[k + 1], df, firstI, firstPos]);
  }
  await store.put(keys.frequencyStats(plan, partition), JSON.stringify(stats));
  const output = await out.flush(store, keys.frequencies(plan, partition));
  return { input, output: output + 1 };
}
