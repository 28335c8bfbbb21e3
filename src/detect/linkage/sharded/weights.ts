/**
 * Stage `index` (per account shard): with the population's frequencies back, each account gets what the single
 * path's attribute index and timing index hold for it (weights, own weight per family, useful attributes, active
 * buckets, MinHash band keys), and one verification record goes to every partition owning one of its blocking keys.
 * Accounts drawing on shared prompt libraries are listed for the merge.
 */
import type { LinkageConfig } from '../../config';
import { attributeWeight } from '../attributes';
import { complement, fmix32, minhashSignature } from '../primitives';
import { timingWindow, type TimingWindow } from '../timing';
import type { ShardPlan, ShardStore } from './index';
import {
  attributePartition,
  bandPartition,
  fromLines,
  keys,
  Outbox,
  partFolders,
  readParts,
  toLines,
  type AccountRecord,
  type FrequencyRecord,
  type LibraryRecord,
  type UsefulAttribute,
  type VerificationRecord,
} from './records';

const familyOf = (name: string): 'content' | 'infra' => (name.startsWith('t:') ? 'content' : 'infra');

/** Per attribute of an account: its document frequency and intern rank (as `firstI * 2^20 + firstPos`). */
interface Frequencies {
  df: number[];
  rank: number[];
}

/** The useful attributes of one account, exactly as the single path's postings keep them. */
export function usefulAttributes(r: AccountRecord, f: Frequencies, weights: number[], cfg: LinkageConfig): UsefulAttribute[] {
  const kept: UsefulAttribute[] = [];
  for (const family of ['content', 'infra'] as const) {
    if (family === 'content' && r.platform) continue;
    const useful: number[] = [];
    r.attrs.forEach((name, pos) => {
      const df = f.df[pos];
      if (familyOf(name) === family && df >= 2 && df <= cfg.maxAttributeAccounts && weights[pos] >= cfg.minAttributeWeight) useful.push(pos);
    });
    if (useful.length > cfg.maxAttributesPerAccount) {
      useful.sort((x, y) => f.df[x] - f.df[y] || f.rank[x] - f.rank[y]);
      useful.length = cfg.maxAttributesPerAccount;
    }
    for (const pos of useful) kept.push([r.attrs[pos], weights[pos], family === 'content' ? 1 : 0]);
  }
  return kept;
}

/** Active buckets, and the MinHash band keys of accounts with enough of them (dense accounts: by their gaps). */
export function timingKeys(
  buckets: number[],
  w: TimingWindow,
  cfg: LinkageConfig,
): { buckets: number[] | null; sig?: number[]; bands: [number, number][] } {
  if (buckets.length < Math.max(cfg.syncMinBuckets, w.minShared)) return { buckets: null, bands: [] };
  const dense = buckets.length > w.tBuckets / 2;
  let items: Int32Array = Int32Array.from(buckets);
  if (dense) {
    items = complement(items, w.startB, w.endB);
    if (items.length < cfg.syncMinBuckets) return { buckets, bands: [] };
  }
  const sig = minhashSignature(items, cfg.lshBands * cfg.lshRows);
  const bands: [number, number][] = [];
  for (let b = 0; b < cfg.lshBands; b++) {
    let h = 0x1b873593 ^ b;
    for (let r = 0; r < cfg.lshRows; r++) h = fmix32((h ^ sig[b * cfg.lshRows + r]) >>> 0);
    bands.push([b + (dense ? cfg.lshBands : 0), h >>> 2]);
  }
  return { buckets, sig: [...sig], bands };
}

/** Frequencies of one shard's attributes, per account position: df (1 when absent) and intern rank. */
async function shardFrequencies(store: ShardStore, plan: ShardPlan, shard: number): Promise<Map<number, Map<number, [number, number]>>> {
  const byAccount = new Map<number, Map<number, [number, number]>>();
  for await (const [i, pos, df, firstI, firstPos] of readParts<FrequencyRecord>(store, partFolders.frequencies(plan), shard)) {
    let m = byAccount.get(i);
    if (!m) byAccount.set(i, (m = new Map()));
    m.set(pos, [df, firstI * 2 ** 20 + firstPos]);
  }
  return byAccount;
}

/** The account's shared templates when it draws on shared prompt libraries (see findPromptLibraries), else null. */
export function libraryRecord(r: AccountRecord, f: Frequencies, cfg: LinkageConfig): LibraryRecord | null {
  if (cfg.libraryMinTemplates <= 0 || r.platform) return null;
  const shared: [string, number][] = [];
  let d = 0;
  r.attrs.forEach((name, pos) => {
    if (familyOf(name) !== 'content') return;
    d++;
    if (f.df[pos] >= 2 && f.df[pos] <= cfg.libraryMaxAccounts) shared.push([name, f.df[pos]]);
  });
  if (shared.length < cfg.libraryMinTemplates || shared.length < cfg.libraryMinShare * d) return null;
  return [r.i, shared];
}

export async function indexShard(store: ShardStore, plan: ShardPlan, cfg: LinkageConfig, shard: number): Promise<{ input: number; output: number }> {
  const freq = await shardFrequencies(store, plan, shard);
  const w = timingWindow(cfg, plan, plan.accounts);
  const out = new Outbox<VerificationRecord>();
  const libraries: LibraryRecord[] = [];
  let input = 0;
  for (const r of fromLines<AccountRecord>(await store.get(keys.accounts(plan, shard)))) {
    input++;
    const m = freq.get(r.i);
    const f: Frequencies = { df: r.attrs.map((_, pos) => m?.get(pos)?.[0] ?? 1), rank: r.attrs.map((_, pos) => m?.get(pos)?.[1] ?? 0) };
    const weights = r.attrs.map((name, pos) => attributeWeight(name, familyOf(name), f.df[pos], cfg.maxAttributeAccounts, plan.accounts));
    let ownContent = 0;
    let ownInfra = 0;
    r.attrs.forEach((name, pos) => {
      if (familyOf(name) === 'content') ownContent += weights[pos];
      else ownInfra += weights[pos];
    });
    const useful = usefulAttributes(r, f, weights, cfg);
    const t = timingKeys(r.buckets, w, cfg);
    const lib = libraryRecord(r, f, cfg);
    if (lib) libraries.push(lib);
    const dests = new Map<number, [number, number][]>();
    for (const [name] of useful) dests.set(attributePartition(plan, name), dests.get(attributePartition(plan, name)) ?? []);
    for (const band of t.bands) {
      const p = bandPartition(plan, band[0], band[1]);
      const list = dests.get(p) ?? [];
      list.push(band);
      dests.set(p, list);
    }
    // The bulk (useful attributes, buckets) is the same for every partition: serialized once.
    const common: Omit<VerificationRecord, 'bands' | 'sig'> = {
      i: r.i,
      useful,
      ownContent,
      ownInfra,
      buckets: t.buckets,
      createdAt: r.createdAt,
      stable: r.stable,
    };
    const head = JSON.stringify(common).slice(0, -1);
    const sig = t.sig ? `,"sig":${JSON.stringify(t.sig)}` : '';
    for (const [p, bands] of dests) out.addLine(p, `${head},"bands":${JSON.stringify(bands)}${bands.length ? sig : ''}}`);
  }
  await store.put(keys.libraries(plan, shard), toLines(libraries));
  const output = await out.flush(store, keys.verification(plan, shard));
  return { input, output: output + libraries.length };
}
