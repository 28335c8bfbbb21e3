/**
 * Phase 1, the attribute index: every account's rare attributes (templates, IPs, subnets, user agents, API keys)
 * as dense ids, their document frequencies and rarity weights, and inverted-index postings of the informative ones.
 * Pair generation only ever walks these postings, so an attribute held by more than K accounts costs nothing.
 */
import type { LinkageConfig } from '../config';
import type { AccountProfile } from '../profile';
import { bucketArray, minhashSignature, rarityWeight } from './primitives';
import { hourOfDayMask } from './timing';
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
  /** Per id: the family's weight scale (INFRA_SCALE by prefix), fixed at interning so runs do not re-parse names. */
  readonly scale: number[] = [];
  intern(name: string, family: Family): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
      this.fam.push(family);
      this.scale.push(attributeScale(name, family));
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
    {
      version: number;
      sizes: number[];
      list: number[];
      attrs: Int32Array;
      bversion: number;
      buckets: Int32Array;
      pversion: number;
      pcfg?: LinkageConfig;
      platform: boolean;
      sigOf?: Int32Array;
      sig?: Uint32Array;
      maskOf?: Int32Array;
      maskPerHour?: number;
      mask?: number;
      /** Of `list`, how many are counted in `df` (for the population of run `dfRun`). */
      counted: number;
      dfRun: number;
    }
  >();
  /** Per attribute id: holders among the last population counted (see frequencies), and that population's entries. */
  private df = new Int32Array(0);
  private population: { list: number[]; counted: number; dfRun: number }[] = [];
  private dfRun = 0;

  private entry(p: AccountProfile) {
    let e = this.entries.get(p.accountId);
    if (!e) {
      e = {
        version: -1,
        sizes: [0, 0, 0, 0, 0],
        list: [],
        attrs: new Int32Array(0),
        bversion: -1,
        buckets: new Int32Array(0),
        pversion: -1,
        platform: false,
        counted: 0,
        dfRun: -1,
      };
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
      // Most updates add requests to buckets already active: the set, and so the array, did not change.
      if (p.syncBuckets.size !== e.buckets.length) e.buckets = grownBuckets(e.buckets, p.syncBuckets);
      e.bversion = p.version;
    }
    const arr = e.buckets;
    if (arr.length === 0 || (arr[0] >= startB && arr[arr.length - 1] <= endB)) return arr;
    return bucketArray(p.syncBuckets, startB, endB);
  }

  /** isPlatform, kept while the profile is unchanged (it walks every hour of the profile). */
  platform(p: AccountProfile, cfg: LinkageConfig): boolean {
    const e = this.entry(p);
    if (e.pversion !== p.version || e.pcfg !== cfg) {
      e.platform = isPlatform(p, cfg);
      e.pversion = p.version;
      e.pcfg = cfg;
    }
    return e.platform;
  }

  /**
   * The MinHash signature of an account's bucket array, kept while the array is the same object (buckets() returns
   * the same array while the account's buckets are unchanged): the signature depends on the items alone.
   */
  signature(p: AccountProfile, items: Int32Array, k: number): Uint32Array {
    const e = this.entry(p);
    if (e.sigOf !== items || e.sig?.length !== k) {
      e.sig = minhashSignature(items, k);
      e.sigOf = items;
    }
    return e.sig;
  }

  /** hourOfDayMask of an account's bucket array, kept while the array is the same object (as `signature`). */
  hourMask(p: AccountProfile, items: Int32Array, perHour: number): number {
    const e = this.entry(p);
    if (e.maskOf !== items || e.maskPerHour !== perHour || e.mask === undefined) {
      e.mask = hourOfDayMask(items, perHour);
      e.maskOf = items;
      e.maskPerHour = perHour;
    }
    return e.mask;
  }

  /**
   * Document frequencies of the profiles' attributes (attrs() called for each first), kept between runs: only the
   * attributes accounts gained since the last run, and those of accounts that left the population, are counted.
   * Returns a copy, indexed by attribute id, as long as the dictionary.
   */
  frequencies(profiles: AccountProfile[]): Int32Array {
    const run = ++this.dfRun;
    const population = profiles.map((p) => this.entry(p));
    if (this.df.length < this.dict.names.length) {
      const grown = new Int32Array(Math.max(this.dict.names.length, 2 * this.df.length));
      grown.set(this.df);
      this.df = grown;
    }
    const df = this.df;
    for (const e of population) {
      if (e.dfRun === run) return this.recount(population); // listed twice
      // An account of the last population has its first `counted` attributes counted already.
      for (let k = e.dfRun === run - 1 ? e.counted : 0; k < e.list.length; k++) df[e.list[k]]++;
      e.counted = e.list.length;
      e.dfRun = run;
    }
    for (const e of this.population) if (e.dfRun !== run) for (let k = 0; k < e.counted; k++) df[e.list[k]]--;
    this.population = population;
    return df.slice(0, this.dict.names.length);
  }

  /** Plain document frequencies (an account listed twice counts twice); the next run counts afresh. */
  private recount(population: { list: number[] }[]): Int32Array {
    this.df.fill(0);
    this.population = [];
    this.dfRun++; // no entry is of the last population
    const df = new Int32Array(this.dict.names.length);
    for (const e of population) for (const id of e.list) df[id]++;
    return df;
  }

  /** Forget accounts no longer active. */
  retain(active: Set<string>): void {
    for (const id of this.entries.keys()) if (!active.has(id)) this.entries.delete(id);
  }
}

