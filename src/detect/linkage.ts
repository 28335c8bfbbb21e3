/**
 * Cross-account linkage: which accounts are run by the same operator.
 *
 * Two kinds of evidence, each scored 0..1 per pair of accounts and per evidence family:
 *
 * - shared RARE attributes (families `content`: prompt templates; `infra`: IPs, /24 subnets, user agents, API
 *   keys; `signup`: accounts created in the same short burst). An attribute held by `df` accounts weighs
 *   ln(K/df)/ln(K/2) (IDF-like, K = maxAttributeAccounts): held by two accounts it weighs 1, by K or more it
 *   weighs nothing and is not even indexed. A popular SDK user agent or a campus NAT therefore cannot link
 *   strangers. A family's score grows with the shared weight (saturating at `contentSaturation` / `infraSaturation`) and is damped when
 *   the shared part is a tiny fraction of what the two accounts hold (cosine < `familyMinCosine`), so a reseller
 *   with ten thousand IPs does not link to everyone it happens to share one with.
 * - synchronized activity (`timing`, SynchroTrap-style): each account's set of active time buckets; candidate
 *   pairs come from MinHash LSH over those sets (one-permutation hashing, banded), verified with the phi
 *   correlation of the two activity series over the observation period. Phi is chance-corrected: two accounts that
 *   are always on, or merely follow the same diurnal rhythm, score ~0; accounts that start and stop together score
 *   high. Co-activity must span several distinct hours.
 *
 * Cost: never all-pairs. Pairs are generated only inside inverted-index postings of attributes held by at most K
 * accounts (so at most K^2/2 pairs per attribute, i.e. O(K * total attributes)), and inside LSH band buckets; a
 * band bucket larger than `lshMaxBucket` is not expanded into all pairs: its members are sorted by signature and
 * compared with their `lshNeighbours` nearest (sorted-neighbourhood blocking). Total cost is linear in the number of
 * accounts for fixed K. See bench/detect-scale.ts for measured figures.
 *
 * An edge needs behavioural evidence first: one very strong content or timing family (>= minSingleFamilyScore), or
 * content and timing together, or one of them >= minPrimaryScore supported by infrastructure / sign-up time so
 * that the total reaches minEdgeScore. Infrastructure or sign-up time alone never links (proxies mix customers).
 * Clusters are connected components (union-find) of edges, keeping those with at least minClusterSize members.
 */
import type { LinkageConfig } from './config';
import type { AccountProfile } from './profile';

export type Family = 'content' | 'infra' | 'timing' | 'signup';
export const FAMILIES: Family[] = ['content', 'infra', 'timing', 'signup'];

export interface Edge {
  a: string;
  b: string;
  scores: Record<Family, number>;
  total: number;
  phi: number;
  sharedBuckets: number;
  sharedHours: number;
}

export interface SharedAttribute {
  /** `t:` template, `ip:` hashed IP, `sn:` subnet, `ua:` user agent, `key:` API key. */
  attribute: string;
  family: Family;
  /** Cluster members holding it. */
  members: number;
  /** Accounts in the whole population holding it (the rarity baseline). */
  population: number;
}

export interface ClusterEvidence {
  edges: number;
  /** Per family: edges where the family contributed (score >= 0.2), and their mean score. */
  families: Partial<Record<Family, { edges: number; meanScore: number }>>;
  /** Mean phi correlation over synchronized edges (0 when none). */
  meanPhi: number;
  /** Most widely shared rare attributes. */
  sharedAttributes: SharedAttribute[];
  /** Spread of account creation times among members (ms), null when unknown. */
  signupSpreadMs: number | null;
  /** Templates held by several members and (almost) nobody outside the cluster. */
  exclusiveTemplates: number;
}

export interface Cluster {
  clusterId: string;
  accountIds: string[];
  evidence: ClusterEvidence;
}

export interface AccountLink {
  clusterId: string;
  /** Per family: the mean score over the account's edges inside the cluster where the family contributed. */
  families: Record<Family, number>;
  /** Highest per-family score on any single edge. */
  maxFamilies: Record<Family, number>;
  degree: number;
  /** Templates this account shares with other accounts (rare ones only). */
  sharedTemplates: number;
  /** Templates it holds that are (almost) exclusive to its cluster. */
  exclusiveTemplates: number;
  /** Mean phi over the account's synchronized edges (0 when none) and how many peers it is synchronized with. */
  meanPhi: number;
  syncPeers: number;
  /**
   * Prompt library (group-level content evidence): the account's templates that belong to a library shared by a
   * group of accounts and (almost) nobody else, the account's 0..1 score, and the size of the library and group.
   * Zero when the account draws from no library.
   */
  libraryTemplates: number;
  libraryScore: number;
  librarySize: number;
  libraryAccounts: number;
}

export interface LinkageResult {
  clusters: Cluster[];
  byAccount: Map<string, AccountLink>;
  edges: Edge[];
  stats: { accounts: number; attributes: number; indexedAttributes: number; skippedPopular: number; attributePairs: number; lshCandidates: number; verifiedPairs: number; edges: number; prunedLeaves: number };
}

