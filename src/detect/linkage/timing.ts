/**
 * Phase 2, timing candidates (SynchroTrap-style): each account's sorted active buckets over the period, and
 * candidate pairs from MinHash LSH over those sets, so synchronized accounts meet without comparing all pairs.
 * Also the two pieces pair verification needs for the timing family: co-activity statistics of two bucket arrays
 * and the time-of-day null model.
 */
import type { LinkageConfig } from '../config';
import type { AccountProfile } from '../profile';
import type { LinkageCache } from './attributes';
import { bucketArray, complement, fmix32, minhashSignature } from './primitives';
import type { LinkageOptions } from './types';

/** The period in buckets, and synchrony thresholds grown with the population (see syncPopulationRef). */
export interface TimingWindow {
  startB: number;
  endB: number;
  tBuckets: number;
  /** Buckets per hour, and per day (time-of-day slots). */
  perHour: number;
  slotsPerDay: number;
  minShared: number;
  minHours: number;
  fullHours: number;
}

export interface TimingIndex extends TimingWindow {
  /** Per account: sorted active buckets in the period, null when too few to carry timing evidence. */
  sortedBuckets: (Int32Array | null)[];
  /** Per account: LSH candidates with a larger index (may repeat; verification removes duplicates). */
  candidates: (number[] | undefined)[];
  lshCandidates: number;
  /**
   * Per account: the hours of the day (UTC) of its sorted buckets as a 24-bit mask (0 without buckets), bounding
   * the hours of the day two accounts can share (see PairScorer.linkable). Absent: no bound.
   */
  hourMasks?: Int32Array;
  /**
   * With a LinkageCache (replay): per account, its active buckets as a bitmap of `bitWords` 32-bit words from
   * startB (account i at word i * bitWords), for coActivityBits.
   */
  bits?: Uint32Array;
  bitWords?: number;
}

export function timingWindow(cfg: LinkageConfig, opts: LinkageOptions, n: number): TimingWindow {
  const bucketMs = cfg.syncBucketMs;
  const startB = Math.floor(opts.periodStart / bucketMs);
  const tBuckets = Math.max(1, Math.floor(opts.periodEnd / bucketMs) - startB + 1);
  // More accounts, more pairs, more chance co-occurrence: each decade above syncPopulationRef asks for more.
  const decades = Math.max(0, Math.ceil(Math.log10(Math.max(1, n) / cfg.syncPopulationRef)));
  return {
    startB,
    endB: startB + tBuckets - 1,
    tBuckets,
    perHour: Math.max(1, Math.round(3_600_000 / bucketMs)),
    slotsPerDay: Math.max(1, Math.round(86_400_000 / bucketMs)),
    minShared: cfg.syncMinShared + 2 * decades,
    minHours: cfg.syncMinHours + decades,
    fullHours: cfg.syncFullHours + decades,
  };
}

/**
 * Bucket arrays, MinHash signatures and LSH band buckets. Dense accounts (active more than half the time) are
 * hashed by their GAPS, in a separate set of bands: accounts that pause together collide.
 */
export function timingCandidates(profiles: AccountProfile[], cfg: LinkageConfig, opts: LinkageOptions, cache?: LinkageCache): TimingIndex {
  const n = profiles.length;
  const w = timingWindow(cfg, opts, n);
  const kSig = cfg.lshBands * cfg.lshRows;
  // One map per band, keyed by a 30-bit hash (small integers stay unboxed in V8).
  const bands: Map<number, number[]>[] = Array.from({ length: cfg.lshBands * 2 }, () => new Map());
  const sigs: (Uint32Array | null)[] = new Array(n).fill(null);
  const sortedBuckets: (Int32Array | null)[] = new Array(n).fill(null);
  const hourMasks = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const arr = cache ? cache.buckets(profiles[i], w.startB, w.endB) : bucketArray(profiles[i].syncBuckets, w.startB, w.endB);
    if (arr.length < Math.max(cfg.syncMinBuckets, w.minShared)) continue;
    sortedBuckets[i] = arr;
    hourMasks[i] = cache ? cache.hourMask(profiles[i], arr, w.perHour) : hourOfDayMask(arr, w.perHour);
    const dense = arr.length > w.tBuckets / 2;
    let items: Int32Array = arr;
    if (dense) {
      items = complement(arr, w.startB, w.endB);
      if (items.length < cfg.syncMinBuckets) continue; // always on: no timing information
    }
    // Sparse accounts hash their own bucket array, which the cache keeps while unchanged; gaps depend on the period.
    const sig = cache && !dense ? cache.signature(profiles[i], items, kSig) : minhashSignature(items, kSig);
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
  const { candidates, count } = expandBands(bands, sigs, cfg, n);
  const bitWords = Math.ceil(w.tBuckets / 32);
  const bits = cache ? activityBits(sortedBuckets, w.startB, bitWords) : undefined;
  return { ...w, sortedBuckets, candidates, lshCandidates: count, hourMasks, bits, bitWords };
}