/**
 * `sorted` (the set's first sorted.length members, sorted) grown by the set's later members: sets only grow and
 * iterate in insertion order, and new buckets are mostly later than all old ones, so this is an append or a merge.
 */
function grownBuckets(sorted: Int32Array, set: Set<number>): Int32Array {
  const old = sorted.length;
  if (set.size < old) return Int32Array.from(set).sort();
  const added = new Int32Array(set.size - old);
  let idx = 0;
  for (const b of set) if (idx++ >= old) added[idx - old - 1] = b;
  added.sort();
  const out = new Int32Array(set.size);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < old && j < added.length) out[k++] = sorted[i] <= added[j] ? sorted[i++] : added[j++];
  while (i < old) out[k++] = sorted[i++];
  while (j < added.length) out[k++] = added[j++];
  return out;
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
  return rarityWeight(df, k) * rarityWeight(df, n) * attributeScale(name, family);
}

/** The weight scale of an attribute: INFRA_SCALE by prefix for infrastructure, 1 for content. */
export function attributeScale(name: string, family: Family): number {
  return family === 'infra' ? (INFRA_SCALE[name.slice(0, name.indexOf(':'))] ?? 1) : 1;
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
  /** Per account: 1 when it is a platform (isPlatform), which gives no content evidence. */
  platform: Uint8Array;
}

/** Interns every account's attributes, then derives frequencies, weights and postings. */
export function buildAttributeIndex(profiles: AccountProfile[], cfg: LinkageConfig, cache?: LinkageCache): AttributeIndex {
  const n = profiles.length;
  const k = cfg.maxAttributeAccounts;
  const dict = cache?.dict ?? new AttributeDict();
  const accAttrs: Int32Array[] = new Array(n);
  for (let i = 0; i < n; i++) accAttrs[i] = cache ? cache.attrs(profiles[i]) : dict.internProfile(profiles[i]);
  const { names, fam } = dict;
  let df: Int32Array;
  if (cache) df = cache.frequencies(profiles);
  else {
    df = new Int32Array(names.length);
    for (let i = 0; i < n; i++) for (const id of accAttrs[i]) df[id]++;
  }
  const { weight, indexed, skippedPopular } = rarityWeights(df, dict.scale, k, n);
  const platform = new Uint8Array(n);
  for (let i = 0; i < n; i++) platform[i] = (cache ? cache.platform(profiles[i], cfg) : isPlatform(profiles[i], cfg)) ? 1 : 0;
  const index: AttributeIndex = {
    n,
    k,
    accAttrs,
    names,
    fam,
    df,
    weight,
    ownContent: new Float64Array(n),
    ownInfra: new Float64Array(n),
    postings: new Array(names.length),
    usefulOf: new Array(n),
    indexed,
    skippedPopular,
    platform,
  };
  buildPostings(cfg, index);
  return index;
}

/**
 * Per attribute: rarityWeight(df, K) * rarityWeight(df, n) * scale, the product of the first two taken once per
 * distinct df (the same operations in the same order, so the same doubles), and the counts of indexed and skipped
 * attributes.
 */
