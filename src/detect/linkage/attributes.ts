/**
 * Phase 1, the attribute index: every account's rare attributes (templates, IPs, subnets, user agents, API keys)
 * as dense ids, their document frequencies and rarity weights, and inverted-index postings of the informative ones.
 * Pair generation only ever walks these postings, so an attribute held by more than K accounts costs nothing.
 */
import type { LinkageConfig } from '../config';
import type { AccountProfile } from '../profile';
import { bucketArray, rarityWeight } from './primitives';
import type { Family } from './types';

/** Infrastructure attributes weigh less when many operators can share them by accident (NATs, hosting subnets). */
const INFRA_SCALE: Record<string, number> = { ip: 0.5, sn: 0.5, ua: 1, key: 1 };

const SET_PREFIXES: [keyof AccountProfile & ('templates' | 'ips' | 'subnets' | 'userAgents' | 'apiKeys'), string, Family][] = [
  ['templates', 't:', 'content'],
  ['ips', 'ip:', 'infra'],
  ['subnets', 'sn:', 'infra'],
  ['userAgents', 'ua:', 'infra'],
  ['apiKeys', 'key:', 'infra'],
];

/** An account's attribute names (`t:<template>`, `ip:<hash>`...) in the order the index interns them. */
export function attributeNames(p: AccountProfile): string[] {
  const out: string[] = [];
  for (const [field, prefix] of SET_PREFIXES) for (const v of p[field]) out.push(prefix + v);
  return out;
}

/** Interned attribute names (`t:<template>`, `ip:<hash>`...) -> dense ids. Grow-only. */
export class AttributeDict {
  readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  readonly fam: Family[] = [];
  intern(name: string, family: Family): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
      this.fam.push(family);
    }
    return id;
  }
  internProfile(p: AccountProfile): Int32Array {
    const out: number[] = [];
    for (const [field, prefix, family] of SET_PREFIXES) for (const v of p[field]) out.push(this.intern(prefix + v, family));
    return Int32Array.from(out);
  }
}

/**
 * Per-account derived data kept between runs (replay runs detection every 15 min of log time): interned
 * attributes and sorted activity buckets are recomputed only for accounts whose profile changed, and only for the
 * new set members (profile sets only grow, and JS Sets iterate in insertion order).
 */
export class LinkageCache {
  readonly dict = new AttributeDict();
  private readonly entries = new Map<
    string,
    { version: number; sizes: number[]; list: number[]; attrs: Int32Array; bversion: number; buckets: Int32Array }
  >();

  private entry(p: AccountProfile) {
    let e = this.entries.get(p.accountId);
    if (!e) {
      e = { version: -1, sizes: [0, 0, 0, 0, 0], list: [], attrs: new Int32Array(0), bversion: -1, buckets: new Int32Array(0) };
      this.entries.set(p.accountId, e);
    }
    return e;
  }

  attrs(p: AccountProfile): Int32Array {
    const e = this.entry(p);
    if (e.version === p.version) return e.attrs;
    let changed = false;
    SET_PREFIXES.forEach(([field, prefix, family], k) => {
      const set = p[field];
      if (set.size === e.sizes[k]) return;
      let idx = 0;
      for (const v of set) {
        if (idx++ < e.sizes[k]) continue;
        e.list.push(this.dict.intern(prefix + v, family));
      }
      e.sizes[k] = set.size;
      changed = true;
    });
    if (changed) e.attrs = Int32Array.from(e.list);
    e.version = p.version;
    return e.attrs;
  }

  buckets(p: AccountProfile, startB: number, endB: number): Int32Array {
    const e = this.entry(p);
    if (e.bversion !== p.version) {
      e.buckets = Int32Array.from(p.syncBuckets).sort();
      e.bversion = p.version;
    }
    const arr = e.buckets;
    if (arr.length === 0 || (arr[0] >= startB && arr[arr.length - 1] <= endB)) return arr;
    return bucketArray(p.syncBuckets, startB, endB);
  }

  /** Forget accounts no longer active. */
  retain(active: Set<string>): void {
    for (const id of this.entries.keys()) if (!active.has(id)) this.entries.delete(id);
  }
}

/**
 * A platform or reseller relays many users' prompts: many distinct templates, or a relay's throughput of usage
 * events per active hour. Its template overlap with others reflects breadth, not common control.
 */
export function isPlatform(p: AccountProfile, cfg: LinkageConfig): boolean {
  if (p.templates.size > cfg.maxTemplatesPerAccount) return true;
  let active = 0;
  for (const c of p.hours.values()) if (c.n > 0) active++;
  return active > 0 && p.usageN / active > cfg.maxUsagePerActiveHour;
}