/** The hours of the day (UTC) of a sorted bucket array as a 24-bit mask (as coActivityStats counts them). */
export function hourOfDayMask(sorted: Int32Array, perHour: number): number {
  let mask = 0;
  let nextHourAt = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < sorted.length; k++) {
    if (sorted[k] < nextHourAt) continue;
    const hour = Math.floor(sorted[k] / perHour);
    nextHourAt = (hour + 1) * perHour;
    mask |= 1 << hourOfDay(hour);
  }
  return mask;
}

/** Bitmaps of the accounts' bucket arrays (all inside the period), `words` words each from bucket `origin`. */
function activityBits(sortedBuckets: (Int32Array | null)[], origin: number, words: number): Uint32Array {
  const bits = new Uint32Array(sortedBuckets.length * words);
  for (let i = 0; i < sortedBuckets.length; i++) {
    const arr = sortedBuckets[i];
    if (!arr) continue;
    for (let k = 0, at = i * words; k < arr.length; k++) bits[at + ((arr[k] - origin) >>> 5)] |= 1 << ((arr[k] - origin) & 31);
  }
  return bits;
}

/**
 * Candidate pairs from band buckets: all pairs of a small bucket; a bucket larger than `lshMaxBucket` is ordered by
 * the whole signature and each member compared with its next `lshNeighbours` (sorted-neighbourhood blocking).
 */
function expandBands(
  bands: Map<number, number[]>[],
  sigs: (Uint32Array | null)[],
  cfg: LinkageConfig,
  n: number,
): { candidates: (number[] | undefined)[]; count: number } {
  const kSig = cfg.lshBands * cfg.lshRows;
  const candidates: (number[] | undefined)[] = new Array(n);
  let count = 0;
  const add = (x: number, y: number): void => {
    if (x > y) [x, y] = [y, x];
    (candidates[x] ??= []).push(y);
    count++;
  };
  for (const band of bands)
    for (const list of band.values()) {
      if (list.length < 2) continue;
      if (list.length <= cfg.lshMaxBucket) {
        for (let x = 0; x < list.length; x++) for (let y = x + 1; y < list.length; y++) add(list[x], list[y]);
      } else {
        const ordered = [...list].sort((p, q) => {
          const sp = sigs[p]!;
          const sq = sigs[q]!;
          for (let k = 0; k < kSig; k++) if (sp[k] !== sq[k]) return sp[k] - sq[k];
          return p - q;
        });
        for (let x = 0; x < ordered.length; x++) {
          for (let y = x + 1; y <= x + cfg.lshNeighbours && y < ordered.length; y++) add(ordered[x], ordered[y]);
        }
      }
    }
  return { candidates, count };
}

/** Co-activity of two accounts; written into a reused scratch object (one per verification run). */
export interface CoActivity {
  /** Shared buckets, the distinct hours they span, and the distinct hours of the day (UTC). */
  shared: number;
  hours: number;
  hoursOfDay: number;
  /** Distinct hours of the day at which the shared co-activity episodes start. */
  episodes: number;
}

export const emptyCoActivity = (): CoActivity => ({ shared: 0, hours: 0, hoursOfDay: 0, episodes: 0 });

/** Shared buckets further apart than this (in buckets) start a new co-activity episode. */
const EPISODE_GAP_BUCKETS = 3;

/** Intersection statistics of two sorted bucket arrays, into `out`; returns the shared count. */
export function coActivity(a: Int32Array, b: Int32Array, perHour: number, out: CoActivity): number {
  return coActivityStats(intersectOnce(a, b), perHour, out);
}

/**
 * coActivity of accounts i and j from their activity bitmaps (TimingIndex.bits, `words` words per account from
 * bucket `origin`), a and b being their bucket arrays: a word-wise AND instead of a merge of two long arrays. The
 * shared buckets come out ascending, as the merge gives them.
 */