function rarityWeights(df: Int32Array, scale: number[], k: number, n: number): { weight: Float64Array; indexed: number; skippedPopular: number } {
  const weight = new Float64Array(df.length);
  const byDf = new Float64Array(n + 1).fill(NaN);
  let skippedPopular = 0;
  let indexed = 0;
  for (let id = 0; id < df.length; id++) {
    const d = df[id];
    let r = byDf[d];
    // Rare in absolute terms (cap K) AND relative to the population observed (small populations).
    if (r !== r) r = byDf[d] = rarityWeight(d, k) * rarityWeight(d, n);
    weight[id] = r * scale[id];
    if (d > k) skippedPopular++;
    else if (d >= 2) indexed++;
  }
  return { weight, indexed, skippedPopular };
}

/**
 * Postings of informative attributes (2 <= df <= K, weight >= minAttributeWeight), built in ascending account
 * order so each list is sorted. An account holding very many (a proxy-rotating fleet, a reseller) contributes only
 * its rarest `maxAttributesPerAccount` per family: evidence saturates long before, and cost stays linear. A platform
 * gives no content evidence: its template overlap reflects breadth, not common control. One pass per account
 * collects both families; content comes first in `usefulOf`. The same pass sums the accounts' own weights
 * (ownContent, ownInfra): a fleet's lists run to thousands of addresses, so each is walked once.
 */
function buildPostings(cfg: LinkageConfig, index: AttributeIndex): void {
  const { accAttrs, df, weight, postings, usefulOf, k: K, platform, ownContent, ownInfra } = index;
  const max = cfg.maxAttributesPerAccount;
  let content: number[] = [];
  let infra: number[] = [];
  const counts = new Int32Array(K + 2);
  // Per attribute, decided once rather than per holder (a fleet's lists run to thousands of addresses).
  const kind = attributeKinds(cfg, index);
  for (let i = 0; i < index.n; i++) {
    content.length = 0;
    infra.length = 0;
    const skipContent = platform![i] === 1;
    for (const id of accAttrs[i]) {
      const k = kind[id];
      if (k & CONTENT) ownContent[i] += weight[id];
      else ownInfra[i] += weight[id];
      if (k & USEFUL_CONTENT) {
        if (!skipContent) content.push(id);
      } else if (k & USEFUL_INFRA) infra.push(id);
    }
    if (content.length > max) content = rarest(content, df, max, counts);
    if (infra.length > max) infra = rarest(infra, df, max, counts);
    const kept = new Int32Array(content.length + infra.length);
    kept.set(content);
    kept.set(infra, content.length);
    for (const id of kept) (postings[id] ??= []).push(i);
    usefulOf[i] = kept;
  }
}

const CONTENT = 1;
const USEFUL_CONTENT = 2;
const USEFUL_INFRA = 4;

/**
 * Per attribute: CONTENT for the content family, and USEFUL_CONTENT / USEFUL_INFRA when it is informative
 * (2 <= df <= K, weight >= minAttributeWeight) in the content / infrastructure family.
 */
function attributeKinds(cfg: LinkageConfig, index: AttributeIndex): Uint8Array {
  const { fam, df, weight, k: K } = index;
  const kind = new Uint8Array(df.length);
  for (let id = 0; id < df.length; id++) {
    const content = fam[id] === 'content';
    const useful = !(df[id] < 2 || df[id] > K || weight[id] < cfg.minAttributeWeight);
    kind[id] = (content ? CONTENT : 0) | (useful && content ? USEFUL_CONTENT : 0) | (useful && fam[id] === 'infra' ? USEFUL_INFRA : 0);
  }
  return kind;
}

/**
 * The `max` rarest of `ids` (all with df in 2..K), ordered by (df, id): what sorting them all by (df, id) and
 * keeping the first `max` gives, but by a df histogram, so a fleet holding thousands of pool addresses costs a pass.
 * `counts` is scratch of length K + 2.
 */
function rarest(ids: number[], df: Int32Array, max: number, counts: Int32Array): number[] {
  counts.fill(0);
  for (const id of ids) counts[df[id]]++;
  // The df at which the kept ones run out: all of df < cut, and the smallest ids of df === cut.
  let cut = 0;
  let below = 0;
  while (below + counts[cut] < max) below += counts[cut++];
  const out: number[] = [];
  const atCut: number[] = [];
  for (const id of ids) {
    const d = df[id];
    if (d < cut) out.push(id);
    else if (d === cut) atCut.push(id);
  }
  atCut.sort((x, y) => x - y);
  for (let j = 0; j < max - below; j++) out.push(atCut[j]);
  return out.sort((x, y) => df[x] - df[y] || x - y);
}
