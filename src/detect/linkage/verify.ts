/**
 * Phase 3, pair verification: every candidate pair (sharing informative attributes, or an LSH timing candidate) is
 * scored per evidence family and becomes an edge when behavioural evidence leads. Candidates are enumerated row by
 * row (account a, every b > a reachable through its postings) into scratch arrays reset lazily, so no pair map is
 * ever built; this is the hot loop of linkage.
 */
import type { LinkageConfig } from '../config';
import type { AccountProfile } from '../profile';
import type { AttributeIndex } from './attributes';
import { LinkGraph } from './graph';
import { phi } from './primitives';
import { coActivity, coActivityBits, emptyCoActivity, popcount, TimeOfDayModel, type TimingIndex } from './timing';

/**
 * Co-activity is taken from the bitmaps (see TimingIndex) when the two arrays together hold more buckets than this
 * many times the words of a bitmap: a merge step (an unpredictable branch) costs about as much as several words of
 * a word-wise AND.
 */
const BITMAP_BUCKETS_PER_WORD = 0.25;

/** Per-family scores of one pair (0..1 each) and the timing statistics behind them. */
export interface PairScore {
  content: number;
  infra: number;
  timing: number;
  signup: number;
  total: number;
  phi: number;
  sharedBuckets: number;
  sharedHours: number;
  /** Both accounts keep their own infrastructure (undefined: not known, e.g. a hand-built score). */
  stable?: boolean;
}

/** A pair with some synchrony that was not accepted: kept for the triangle test (see groups.ts). */
export interface WeakPair extends PairScore {
  a: number;
  b: number;
}

export const emptyPairScore = (): PairScore => ({ content: 0, infra: 0, timing: 0, signup: 0, total: 0, phi: 0, sharedBuckets: 0, sharedHours: 0 });

/**
 * An account whose addresses are its own: not a new /24 on most requests. A rotating proxy pool is shared with
 * strangers, so sharing an address or a client string with a rotating account says nothing about who runs it.
 */
export function stableInfrastructure(p: AccountProfile): boolean {
  return p.subnets.size < 10 || p.subnets.size < 0.3 * p.n;
}

/** Per account: infrastructure its own (1) or not (0), and creation time (NaN when unknown). */
export interface PairAccounts {
  stable: Uint8Array;
  created: Float64Array;
}

/**
 * Scores pairs of accounts. A family's score grows with the shared weight (saturating) and is damped when the shared
 * part is a tiny fraction of what the two accounts hold (cosine < familyMinCosine). Timing needs co-activity and
 * co-idleness, spread over hours and hours of the day, phi above syncMinPhi and beyond the time-of-day null model.
 * Sign-up time counts when both accounts were created within `signupCloseMs` of each other.
 */
export class PairScorer {
  private readonly created: Float64Array;
  /** Accounts whose addresses are their own, not a rotating pool shared with everyone (see stableInfrastructure). */
  private readonly stable: Uint8Array;
  private readonly tod: TimeOfDayModel;
  private readonly co = emptyCoActivity();
  /** Scratch of `linkable`: a pair's score with timing 0. */
  private readonly bound = emptyPairScore();

  /** `accounts`: the profiles, or just what the scorer reads of them (sharded linkage holds no profiles). */
  constructor(
    accounts: AccountProfile[] | PairAccounts,
    private readonly cfg: LinkageConfig,
    private readonly index: Pick<AttributeIndex, 'ownContent' | 'ownInfra'>,
    private readonly timing: TimingIndex,
  ) {
    if (Array.isArray(accounts)) {
      // Plain loops: TypedArray.from with a mapping function is several times slower.
      const stable = (this.stable = new Uint8Array(accounts.length));
      const created = (this.created = new Float64Array(accounts.length));
      for (let i = 0; i < accounts.length; i++) {
        stable[i] = stableInfrastructure(accounts[i]) ? 1 : 0;
        created[i] = accounts[i].createdAt ?? NaN;
      }
    } else ({ stable: this.stable, created: this.created } = accounts);
    this.tod = new TimeOfDayModel(timing, cfg.syncTodPrior);
  }