export function coActivityBits(
  bits: Uint32Array,
  words: number,
  origin: number,
  i: number,
  j: number,
  a: Int32Array,
  b: Int32Array,
  perHour: number,
  out: CoActivity,
): number {
  const need = Math.min(a.length, b.length);
  if (sharedScratch.length < need) sharedScratch = new Int32Array(2 * need);
  const shared = sharedScratch;
  let n = 0;
  for (let w = 0, oi = i * words, oj = j * words; w < words; w++) {
    let x = bits[oi + w] & bits[oj + w];
    while (x !== 0) {
      const low = x & -x;
      shared[n++] = origin + w * 32 + (31 - Math.clz32(low));
      x ^= low;
    }
  }
  scratchA = a;
  scratchB = b;
  scratchShared = n;
  return coActivityStats(n, perHour, out);
}

/** Statistics of the n shared buckets in sharedScratch, into `out`; returns n. */
function coActivityStats(n: number, perHour: number, out: CoActivity): number {
  const shared = sharedScratch;
  let hours = 0;
  let lastHour = -1;
  let hodMask = 0;
  let episodeStarts = 0;
  let lastShared = Number.NEGATIVE_INFINITY;
  // The shared buckets ascend: the hour (and its division) changes only once x reaches the next hour's start.
  let hour = 0;
  let nextHourAt = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < n; k++) {
    const x = shared[k];
    if (x >= nextHourAt) {
      hour = Math.floor(x / perHour);
      nextHourAt = (hour + 1) * perHour;
      if (hour !== lastHour) {
        hours++;
        lastHour = hour;
        hodMask |= 1 << hourOfDay(hour);
      }
    }
    // A new episode: remember the hour of the day it starts at.
    if (x - lastShared > EPISODE_GAP_BUCKETS) episodeStarts |= 1 << hourOfDay(hour);
    lastShared = x;
  }
  out.shared = n;
  out.hours = hours;
  out.hoursOfDay = popcount(hodMask);
  out.episodes = popcount(episodeStarts);
  return n;
}

/**
 * The shared buckets of the last `intersect`, ascending (grown as needed), and the arrays they came from: pair
 * verification asks coActivity and then the time-of-day model about the same two (never modified) arrays.
 */
let sharedScratch = new Int32Array(1024);
let scratchA: Int32Array | null = null;
let scratchB: Int32Array | null = null;
let scratchShared = 0;

/** intersect(a, b), or the scratch as it is when it already holds their intersection. */
function intersectOnce(a: Int32Array, b: Int32Array): number {
  if (a === scratchA && b === scratchB) return scratchShared;
  scratchShared = intersect(a, b);
  scratchA = a;
  scratchB = b;
  return scratchShared;
}

/**
 * Buckets in both sorted arrays, into sharedScratch; returns how many. A merge, or, when one array is much longer
 * (a sparse account against an always-on one), a galloping search of each short-side bucket in the long one.
 */
function intersect(a: Int32Array, b: Int32Array): number {
  const short = a.length <= b.length ? a : b;
  const long = short === a ? b : a;
  scratchA = null;
  scratchB = null;
  if (sharedScratch.length < short.length) sharedScratch = new Int32Array(2 * short.length);
  const out = sharedScratch;
  let n = 0;
  if (long.length <= 8 * short.length) {
    for (let i = 0, j = 0; i < a.length && j < b.length;) {
      if (a[i] === b[j]) {
        out[n++] = a[i];
        i++;
        j++;
      } else if (a[i] < b[j]) i++;
      else j++;
    }
    return n;
  }
  const len = long.length;
  let lo = 0;
  for (let i = 0; i < short.length && lo < len; i++) {
    const x = short[i];
    // Everything before lo is below x: gallop to a bound, then binary search for the first bucket >= x.
    let hi = lo;
    let step = 1;
    while (hi < len && long[hi] < x) {
      lo = hi + 1;
      hi += step;
      step *= 2;
    }
    let r = Math.min(hi, len);
    while (lo < r) {
      const m = (lo + r) >>> 1;
      if (long[m] < x) lo = m + 1;
      else r = m;
    }
    if (lo < len && long[lo] === x) {
      out[n++] = x;
      lo++;
    }
  }
  return n;
}

/** ((b % s) + s) % s for an integer b, with one division. */
function slotOfDay(b: number, s: number): number {
  const r = b % s;
  return r < 0 ? r + s : r;
}

/** ((hour % 24) + 24) % 24 for an integer hour, with one division. */
function hourOfDay(hour: number): number {
  const r = hour % 24;
  return r < 0 ? r + 24 : r;
}

export function popcount(mask: number): number {
  let c = 0;
  for (let m = mask; m; m &= m - 1) c++;
  return c;
}