export interface LinkageOptions {
  /** Start and end of the observation period (ms), for the timing correlation. */
  periodStart: number;
  periodEnd: number;
  /** accountId -> clusterId from the previous run, so ids stay stable as clusters grow. */
  previous?: Map<string, string>;
}

/** 32-bit finaliser (MurmurHash3 fmix32): a fast, well-mixed integer hash. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** IDF-like rarity weight of an attribute held by df accounts: 1 for df <= 2, 0 at df >= K. */
export function rarityWeight(df: number, k: number): number {
  if (df <= 2) return 1;
  if (df >= k) return 0;
  return Math.log(k / df) / Math.log(k / 2);
}

const INFRA_SCALE: Record<string, number> = { ip: 0.5, sn: 0.5, ua: 1, key: 1 };

class UnionFind {
  parent: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n);
    for (let i = 0; i < n; i++) this.parent[i] = i;
  }
  find(x: number): number {
    while (this.parent[x] !== x) {
      this.parent[x] = this.parent[this.parent[x]];
      x = this.parent[x];
    }
    return x;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

/** One-permutation MinHash with rotation densification: k bins, cost O(|set| + k). */
export function minhashSignature(items: Iterable<number>, k: number): Uint32Array {
  const sig = new Uint32Array(k).fill(0xffffffff);
  const filled = new Uint8Array(k);
  for (const it of items) {
    const h = fmix32((it ^ 0x9e3779b9) >>> 0);
    const bin = h % k;
    const v = fmix32(h ^ 0x5bd1e995);
    if (v < sig[bin] || !filled[bin]) {
      sig[bin] = v;
      filled[bin] = 1;
    }
  }
  for (let i = 0; i < k; i++) {
    if (filled[i]) continue;
    for (let step = 1; step < k; step++) {
      const j = (i + step) % k;
      if (filled[j]) {
        sig[i] = fmix32(sig[j] + step);
        break;
      }
    }
  }
  return sig;
}

let lastSharedHours = 0;
let lastSharedHoursOfDay = 0;
/** Distinct hours of the day at which the shared co-activity episodes start. */
let lastSharedEpisodes = 0;
/** Shared buckets further apart than this (in buckets) start a new co-activity episode. */
const EPISODE_GAP_BUCKETS = 3;
/**
 * Size of the intersection of two sorted arrays; the number of distinct hours it spans goes to lastSharedHours,
 * and the number of distinct hours of the day (UTC) to lastSharedHoursOfDay.
 */
function intersectSorted(a: Int32Array, b: Int32Array, perHour: number): number {
  let i = 0;
  let j = 0;
  let n = 0;
  let hours = 0;
  let lastHour = -1;
  let hodMask = 0;
  let episodeStarts = 0;
  let lastShared = Number.NEGATIVE_INFINITY;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      n++;
      // A new episode: remember the hour of the day it starts at.
      if (a[i] - lastShared > EPISODE_GAP_BUCKETS) episodeStarts |= 1 << ((((Math.floor(a[i] / perHour)) % 24) + 24) % 24);
      lastShared = a[i];
      const hour = Math.floor(a[i] / perHour);
      if (hour !== lastHour) {
        hours++;
        lastHour = hour;
        hodMask |= 1 << (((hour % 24) + 24) % 24);
      }
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  lastSharedHours = hours;
  let hod = 0;
  for (let m = hodMask; m; m &= m - 1) hod++;
  lastSharedHoursOfDay = hod;
  let episodes = 0;
  for (let m = episodeStarts; m; m &= m - 1) episodes++;
  lastSharedEpisodes = episodes;
  return n;
}

/** Sorted bucket indices within [startB, endB]. */
export function bucketArray(set: Set<number>, startB: number, endB: number): Int32Array {
  const out: number[] = [];
  for (const b of set) if (b >= startB && b <= endB) out.push(b);
  return Int32Array.from(out).sort();
}

/** Buckets in [startB, endB] NOT in the sorted array. */
export function complement(sorted: Int32Array, startB: number, endB: number): Int32Array {
  const out = new Int32Array(Math.max(0, endB - startB + 1 - sorted.length));
  let j = 0;
  let k = 0;
  for (let b = startB; b <= endB; b++) {
    while (j < sorted.length && sorted[j] < b) j++;
    if (j < sorted.length && sorted[j] === b) continue;
    if (k < out.length) out[k++] = b;
  }
  return out.subarray(0, k);
}

/** Phi correlation of two binary series of length t with n1, n2 ones and n11 joint ones. */
export function phi(n11: number, n1: number, n2: number, t: number): number {
  const n10 = n1 - n11;
  const n01 = n2 - n11;
  const n00 = t - n1 - n2 + n11;
  const den = Math.sqrt(n1 * (t - n1) * n2 * (t - n2));
  if (den <= 0) return 0;
  return (n11 * n00 - n10 * n01) / den;
}

const SET_PREFIXES: [keyof AccountProfile & ('templates' | 'ips' | 'subnets' | 'userAgents' | 'apiKeys'), string, Family][] = [
  ['templates', 't:', 'content'],
  ['ips', 'ip:', 'infra'],
  ['subnets', 'sn:', 'infra'],
  ['userAgents', 'ua:', 'infra'],
  ['apiKeys', 'key:', 'infra'],
];

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
  private readonly entries = new Map<string, { version: number; sizes: number[]; list: number[]; attrs: Int32Array; bversion: number; buckets: Int32Array }>();

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

export function linkAccounts(profiles: AccountProfile[], cfg: LinkageConfig, opts: LinkageOptions, cache?: LinkageCache): LinkageResult {
  const N = profiles.length;
  const K = cfg.maxAttributeAccounts;
  // ---------------- attribute dictionary and document frequencies ----------------
  const dict = cache?.dict ?? new AttributeDict();
  const accAttrs: Int32Array[] = new Array(N);
  for (let i = 0; i < N; i++) accAttrs[i] = cache ? cache.attrs(profiles[i]) : dict.internProfile(profiles[i]);
  const names = dict.names;
  const fam = dict.fam;
  const df = new Int32Array(names.length);
  for (let i = 0; i < N; i++) for (const id of accAttrs[i]) df[id]++;
  const A = names.length;
  const weight = new Float64Array(A);
  let skippedPopular = 0;
  let indexed = 0;
  for (let id = 0; id < A; id++) {
    const prefix = names[id].slice(0, names[id].indexOf(':'));
    const scale = fam[id] === 'infra' ? INFRA_SCALE[prefix] ?? 1 : 1;
    // Rare in absolute terms (cap K) AND relative to the population observed (small populations).
    weight[id] = rarityWeight(df[id], K) * rarityWeight(df[id], N) * scale;
    if (df[id] > K) skippedPopular++;
    else if (df[id] >= 2) indexed++;
  }
  // Own weight per family (the cosine denominator).
  const ownContent = new Float64Array(N);
  const ownInfra = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    for (const id of accAttrs[i]) {
      if (fam[id] === 'content') ownContent[i] += weight[id];
      else ownInfra[i] += weight[id];
    }
  }
  // ---------------- postings (only informative attributes: 2 <= df <= K, not near-popular) ----------------
  // Built in ascending account order, so each list is sorted.
  // An account holding very many informative attributes (a proxy-rotating fleet, a reseller) contributes only its
  // rarest `maxAttributesPerAccount` to pair generation: evidence saturates long before, and cost stays linear.
  const postings: (number[] | undefined)[] = new Array(names.length);
  const useful: number[] = [];
  const usefulOf: Int32Array[] = new Array(N);
  for (let i = 0; i < N; i++) {
    // The cap applies per family, so many shared templates cannot crowd out infrastructure evidence.
    const kept: number[] = [];
    // A platform relaying many users' prompts (thousands of distinct templates) covers the common long tail:
    // its template overlap with others reflects breadth, not common control, so it gives no content evidence.
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
  // ---------------- timing: MinHash LSH candidates ----------------
  const bucketMs = cfg.syncBucketMs;
  const tBuckets = Math.max(1, Math.floor(opts.periodEnd / bucketMs) - Math.floor(opts.periodStart / bucketMs) + 1);
  const sortedBuckets: (Int32Array | null)[] = new Array(N).fill(null);
  const kSig = cfg.lshBands * cfg.lshRows;
  // One map per band, keyed by a 30-bit hash (small integers stay unboxed in V8).
  const bands: Map<number, number[]>[] = Array.from({ length: cfg.lshBands * 2 }, () => new Map());
  const sigs: (Uint32Array | null)[] = new Array(N).fill(null);
  // Thresholds grow with the population (more pairs, more chance co-occurrence): see syncPopulationRef.
  const decades = Math.max(0, Math.ceil(Math.log10(Math.max(1, N) / cfg.syncPopulationRef)));
  const minShared = cfg.syncMinShared + 2 * decades;
  const minHours = cfg.syncMinHours + decades;
  const fullHours = cfg.syncFullHours + decades;
  const startB = Math.floor(opts.periodStart / bucketMs);
  const endB = startB + tBuckets - 1;
  for (let i = 0; i < N; i++) {
    const arr = cache ? cache.buckets(profiles[i], startB, endB) : bucketArray(profiles[i].syncBuckets, startB, endB);
    if (arr.length < Math.max(cfg.syncMinBuckets, minShared)) continue;
    sortedBuckets[i] = arr;
    // Dense accounts (on most of the time) are hashed by their GAPS: accounts that pause together collide.
    const dense = arr.length > tBuckets / 2;
    let items: Int32Array = arr;
    if (dense) {
      items = complement(arr, startB, endB);
      if (items.length < cfg.syncMinBuckets) continue; // always on: no timing information
    }
    const sig = minhashSignature(items, kSig);
    sigs[i] = sig;
    for (let b = 0; b < cfg.lshBands; b++) {
      let h = 0x1b873593 ^ b;
      for (let r = 0; r < cfg.lshRows; r++) h = fmix32((h ^ sig[b * cfg.lshRows + r]) >>> 0);
      const band = bands[b + (dense ? cfg.lshBands : 0)];
      const key = h >>> 2;
      let list = band.get(key);
      if (!list) {
        list = [];
        band.set(key, list);
      }
      list.push(i);
    }
  }
  // Candidate lists per account (the smaller index holds the pair); duplicates are removed when verifying.
  const lshNbr: (number[] | undefined)[] = new Array(N);
  let lshCandidates = 0;
  const addCand = (x: number, y: number): void => {
    if (x > y) [x, y] = [y, x];
    (lshNbr[x] ??= []).push(y);
    lshCandidates++;
  };
  for (const band of bands) for (const list of band.values()) {
    if (list.length < 2) continue;
    if (list.length <= cfg.lshMaxBucket) {
      for (let x = 0; x < list.length; x++) for (let y = x + 1; y < list.length; y++) addCand(list[x], list[y]);
    } else {
      // Sorted-neighbourhood blocking: order by the whole signature, compare with the next W members.
      const ordered = [...list].sort((p, q) => {
        const sp = sigs[p]!;
        const sq = sigs[q]!;
        for (let k = 0; k < kSig; k++) if (sp[k] !== sq[k]) return sp[k] - sq[k];
        return p - q;
      });
      for (let x = 0; x < ordered.length; x++) {
        for (let y = x + 1; y <= x + cfg.lshNeighbours && y < ordered.length; y++) addCand(ordered[x], ordered[y]);
      }
    }
  }
  // ---------------- verify candidate pairs ----------------
  const signupBucket = new Float64Array(N).fill(NaN);
  const signupDf = new Map<number, number>();
  for (let i = 0; i < N; i++) {
    const c = profiles[i].createdAt;
    if (c === null) continue;
    const b = Math.floor(c / cfg.signupBucketMs);
    signupBucket[i] = b;
    signupDf.set(b, (signupDf.get(b) ?? 0) + 1);
  }
  const familyScore = (shared: number, ownA: number, ownB: number, saturation: number): number => {
    if (shared <= 0) return 0;
    const cos = shared / Math.sqrt(Math.max(ownA, 1e-9) * Math.max(ownB, 1e-9));
    return Math.min(1, shared / saturation) * Math.min(1, cos / cfg.familyMinCosine);
  };
  const edges: Edge[] = [];
  const uf = new UnionFind(N);
  const edgeIdx: number[][] = new Array(N);
  const perHour = Math.max(1, Math.round(3_600_000 / bucketMs));
  // Row-wise sparse accumulation (no pair hash map): for account a, sum the shared rarity weight with every b > a
  // reachable through its postings, into scratch arrays reset lazily via `mark`.
  const mark = new Int32Array(N).fill(-1);
  // Time-of-day null model for synchrony. Two accounts that each keep their own daily routine (office hours, the
  // diurnal curve an evasive fleet mimics, a nightly cron job) are co-active in the same buckets without any common
  // control. For every bucket, each account's chance of being active is estimated from the SAME slot of the day on
  // the OTHER days (leave-one-day-out), shrunk towards its overall activity rate r with a weight of
  // `syncTodPrior` days: pX = (active other days in the slot + prior * rX) / (other days + prior). On the first day
  // this is r (plain independence); a job that runs at 01:00 every day predicts its own 01:00 activity, and a fleet
  // whose waves fall at different times each day does not. Co-activity must exceed the expected count by
  // `syncMinTodZ` standard deviations (sum of Bernoulli variances). Hand-written: no library models this.
  const slotsPerDay = Math.max(1, Math.round(86_400_000 / bucketMs));
  const slotOf = (b: number): number => ((b % slotsPerDay) + slotsPerDay) % slotsPerDay;
  const daysPerSlot = new Float64Array(slotsPerDay);
  for (let b = startB; b <= endB; b++) daysPerSlot[slotOf(b)]++;
  const slotA = new Float64Array(slotsPerDay);
  const slotB = new Float64Array(slotsPerDay);
  const slotAB = new Float64Array(slotsPerDay);
  let slotRow = -1;
  const prior = cfg.syncTodPrior;
  const todZ = (a: number, ba: Int32Array, bb: Int32Array, shared: number): number => {
    if (slotRow !== a) {
      slotA.fill(0);
      for (const x of ba) slotA[slotOf(x)]++;
      slotRow = a;
    }
    slotB.fill(0);
    for (const x of bb) slotB[slotOf(x)]++;
    slotAB.fill(0);
    for (let i = 0, j = 0; i < ba.length && j < bb.length; ) {
      if (ba[i] === bb[j]) {
        slotAB[slotOf(ba[i])]++;
        i++;
        j++;
      } else if (ba[i] < bb[j]) i++;
      else j++;
    }
    const rA = ba.length / tBuckets;
    const rB = bb.length / tBuckets;
    let mean = 0;
    let variance = 0;
    for (let k = 0; k < slotsPerDay; k++) {
      const d = daysPerSlot[k];
      if (d <= 0) continue;
      const cA = slotA[k];
      const cB = slotB[k];
      const n11 = slotAB[k];
      const den = d - 1 + prior;
      // Days in this slot on which at least one of the two was active, by (A active, B active); each day's
      // expectation leaves that day out. Days on which neither was active are left out: the test is whether,
      // when one of them is active, the other is active more often than its own routine predicts.
      const cells: [number, number, number][] = [
        [n11, 1, 1],
        [cA - n11, 1, 0],
        [cB - n11, 0, 1],
      ];
      for (const [n, xa, xb] of cells) {
        if (n <= 0) continue;
        const q = ((cA - xa + prior * rA) / den) * ((cB - xb + prior * rB) / den);
        mean += n * q;
        variance += n * q * (1 - q);
      }
    }
    return (shared - mean) / Math.sqrt(Math.max(variance, 1e-9));
  };
  const wC = new Float64Array(N);
  const wI = new Float64Array(N);
  const viaLsh = new Uint8Array(N);
  const touched: number[] = [];
  let attributePairs = 0;
  let verifiedPairs = 0;
  const weak: { a: number; b: number; content: number; infra: number; timing: number; signup: number; total: number; phi: number; sharedBuckets: number; sharedHours: number }[] = [];
  const indexOf = new Map<string, number>();
  for (let i = 0; i < N; i++) indexOf.set(profiles[i].accountId, i);
  for (let a = 0; a < N; a++) {
    touched.length = 0;
    for (const id of usefulOf[a]) {
      const list = postings[id];
      if (!list) continue;
      const w = weight[id];
      const isContent = fam[id] === 'content';
      for (let j = list.length - 1; j >= 0; j--) {
        const b = list[j];
        if (b <= a) break;
        if (mark[b] !== a) {
          mark[b] = a;
          wC[b] = 0;
          wI[b] = 0;
          viaLsh[b] = 0;
          touched.push(b);
        }
        if (isContent) wC[b] += w;
        else wI[b] += w;
        attributePairs++;
      }
    }
    const nb = lshNbr[a];
    if (nb) {
      for (const b of nb) {
        if (mark[b] !== a) {
          mark[b] = a;
          wC[b] = 0;
          wI[b] = 0;
          touched.push(b);
        }
        viaLsh[b] = 1;
      }
    }
    for (const b of touched) {
      if (!viaLsh[b] && wC[b] < cfg.minCandidateWeight && wI[b] < cfg.minCandidateWeight) continue;
      // Already in one component and both with enough evidence: connectivity and evidence do not need this pair.
      if ((edgeIdx[a]?.length ?? 0) >= cfg.maxEdgesPerAccount && (edgeIdx[b]?.length ?? 0) >= cfg.maxEdgesPerAccount && uf.find(a) === uf.find(b)) continue;
      verifiedPairs++;
      const content = familyScore(wC[b], ownContent[a], ownContent[b], cfg.contentSaturation);
      const infra = familyScore(wI[b], ownInfra[a], ownInfra[b], cfg.infraSaturation);
      let timing = 0;
      let ph = 0;
      let sharedBuckets = 0;
      let sharedHours = 0;
      const ba = sortedBuckets[a];
      const bb = sortedBuckets[b];
      if (ba && bb) {
        sharedBuckets = intersectSorted(ba, bb, perHour);
        sharedHours = lastSharedHours;
        // Both co-activity and co-inactivity must be substantial: one shared gap between two always-on
        // accounts is not synchrony.
        const coIdle = tBuckets - ba.length - bb.length + sharedBuckets;
        // Co-activity confined to the same few hours of the day is what cron-aligned batch jobs (midnight, top of
        // the hour) share by convention, not by common control.
        if (sharedBuckets >= minShared && coIdle >= minShared && sharedHours >= minHours && lastSharedHoursOfDay >= cfg.syncMinHoursOfDay && lastSharedEpisodes >= cfg.syncMinEpisodes) {
          ph = phi(sharedBuckets, ba.length, bb.length, tBuckets);
          if (ph >= cfg.syncMinPhi && (cfg.syncMinTodZ <= 0 || todZ(a, ba, bb, sharedBuckets) >= cfg.syncMinTodZ)) {
            timing = Math.min(1, ph / cfg.syncFullPhi) * Math.min(1, sharedHours / fullHours);
          }
        }
      }
      let signup = 0;
      if (!Number.isNaN(signupBucket[a]) && signupBucket[a] === signupBucket[b]) {
        const d = signupDf.get(signupBucket[a]) ?? 0;
        if (d >= 2 && d <= K) signup = cfg.signupScore;
      }
      const total = content + infra + timing + signup;
      // Behavioural evidence (what they send, when they send it) must lead; infrastructure and sign-up time only
      // support it (proxies and NATs mix unrelated customers).
      const primary = Math.max(content, timing);
      const accepted =
        primary >= cfg.minSingleFamilyScore ||
        content + timing >= cfg.minSingleFamilyScore + 0.1 ||
        (primary >= cfg.minPrimaryScore && total >= cfg.minEdgeScore);
      if (!accepted) {
        // Weak synchrony alone is common by chance between two accounts, rare among three at once: keep it and
        // accept it below if a third account is synchronized with both (a triangle).
        if (cfg.syncTriangles && timing > 0) weak.push({ a, b, content, infra, timing, signup, total, phi: ph, sharedBuckets, sharedHours });
        continue;
      }
      edges.push({
        a: profiles[a].accountId,
        b: profiles[b].accountId,
        scores: { content, infra, timing, signup },
        total,
        phi: ph,
        sharedBuckets,
        sharedHours,
      });
      (edgeIdx[a] ??= []).push(edges.length - 1);
      (edgeIdx[b] ??= []).push(edges.length - 1);
      uf.union(a, b);
    }
  }
  // ---------------- triangles of synchronized accounts ----------------
  if (weak.length > 0) {
    const adj = new Map<number, Set<number>>();
    const link = (x: number, y: number): void => {
      let sx = adj.get(x);
      if (!sx) adj.set(x, (sx = new Set()));
      sx.add(y);
    };
    for (const w of weak) {
      link(w.a, w.b);
      link(w.b, w.a);
    }
    for (const e of edges) {
      if (e.scores.timing <= 0) continue;
      const x = indexOf.get(e.a)!;
      const y = indexOf.get(e.b)!;
      link(x, y);
      link(y, x);
    }
    for (const w of weak) {
      const sa = adj.get(w.a)!;
      const sb = adj.get(w.b)!;
      const [small, big] = sa.size < sb.size ? [sa, sb] : [sb, sa];
      let third = false;
      for (const c of small) if (c !== w.a && c !== w.b && big.has(c)) {
        third = true;
        break;
      }
      if (!third) continue;
      const timing = Math.min(1, w.timing * cfg.syncTriangleBoost);
      edges.push({
        a: profiles[w.a].accountId,
        b: profiles[w.b].accountId,
        scores: { content: w.content, infra: w.infra, timing, signup: w.signup },
        total: w.total - w.timing + timing,
        phi: w.phi,
        sharedBuckets: w.sharedBuckets,
        sharedHours: w.sharedHours,
      });
      (edgeIdx[w.a] ??= []).push(edges.length - 1);
      (edgeIdx[w.b] ??= []).push(edges.length - 1);
      uf.union(w.a, w.b);
    }
  }
  // ---------------- prompt libraries (group-level content evidence) ----------------
  const library = findPromptLibraries(profiles, accAttrs, fam, df, cfg);
  for (const g of library.groups) {
    const hub = g.members[0];
    for (const i of g.members) {
      if (i === hub) continue;
      // Star edges bind the group; the content score of an edge is that of its weaker end.
      const content = Math.min(library.score[i], library.score[hub]);
      edges.push({ a: profiles[hub].accountId, b: profiles[i].accountId, scores: { content, infra: 0, timing: 0, signup: 0 }, total: content, phi: 0, sharedBuckets: 0, sharedHours: 0 });
      (edgeIdx[hub] ??= []).push(edges.length - 1);
      (edgeIdx[i] ??= []).push(edges.length - 1);
      uf.union(hub, i);
    }
  }
  // ---------------- leaves held by one timing-only edge ----------------
  // A chance synchrony edge between an unrelated account and one member would pull that account into the whole
  // cluster. An account whose only link is one timing-only edge (no content, infrastructure or library evidence)
  // is therefore not a member: union-find is rebuilt without those edges.
  let prunedLeaves = 0;
  if (cfg.syncPruneLeaves) {
    const keptEdges = pruneTimingLeaves(edges);
    prunedLeaves = edges.length - keptEdges.length;
    if (prunedLeaves > 0) {
      edges.length = 0;
      edges.push(...keptEdges);
      for (let i = 0; i < N; i++) edgeIdx[i] = undefined as unknown as number[];
      uf.parent.forEach((_, i) => (uf.parent[i] = i));
      edges.forEach((e, k) => {
        const x = indexOf.get(e.a)!;
        const y = indexOf.get(e.b)!;
        (edgeIdx[x] ??= []).push(k);
        (edgeIdx[y] ??= []).push(k);
        uf.union(x, y);
      });
    }
  }
  // ---------------- components -> clusters ----------------
  const comps = new Map<number, number[]>();
  for (let i = 0; i < N; i++) {
    if (!edgeIdx[i]) continue;
    const r = uf.find(i);
    let list = comps.get(r);
    if (!list) {
      list = [];
      comps.set(r, list);
    }
    list.push(i);
  }
  const byAccount = new Map<string, AccountLink>();
  const clusters: Cluster[] = [];
  const kept: number[][] = [];
  for (const members of comps.values()) if (members.length >= cfg.minClusterSize) kept.push(members);
  // Stable ids: a component inherits the previous id most of its members carried (largest component first).
  kept.sort((x, y) => y.length - x.length);
  const usedIds = new Set<string>();
  for (const members of kept) {
    const ids = members.map((i) => profiles[i].accountId).sort();
    let clusterId: string | undefined;
    if (opts.previous) {
      const votes = new Map<string, number>();
      for (const id of ids) {
        const prev = opts.previous.get(id);
        if (prev && !usedIds.has(prev)) votes.set(prev, (votes.get(prev) ?? 0) + 1);
      }
      let best = 0;
      for (const [cid, v] of votes) if (v > best || (v === best && clusterId !== undefined && cid < clusterId)) {
        best = v;
        clusterId = cid;
      }
    }
    if (!clusterId) {
      clusterId = 'c-' + fnv1a(ids[0]).toString(16).padStart(8, '0');
      let n = 1;
      while (usedIds.has(clusterId)) clusterId = 'c-' + fnv1a(ids[0] + '#' + n++).toString(16).padStart(8, '0');
    }
    usedIds.add(clusterId);
    // Evidence: families over the component's edges.
    const edgeSet = new Set<number>();
    for (const i of members) for (const e of edgeIdx[i]) edgeSet.add(e);
    const famAgg: Partial<Record<Family, { edges: number; meanScore: number }>> = {};
    let phiSum = 0;
    let phiN = 0;
    for (const e of edgeSet) {
      const edge = edges[e];
      for (const f of FAMILIES) {
        const s = edge.scores[f];
        if (s < 0.2) continue;
        const agg = (famAgg[f] ??= { edges: 0, meanScore: 0 });
        agg.meanScore = (agg.meanScore * agg.edges + s) / (agg.edges + 1);
        agg.edges++;
      }
      if (edge.scores.timing > 0) {
        phiSum += edge.phi;
        phiN++;
      }
    }
    // Shared attributes among members.
    const holders = new Map<number, number>();
    for (const i of members) {
      const platform = isPlatform(profiles[i], cfg);
      for (const id of accAttrs[i]) if (df[id] >= 2 && df[id] <= K && !(platform && fam[id] === 'content')) holders.set(id, (holders.get(id) ?? 0) + 1);
    }
    const sharedAttributes: SharedAttribute[] = [...holders.entries()]
      .filter(([, c]) => c >= 2)
      .sort((x, y) => y[1] - x[1] || df[x[0]] - df[y[0]])
      .slice(0, 8)
      .map(([id, c]) => ({ attribute: names[id], family: fam[id], members: c, population: df[id] }));
    // Templates (almost) exclusive to the cluster: held by several members and by few accounts outside it. A
    // large fleet's templates are held by so many accounts that pairwise rarity discounts them; concentration
    // inside a cluster already bound by other evidence is what makes them telling.
    const exclusive = new Set<number>();
    for (const [id, c] of holders) {
      if (fam[id] === 'content' && c >= Math.max(3, cfg.exclusiveMinMembers * members.length) && c / df[id] >= cfg.exclusiveMinShare) exclusive.add(id);
    }
    let minC = Infinity;
    let maxC = -Infinity;
    for (const i of members) {
      const c = profiles[i].createdAt;
      if (c === null) continue;
      if (c < minC) minC = c;
      if (c > maxC) maxC = c;
    }
    clusters.push({
      clusterId,
      accountIds: ids,
      evidence: {
        edges: edgeSet.size,
        families: famAgg,
        meanPhi: phiN ? phiSum / phiN : 0,
        sharedAttributes,
        signupSpreadMs: Number.isFinite(minC) ? maxC - minC : null,
        exclusiveTemplates: exclusive.size,
      },
    });
    for (const i of members) {
      const sums: Record<Family, number> = { content: 0, infra: 0, timing: 0, signup: 0 };
      const counts: Record<Family, number> = { content: 0, infra: 0, timing: 0, signup: 0 };
      const maxF: Record<Family, number> = { content: 0, infra: 0, timing: 0, signup: 0 };
      let degree = 0;
      let phiAcc = 0;
      let syncPeers = 0;
      for (const e of edgeIdx[i]) {
        const edge = edges[e];
        degree++;
        if (edge.scores.timing >= 0.2) {
          phiAcc += edge.phi;
          syncPeers++;
        }
        for (const f of FAMILIES) {
          const s = edge.scores[f];
          if (s > maxF[f]) maxF[f] = s;
          if (s < 0.2) continue;
          sums[f] += s;
          counts[f]++;
        }
      }
      const families: Record<Family, number> = { content: 0, infra: 0, timing: 0, signup: 0 };
      for (const f of FAMILIES) families[f] = counts[f] ? sums[f] / counts[f] : 0;
      let sharedTemplates = 0;
      let exclusiveTemplates = 0;
      for (const id of accAttrs[i]) {
        if (fam[id] === 'content' && df[id] >= 2 && df[id] <= K) sharedTemplates++;
        if (exclusive.has(id)) exclusiveTemplates++;
      }
      byAccount.set(profiles[i].accountId, {
        clusterId,
        families,
        maxFamilies: maxF,
        degree,
        sharedTemplates,
        exclusiveTemplates,
        meanPhi: syncPeers ? phiAcc / syncPeers : 0,
        syncPeers,
        libraryTemplates: library.templates[i],
        libraryScore: library.score[i],
        librarySize: library.groupOf[i] >= 0 ? library.groups[library.groupOf[i]].templates : 0,
        libraryAccounts: library.groupOf[i] >= 0 ? library.groups[library.groupOf[i]].members.length : 0,
      });
    }
  }
  return {
    clusters,
    byAccount,
    edges,
    stats: {
      accounts: N,
      attributes: A,
      indexedAttributes: indexed,
      skippedPopular,
      attributePairs,
      lshCandidates,
      verifiedPairs,
      edges: edges.length,
      prunedLeaves,
    },
  };
}

/**
 * Edges without those that attach an account to the graph by a single timing-only edge (content and
 * infrastructure below 0.2): one chance synchrony edge must not pull an unrelated account into a whole cluster.
 */
export function pruneTimingLeaves(edges: Edge[]): Edge[] {
  const deg = new Map<string, number>();
  for (const e of edges) {
    deg.set(e.a, (deg.get(e.a) ?? 0) + 1);
    deg.set(e.b, (deg.get(e.b) ?? 0) + 1);
  }
  return edges.filter((e) => !(e.scores.content < 0.2 && e.scores.infra < 0.2 && (deg.get(e.a) === 1 || deg.get(e.b) === 1)));
}

export interface PromptLibraries {
  /** Groups of accounts drawing from one library: member indices (the first is the hub) and distinct templates. */
  groups: { members: number[]; templates: number }[];
  /** Per account: library templates it holds, its 0..1 score, and its group index (-1: none). */
  templates: Int32Array;
  score: Float64Array;
  groupOf: Int32Array;
}

/**
 * Prompt libraries: group-level content evidence that does not wait for pairs of accounts to overlap.
 *
 * A fleet draws its prompts from one library of templates (paraphrased or not). Pair by pair, two members of a
 * large fleet with a large library share few templates, so pairwise overlap builds up slowly; but every template a
 * member sends is also sent by other members, and by nobody else. Organic users mostly write their own prompts:
 * few of their templates are shared at all, and the shared ones (public examples, a course's starter prompt) are
 * also held by many accounts that do not otherwise share prompts.
 *
 * 1. An account "draws from shared libraries" when at least `libraryMinTemplates` of its distinct templates, and at
 *    least `libraryMinShare` of them, are held by 2..`libraryMaxAccounts` accounts.
 * 2. A template belongs to a library when at least `libraryExclusiveShare` of its holders (and 2) draw from shared
 *    libraries.
 * 3. Accounts are grouped by the library templates they hold (union-find over account-template incidences); a
 *    group of at least `minClusterSize` accounts with at least `libraryMinTemplates` distinct templates is reported.
 *    A member's score is min(1, its library templates / `librarySaturation`), and 0 below 2 templates.
 *
 * Cost: one pass over account-template incidences (linear in accounts); no pair of accounts is enumerated.
 * Hand-written: no library does bipartite group detection on this data model.
 */
export function findPromptLibraries(
  profiles: AccountProfile[],
  accAttrs: Int32Array[],
  fam: Family[],
  df: Int32Array,
  cfg: LinkageConfig,
): PromptLibraries {
  const N = profiles.length;
  const templates = new Int32Array(N);
  const score = new Float64Array(N);
  const groupOf = new Int32Array(N).fill(-1);
  const groups: PromptLibraries['groups'] = [];
  if (cfg.libraryMinTemplates <= 0) return { groups, templates, score, groupOf };
  const shared = (id: number): boolean => fam[id] === 'content' && df[id] >= 2 && df[id] <= cfg.libraryMaxAccounts;
  const qualified = new Uint8Array(N);
  const q = new Int32Array(df.length);
  for (let i = 0; i < N; i++) {
    if (isPlatform(profiles[i], cfg)) continue;
    let d = 0;
    let s = 0;
    for (const id of accAttrs[i]) {
      if (fam[id] !== 'content') continue;
      d++;
      if (shared(id)) s++;
    }
    if (s < cfg.libraryMinTemplates || s < cfg.libraryMinShare * d) continue;
    qualified[i] = 1;
    for (const id of accAttrs[i]) if (shared(id)) q[id]++;
  }
  const inLibrary = (id: number): boolean => shared(id) && q[id] >= 2 && q[id] >= cfg.libraryExclusiveShare * df[id];
  const uf = new UnionFind(N);
  const firstHolder = new Int32Array(df.length).fill(-1);
  for (let i = 0; i < N; i++) {
    if (!qualified[i]) continue;
    for (const id of accAttrs[i]) {
      if (!inLibrary(id)) continue;
      templates[i]++;
      if (firstHolder[id] < 0) firstHolder[id] = i;
      else uf.union(firstHolder[id], i);
    }
  }
  const byRoot = new Map<number, number[]>();
  for (let i = 0; i < N; i++) {
    if (templates[i] < 2) continue;
    const r = uf.find(i);
    let list = byRoot.get(r);
    if (!list) byRoot.set(r, (list = []));
    list.push(i);
  }
  for (const members of byRoot.values()) {
    if (members.length < cfg.minClusterSize) continue;
    const distinct = new Set<number>();
    for (const i of members) for (const id of accAttrs[i]) if (inLibrary(id)) distinct.add(id);
    if (distinct.size < cfg.libraryMinTemplates) continue;
    const g = groups.length;
    groups.push({ members, templates: distinct.size });
    for (const i of members) {
      groupOf[i] = g;
      score[i] = Math.min(1, templates[i] / cfg.librarySaturation);
    }
  }
  for (let i = 0; i < N; i++) if (groupOf[i] < 0) templates[i] = 0;
  return { groups, templates, score, groupOf };
}