  private familyScore(shared: number, ownA: number, ownB: number, saturation: number): number {
    if (shared <= 0) return 0;
    const cos = shared / Math.sqrt(Math.max(ownA, 1e-9) * Math.max(ownB, 1e-9));
    return Math.min(1, shared / saturation) * Math.min(1, cos / this.cfg.familyMinCosine);
  }

  /** Content, infrastructure and sign-up scores of accounts a and b into `out` (timing and total untouched). */
  private families(a: number, b: number, sharedContent: number, sharedInfra: number, out: PairScore): void {
    const { cfg, index } = this;
    out.content = this.familyScore(sharedContent, index.ownContent[a], index.ownContent[b], cfg.contentSaturation);
    out.infra = this.familyScore(sharedInfra, index.ownInfra[a], index.ownInfra[b], cfg.infraSaturation);
    // Sign-up time: created within signupCloseMs of each other (NaN compares false when either is unknown).
    out.signup = Math.abs(this.created[a] - this.created[b]) <= cfg.signupCloseMs ? cfg.signupScore : 0;
    out.stable = this.stable[a] === 1 && this.stable[b] === 1;
  }

  /**
   * False when accounts a and b cannot become an edge, whatever their co-activity: their active hours of the day
   * overlap in fewer than syncMinHoursOfDay (TimingIndex.hourMasks), so `score` would give timing 0, and content,
   * infrastructure and sign-up time alone are not accepted. Such a pair's score is never read: most attribute
   * candidates end here, without measuring co-activity.
   */
  linkable(a: number, b: number, sharedContent: number, sharedInfra: number): boolean {
    const masks = this.timing.hourMasks;
    if (!masks || popcount(masks[a] & masks[b]) >= this.cfg.syncMinHoursOfDay) return true;
    const s = this.bound;
    this.families(a, b, sharedContent, sharedInfra, s);
    s.total = s.content + s.infra + s.timing + s.signup;
    return acceptEdge(s, this.cfg);
  }

  /** Scores accounts a and b, given their shared content and infrastructure weight, into `out`. */
  score(a: number, b: number, sharedContent: number, sharedInfra: number, out: PairScore): void {
    const { cfg, timing: t } = this;
    this.families(a, b, sharedContent, sharedInfra, out);
    out.timing = 0;
    out.phi = 0;
    out.sharedBuckets = 0;
    out.sharedHours = 0;
    const ba = t.sortedBuckets[a];
    const bb = t.sortedBuckets[b];
    if (ba && bb) {
      const co = this.co;
      // Long arrays: a word-wise AND of the two bitmaps costs less than merging them.
      const shared =
        t.bits && ba.length + bb.length > BITMAP_BUCKETS_PER_WORD * t.bitWords!
          ? coActivityBits(t.bits, t.bitWords!, t.startB, a, b, ba, bb, t.perHour, co)
          : coActivity(ba, bb, t.perHour, co);
      out.sharedBuckets = shared;
      out.sharedHours = co.hours;
      // Both co-activity and co-inactivity must be substantial: one shared gap between two always-on
      // accounts is not synchrony.
      const coIdle = t.tBuckets - ba.length - bb.length + shared;
      // Co-activity confined to the same few hours of the day is what cron-aligned batch jobs (midnight, top of
      // the hour) share by convention, not by common control.
      if (
        shared >= t.minShared &&
        coIdle >= t.minShared &&
        co.hours >= t.minHours &&
        co.hoursOfDay >= cfg.syncMinHoursOfDay &&
        co.episodes >= cfg.syncMinEpisodes
      ) {
        const ph = phi(shared, ba.length, bb.length, t.tBuckets);
        out.phi = ph;
        const z = ph >= cfg.syncMinPhi ? this.tod.z(a, ba, bb, shared) : 0;
        if (ph >= cfg.syncMinPhi && (cfg.syncMinTodZ <= 0 || z >= cfg.syncMinTodZ)) {
          out.timing = Math.min(1, ph / cfg.syncFullPhi) * Math.min(1, co.hours / t.fullHours);
          if (z >= cfg.syncSustainedTodZ && co.hours >= cfg.syncSustainedHours) out.timing = Math.max(out.timing, cfg.syncSustainedScore);
        }
      }
    }
    out.total = out.content + out.infra + out.timing + out.signup;
  }
}