/**
 * Time-of-day null model for synchrony. Two accounts that each keep their own daily routine (office hours, the
 * diurnal curve an evasive fleet mimics, a nightly cron job) are co-active in the same buckets without any common
 * control. For every bucket, each account's chance of being active is estimated from the SAME slot of the day on
 * the OTHER days (leave-one-day-out), shrunk towards its overall activity rate r with a weight of
 * `syncTodPrior` days: pX = (active other days in the slot + prior * rX) / (other days + prior). On the first day
 * this is r (plain independence); a job that runs at 01:00 every day predicts its own 01:00 activity, and a fleet
 * whose waves fall at different times each day does not. Co-activity must exceed the expected count by
 * `syncMinTodZ` standard deviations (sum of Bernoulli variances). Hand-written: no library models this.
 *
 * Each bucket array's slot counts are kept for the model's lifetime (one verification run).
 */
export class TimeOfDayModel {
  private readonly daysPerSlot: Float64Array;
  private readonly slotAB: Float64Array;
  /** The slot of each bucket of the period, from startB. */
  private readonly slotAt: Int32Array;
  /** Per bucket array (never modified): its buckets per slot of the day, counted once per model. */
  private readonly slots = new Map<Int32Array, Int32Array>();

  constructor(
    private readonly w: TimingWindow,
    private readonly prior: number,
  ) {
    this.daysPerSlot = new Float64Array(w.slotsPerDay);
    this.slotAt = new Int32Array(w.tBuckets);
    for (let b = w.startB; b <= w.endB; b++) this.daysPerSlot[(this.slotAt[b - w.startB] = slotOfDay(b, w.slotsPerDay))]++;
    this.slotAB = new Float64Array(w.slotsPerDay);
  }

  /** slotOfDay(b), looked up for buckets in the period (a division costs more). */
  private slotOf(b: number): number {
    const at = b - this.w.startB;
    return at >= 0 && at < this.slotAt.length ? this.slotAt[at] : slotOfDay(b, this.w.slotsPerDay);
  }

  private slotCounts(buckets: Int32Array): Int32Array {
    let counts = this.slots.get(buckets);
    if (!counts) {
      counts = new Int32Array(this.w.slotsPerDay);
      for (let k = 0; k < buckets.length; k++) counts[this.slotOf(buckets[k])]++;
      this.slots.set(buckets, counts);
    }
    return counts;
  }

  /** z-score of `shared` co-active buckets of accounts a (index, buckets ba) and b (buckets bb). */
  z(a: number, ba: Int32Array, bb: Int32Array, shared: number): number {
    const { slotAB, daysPerSlot, prior } = this;
    const slotA = this.slotCounts(ba);
    const slotB = this.slotCounts(bb);
    slotAB.fill(0);
    const both = intersectOnce(ba, bb);
    for (let k = 0; k < both; k++) slotAB[this.slotOf(sharedScratch[k])]++;
    const rA = ba.length / this.w.tBuckets;
    const rB = bb.length / this.w.tBuckets;
    let mean = 0;
    let variance = 0;
    for (let k = 0; k < daysPerSlot.length; k++) {
      const d = daysPerSlot[k];
      const cA = slotA[k];
      const cB = slotB[k];
      // A slot neither account is active in adds nothing below.
      if (d <= 0 || (cA === 0 && cB === 0)) continue;
      const n11 = slotAB[k];
      const den = d - 1 + prior;
      // Days in this slot on which at least one of the two was active, by (A active, B active); each day's
      // expectation leaves that day out. Days on which neither was active are left out: the test is whether,
      // when one of them is active, the other is active more often than its own routine predicts.
      const pA1 = (cA - 1 + prior * rA) / den;
      const pA0 = (cA + prior * rA) / den;
      const pB1 = (cB - 1 + prior * rB) / den;
      const pB0 = (cB + prior * rB) / den;
      if (n11 > 0) {
        const q = pA1 * pB1;
        mean += n11 * q;
        variance += n11 * q * (1 - q);
      }
      const onlyA = cA - n11;
      if (onlyA > 0) {
        const q = pA1 * pB0;
        mean += onlyA * q;
        variance += onlyA * q * (1 - q);
      }
      const onlyB = cB - n11;
      if (onlyB > 0) {
        const q = pA0 * pB1;
        mean += onlyB * q;
        variance += onlyB * q * (1 - q);
      }
    }
    return (shared - mean) / Math.sqrt(Math.max(variance, 1e-9));
  }
}