/**
 * Weight of attribute `name` held by `df` of `n` accounts: rare in absolute terms (cap K) AND relative to the
 * population observed (small populations), scaled down for infrastructure many operators share by accident.
 */
export function attributeWeight(name: string, family: Family, df: number, k: number, n: number): number {
  const scale = family === 'infra' ? (INFRA_SCALE[name.slice(0, name.indexOf(':'))] ?? 1) : 1;
  return rarityWeight(df, k) * rarityWeight(df, n) * scale;
}

/** Shared, read-only state of one linkage run: accounts' attributes, their frequencies, weights and postings. */
export interface AttributeIndex {
  /** Accounts (profiles.length) and the popularity cap K (cfg.maxAttributeAccounts). */
  n: number;
  k: number;
  /** Per account: its attribute ids. */
  accAttrs: Int32Array[];
  /** Per attribute id (the dictionary may hold ids no current account has: df 0). */
  names: string[];
  fam: Family[];
  df: Int32Array;
  weight: Float64Array;
  /** Per account: the summed weight of its own content / infrastructure attributes (cosine denominators). */
  ownContent: Float64Array;
  ownInfra: Float64Array;
  /** Per attribute: holders in ascending account order, for informative attributes only. */
  postings: (number[] | undefined)[];
  /** Per account: the attributes it contributes to pair generation. */
  usefulOf: Int32Array[];
  /** Attributes held by 2..K accounts, and by more than K (never indexed). */
  indexed: number;
  skippedPopular: number;
}

/** Interns every account's attributes, then derives frequencies, weights and postings. */
export function buildAttributeIndex(profiles: AccountProfile[], cfg: LinkageConfig, cache?: LinkageCache): AttributeIndex {
  const n = profiles.length;
  const k = cfg.maxAttributeAccounts;
  const dict = cache?.dict ?? new AttributeDict();
  const accAttrs: Int32Array[] = new Array(n);
  for (let i = 0; i < n; i++) accAttrs[i] = cache ? cache.attrs(profiles[i]) : dict.internProfile(profiles[i]);
  const { names, fam } = dict;
  const df = new Int32Array(names.length);
  for (let i = 0; i < n; i++) for (const id of accAttrs[i]) df[id]++;
  const weight = new Float64Array(names.length);
  let skippedPopular = 0;
  let indexed = 0;
  for (let id = 0; id < names.length; id++) {
    weight[id] = attributeWeight(names[id], fam[id], df[id], k, n);
    if (df[id] > k) skippedPopular++;
    else if (df[id] >= 2) indexed++;
  }
  const ownContent = new Float64Array(n);
  const ownInfra = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (const id of accAttrs[i]) {
      if (fam[id] === 'content') ownContent[i] += weight[id];
      else ownInfra[i] += weight[id];
    }
  }
  const index: AttributeIndex = {
    n,
    k,
    accAttrs,
    names,
    fam,
    df,
    weight,
    ownContent,
    ownInfra,
    postings: new Array(names.length),
    usefulOf: new Array(n),
    indexed,
    skippedPopular,
  };
  buildPostings(profiles, cfg, index);
  return index;
}

/**
 * Postings of informative attributes (2 <= df <= K, weight >= minAttributeWeight), built in ascending account
 * order so each list is sorted. An account holding very many (a proxy-rotating fleet, a reseller) contributes only
 * its rarest `maxAttributesPerAccount` per family: evidence saturates long before, and cost stays linear. A platform
 * gives no content evidence: its template overlap reflects breadth, not common control.
 */
function buildPostings(profiles: AccountProfile[], cfg: LinkageConfig, index: AttributeIndex): void {
  const { accAttrs, fam, df, weight, postings, usefulOf, k: K } = index;
  const useful: number[] = [];
  for (let i = 0; i < index.n; i++) {
    const kept: number[] = [];
    const platform = isPlatform(profiles[i], cfg);
    for (const family of ['content', 'infra'] as const) {
      if (family === 'content' && platform) continue;
      useful.length = 0;
      for (const id of accAttrs[i]) if (fam[id] === family && df[id] >= 2 && df[id] <= K && weight[id] >= cfg.minAttributeWeight) useful.push(id);
      if (useful.length > cfg.maxAttributesPerAccount) {
        useful.sort((x, y) => df[x] - df[y] || x - y);
        useful.length = cfg.maxAttributesPerAccount;
      }
      for (const id of useful) kept.push(id);
    }
    for (const id of kept) (postings[id] ??= []).push(i);
    usefulOf[i] = Int32Array.from(kept);
  }
}