/**
 * Behavioural evidence (what they send, when they send it) must lead; infrastructure and sign-up time only support
 * it (proxies and NATs mix unrelated customers).
 */
export function acceptEdge(s: PairScore, cfg: LinkageConfig): boolean {
  const primary = Math.max(s.content, s.timing);
  return (
    primary >= cfg.minSingleFamilyScore ||
    s.content + s.timing >= cfg.minSingleFamilyScore + 0.1 ||
    (primary >= cfg.minPrimaryScore && s.total >= cfg.minEdgeScore) ||
    // A fleet seen in access logs alone: rare shared infrastructure (a datacenter /24, a rare client) AND sign-ups
    // days apart. Either alone is common (NATs, cloud ranges; busy sign-up days); together they are rare.
    (cfg.minInfraWithSignup > 0 && s.infra >= cfg.minInfraWithSignup && s.signup > 0 && s.stable !== false)
  );
}

export interface Verification {
  graph: LinkGraph;
  weak: WeakPair[];
  attributePairs: number;
  verifiedPairs: number;
}

/** Enumerates and scores candidate pairs; accepted pairs become edges of a new graph. */
export function verifyPairs(profiles: AccountProfile[], cfg: LinkageConfig, index: AttributeIndex, timing: TimingIndex): Verification {
  const n = index.n;
  const { usefulOf, postings, weight, fam } = index;
  const graph = new LinkGraph(profiles.length);
  const scorer = new PairScorer(profiles, cfg, index, timing);
  const s = emptyPairScore();
  const weak: WeakPair[] = [];
  // Row scratch: shared content / infrastructure weight with b, whether b is an LSH candidate; valid when mark[b] === a.
  const mark = new Int32Array(n).fill(-1);
  const wC = new Float64Array(n);
  const wI = new Float64Array(n);
  const viaLsh = new Uint8Array(n);
  const touched: number[] = [];
  let attributePairs = 0;
  let verifiedPairs = 0;
  for (let a = 0; a < n; a++) {
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
    const nb = timing.candidates[a];
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
      if (!viaLsh[b] && wC[b] < cfg.minCandidateWeight && wI[b] < cfg.minInfraCandidateWeight) continue;
      // Already in one component and both with enough evidence: connectivity and evidence do not need this pair.
      if (graph.degree(a) >= cfg.maxEdgesPerAccount && graph.degree(b) >= cfg.maxEdgesPerAccount && graph.uf.find(a) === graph.uf.find(b)) continue;
      verifiedPairs++;
      if (!scorer.linkable(a, b, wC[b], wI[b])) continue;
      scorer.score(a, b, wC[b], wI[b], s);
      if (!acceptEdge(s, cfg)) {
        // Weak synchrony alone is common by chance between two accounts, rare among three at once: keep it and
        // accept it later if a third account is synchronized with both (a triangle).
        if (cfg.syncTriangles && s.timing > 0)
          weak.push({
            a,
            b,
            content: s.content,
            infra: s.infra,
            timing: s.timing,
            signup: s.signup,
            total: s.total,
            phi: s.phi,
            sharedBuckets: s.sharedBuckets,
            sharedHours: s.sharedHours,
          });
        continue;
      }
      graph.add(a, b, {
        a: profiles[a].accountId,
        b: profiles[b].accountId,
        scores: { content: s.content, infra: s.infra, timing: s.timing, signup: s.signup },
        total: s.total,
        phi: s.phi,
        sharedBuckets: s.sharedBuckets,
        sharedHours: s.sharedHours,
      });
    }
  }
  return { graph, weak, attributePairs, verifiedPairs };
}
