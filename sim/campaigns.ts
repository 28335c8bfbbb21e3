/**
 * The three distillation campaign shapes from the public reports, scaled down, each with a `base` and an
 * `evasive` variant. Every campaign account stays far under any sane per-account daily volume limit.
 */
import type { PromptClass } from '../src/shared/contract';
import { BROWSER_UAS, CURVES, DAY, HOUR, MINUTE, MODELS, SDK_UAS, templateId } from './catalog';
import { SimActor, Sticky, World, clip, diurnalGate, onOffBlocks, session } from './actor';
import { Rng, Weighted } from './rng';
import type { CampaignName } from './types';

const ROTATING_UAS: string[] = [...SDK_UAS.map(([u]) => u), ...BROWSER_UAS];

export interface CampaignResult {
  name: CampaignName;
  accounts: SimActor[];
  pivotAt?: number;
}

function campaignActor(world: World, name: CampaignName, accountType: string): SimActor {
  return world.newActor({ kind: 'campaign', type: name, campaign: name, accountType });
}

/** Sign-up bursts (shared payment, bulk registration) in base; spread over weeks when evasive. */
function signUp(world: World, a: SimActor, bursts: number[], evasive: boolean): void {
  const r = a.rng;
  a.createdAt = evasive ? world.start - r.uniform(7, 56) * DAY : r.pick(bursts) + r.uniform(0, 3) * HOUR;
  if (r.chance(0.02)) a.createdAt = null;
}

/** Evasive accounts start at a random point in their first `spreadHours`; none acts before it exists. */
function startActivity(world: World, a: SimActor, evasive: boolean, spreadHours: number): void {
  a.activeFrom = evasive ? world.start + a.rng.uniform(0, spreadHours) * HOUR : world.start;
  if (a.createdAt !== null && a.activeFrom < a.createdAt) a.activeFrom = a.createdAt + HOUR;
}

function rotatingUa(r: Rng): (t: number) => string {
  return () => r.pick(ROTATING_UAS);
}

/** Paraphrases of a template: `n` distinct ids per base template name. */
function library(prefix: string, names: string[], paraphrases: number): string[] {
  const out: string[] = [];
  for (const n of names) for (let i = 0; i < paraphrases; i++) out.push(templateId(`${prefix}:${n}:p${i}`));
  return out;
}

/** Inner scheduling: Poisson arrivals at `ratePerHour` inside each [s, e), modulated by an optional function. */
function poissonIn(r: Rng, blocks: Array<[number, number]>, ratePerHour: number, out: number[], mod?: (t: number) => number): void {
  for (const [s, e] of blocks) {
    const n = r.poisson((ratePerHour * (e - s)) / HOUR);
    for (let i = 0; i < n; i++) {
      const t = s + r.next() * (e - s);
      if (!mod || r.next() < mod(t)) out.push(t);
    }
  }
}

function localCurve(tz: number, curve: readonly number[]): (t: number) => number {
  const max = Math.max(...curve);
  return (t) => curve[Math.floor((((t / HOUR + tz) % 24) + 24) % 24)] / max;
}

// ----------------------------------------------------------------------------------------------------------
// CoT harvest: a few dozen accounts, reasoning-elicitation and rewrite prompts, synchronized dispatch from shared
// infrastructure, templated prompts, long outputs.
// ----------------------------------------------------------------------------------------------------------
export function cotHarvest(world: World, n: number): CampaignResult {
  const evasive = world.variant === 'evasive';
  const r = world.rng.fork('cot_harvest');
  const blocks = onOffBlocks(r, world.start, world.end, [1.5 * HOUR, 4 * HOUR], [0.25 * HOUR, 1.5 * HOUR]);
  const ctz = r.pick([8, 3, -5]);
  const gated = evasive ? diurnalGate(r, blocks, ctz, CURVES.human) : blocks;
  const bursts = [world.start - r.uniform(2, 5) * DAY];
  // shared infrastructure: a handful of addresses of one datacenter proxy provider (used by VPN customers too)
  const infra = r.sample(world.net.dcProxies[0].ips, 8);
  const cotNames = ['stepwise-explain', 'show-your-work', 'reasoning-trace', 'verify-each-step', 'derive-then-answer', 'critique-own-chain'];
  const rwNames = ['rewrite-sensitive-neutral', 'paraphrase-refusal-bypass', 'restate-as-hypothetical'];
  const cotLib = library(`cot:${r.hex(4)}`, cotNames, evasive ? 7 : 1);
  const rwLib = library(`cot:${r.hex(4)}`, rwNames, evasive ? 7 : 1);
  const accounts: SimActor[] = [];
  const round = 90_000;
  for (let i = 0; i < n; i++) {
    const a = campaignActor(world, 'cot_harvest', 'fresh');
    const ar = a.rng;
    signUp(world, a, bursts, evasive);
    startActivity(world, a, evasive, 36);
    if (!evasive) {
      // the dispatcher sends one job per account per round; all accounts move in lockstep
      const q = ar.uniform(0.75, 1);
      a.schedule = (day, end, out) => {
        for (const [s, e] of clip(blocks, day, end)) {
          for (let t = Math.ceil(s / round) * round; t < e; t += round) if (ar.next() < q) out.push(t + ar.uniform(0, 8000));
        }
      };
    } else {
      const mine = gated
        .filter(() => ar.chance(0.65))
        .map(([s, e]) => [s + ar.uniform(-20, 20) * MINUTE, e + ar.uniform(-20, 20) * MINUTE] as [number, number]);
      const rate = ar.uniform(15, 32);
      a.schedule = (day, end, out) => poissonIn(ar, clip(mine, day, end), rate * ar.uniform(0.7, 1.3), out);
    }
    a.classes = new Weighted<PromptClass>([
      ['cot_elicitation', 62],
      ['rewrite', 30],
      ['other', 8],
    ]);
    const myCot = evasive ? ar.sample(cotLib, 8) : cotLib;
    const myRw = evasive ? ar.sample(rwLib, 4) : rwLib;
    a.template = (c) => (c === 'rewrite' ? ar.pick(myRw) : ar.pick(myCot));
    a.outScale = 1.6;
    a.models = new Weighted([
      [MODELS.opus, 80],
      [MODELS.sonnet, 20],
    ]);
    if (evasive) {
      const s = new Sticky(15 * MINUTE, () => ar.pick(world.net.residentialProxy), 0.05, ar);
      a.ip = (t) => s.get(t);
      a.ua = rotatingUa(ar);
    } else {
      a.ip = () => ar.pick(infra);
      a.ua = () => 'python-httpx/0.27.2';
    }
    const key = ar.alnum(10);
    a.key = () => key;
    a.rpm = 60;
    a.p429 = 0.02;
    accounts.push(a);
  }
  return { name: 'cot_harvest', accounts };
}

// ----------------------------------------------------------------------------------------------------------
// Agentic sweep: hundreds of accounts of several types, agentic / coding / vision tasks, rotating residential
// proxies, activity coordinated in waves.
// ----------------------------------------------------------------------------------------------------------
export function agenticSweep(world: World, n: number): CampaignResult {
  const evasive = world.variant === 'evasive';
  const r = world.rng.fork('agentic_sweep');
  const waves: Array<[number, number]> = [];
  for (let t = world.start - r.uniform(0, 2) * HOUR; t < world.end; t += r.uniform(3, 5) * HOUR) waves.push([t, t + r.uniform(30, 60) * MINUTE]);
  const ctz = r.pick([8, 3, -5, 1]);
  const gated = evasive ? diurnalGate(r, waves, ctz, CURVES.human) : waves;
  const bursts = Array.from({ length: 3 }, () => world.start - r.uniform(1, 10) * DAY);
  const names = Array.from({ length: 24 }, (_, i) => `agent-task-${i}`);
  const lib = library(`agentic:${r.hex(4)}`, names, evasive ? 8 : 1);
  const teamUas = r.sample(
    SDK_UAS.slice(0, 8).map(([u]) => u),
    3,
  );
  const accounts: SimActor[] = [];
  for (let i = 0; i < n; i++) {
    const x = r.next();
    const type = x < 0.5 ? 'fresh' : x < 0.8 ? 'aged' : 'team';
    const a = campaignActor(world, 'agentic_sweep', type);
    const ar = a.rng;
    if (type === 'aged') a.createdAt = world.start - ar.uniform(180, 540) * DAY;
    else signUp(world, a, bursts, evasive);
    startActivity(world, a, evasive, 48);
    const mine = evasive
      ? gated.filter(() => ar.chance(0.55)).map(([s, e]) => [s + ar.uniform(-30, 30) * MINUTE, e + ar.uniform(-30, 30) * MINUTE] as [number, number])
      : waves.filter(() => ar.chance(0.75)).map(([s, e]) => [s + ar.uniform(0, 3) * MINUTE, e] as [number, number]);
    const stepS = ar.uniform(40, 70);
    a.schedule = (day, end, out) => {
      for (const [s, e] of clip(mine, day, end)) {
        // agent loops: a task of several tool-use steps, a pause, the next task
        let t = s;
        while (t < e) {
          const steps = Math.max(2, Math.round(ar.lognormal(10, 0.5)));
          const buf: number[] = [];
          session(ar, t, steps, stepS, 0.5, buf);
          for (const x of buf) if (x < e) out.push(x);
          t = buf[buf.length - 1] + ar.uniform(30, 120) * 1000;
        }
      }
    };
    a.classes = new Weighted<PromptClass>([
      ['agentic', 40],
      ['coding', 30],
      ['vision', 18],
      ['chat', 7],
      ['other', 5],
    ]);
    const mySet = ar.sample(lib, evasive ? 15 : 10);
    a.template = () => ar.pick(mySet);
    a.models = new Weighted([
      [MODELS.sonnet, 50],
      [MODELS.opus, 45],
      [MODELS.haiku, 5],
    ]);
    const s = new Sticky(60_000, () => ar.pick(world.net.residentialProxy), evasive ? 0.3 : 0.08, ar);
    a.ip = (t) => s.get(t);
    if (evasive) a.ua = rotatingUa(ar);
    else {
      const ua = ar.pick(teamUas);
      a.ua = () => ua;
    }
    const keys = Array.from({ length: type === 'team' ? ar.int(3, 5) : 1 }, () => ar.alnum(10));
    a.key = () => ar.pick(keys);
    a.rpm = 60;
    a.p429 = 0.015;
    a.p4xx = 0.02;
    accounts.push(a);
  }
  return { name: 'agentic_sweep', accounts };
}

// ----------------------------------------------------------------------------------------------------------
// Model pivot: broad capability coverage; most traffic moves to the new model within hours of its release.
// ----------------------------------------------------------------------------------------------------------
export function modelPivot(world: World, n: number): CampaignResult {
  const evasive = world.variant === 'evasive';
  const r = world.rng.fork('model_pivot');
  const blocks = onOffBlocks(r, world.start, world.end, [2 * HOUR, 5 * HOUR], [0.5 * HOUR, 2 * HOUR]);
  const ctz = r.pick([8, 3, -5]);
  const gated = evasive ? diurnalGate(r, blocks, ctz, CURVES.human) : blocks;
  const mod = evasive ? localCurve(ctz, CURVES.human) : undefined;
  const bursts = Array.from({ length: 2 }, () => world.start - r.uniform(3, 14) * DAY);
  const classes: PromptClass[] = ['chat', 'coding', 'agentic', 'vision', 'cot_elicitation', 'rewrite', 'other'];
  const lib: Record<string, string[]> = {};
  for (const c of classes)
    lib[c] = library(
      `pivot:${r.hex(4)}`,
      Array.from({ length: 60 }, (_, i) => `${c}-${i}`),
      evasive ? 7 : 1,
    );
  const pivotAt = world.releaseAt + r.uniform(1, 3) * HOUR;
  const dc = world.net.dcProxies[1].ips;
  const accounts: SimActor[] = [];
  for (let i = 0; i < n; i++) {
    const type = r.chance(0.3) ? 'aged' : 'fresh';
    const a = campaignActor(world, 'model_pivot', type);
    const ar = a.rng;
    if (type === 'aged') a.createdAt = world.start - ar.uniform(120, 600) * DAY;
    else signUp(world, a, bursts, evasive);
    startActivity(world, a, evasive, 24);
    const mine = evasive
      ? gated.filter(() => ar.chance(0.6)).map(([s, e]) => [s + ar.uniform(-30, 30) * MINUTE, e + ar.uniform(-30, 30) * MINUTE] as [number, number])
      : blocks.map(([s, e]) => [s + ar.uniform(0, 5) * MINUTE, e - ar.uniform(0, 5) * MINUTE] as [number, number]);
    const rate = ar.uniform(8, 14);
    a.schedule = (day, end, out) => poissonIn(ar, clip(mine, day, end), rate, out, mod);
    a.classes = new Weighted<PromptClass>(classes.map((c) => [c, ar.uniform(0.8, 1.2)] as const));
    const mine2: Record<string, string[]> = {};
    for (const c of classes) mine2[c] = evasive ? ar.sample(lib[c], 45) : lib[c];
    a.template = (c) => ar.pick(mine2[c]);
    a.models = new Weighted([
      [MODELS.opus, 60],
      [MODELS.sonnet, 35],
      [MODELS.haiku, 5],
    ]);
    a.adoptAt = evasive ? world.releaseAt + ar.uniform(1, 14) * HOUR : pivotAt + ar.uniform(0, 30) * MINUTE;
    a.adoptShare = evasive ? ar.uniform(0.65, 0.85) : 0.85;
    a.adoptRamp = evasive ? 3 * HOUR : 0.5 * HOUR;
    if (evasive) {
      const s = new Sticky(20 * MINUTE, () => ar.pick(world.net.residentialProxy), 0.3, ar);
      a.ip = (t) => s.get(t);
      a.ua = rotatingUa(ar);
    } else if (ar.chance(0.5)) {
      let day = -1;
      let ip = '';
      a.ip = (t) => {
        const d = Math.floor(t / DAY);
        if (d !== day) {
          day = d;
          ip = ar.pick(dc);
        }
        return ip;
      };
      a.ua = () => 'Anthropic/Python 0.49.0';
    } else {
      const s = new Sticky(30 * MINUTE, () => ar.pick(world.net.residentialProxy));
      a.ip = (t) => s.get(t);
      a.ua = () => 'Anthropic/Python 0.49.0';
    }
    const keys = Array.from({ length: ar.int(1, 2) }, () => ar.alnum(10));
    a.key = () => ar.pick(keys);
    a.rpm = 60;
    a.p429 = 0.01;
    accounts.push(a);
  }
  return { name: 'model_pivot', accounts, pivotAt: evasive ? undefined : pivotAt };
}

// ----------------------------------------------------------------------------------------------------------
// The adaptive adversary (variant `adaptive`): it has read the public reports. Aged or bought accounts that
// keep a cover of normal use, a fresh residential address per request, mostly paraphrased (unique) prompts, a
// human day in its own time zone, a pivot staggered over 8-24 h, taken-over long-lived accounts, and a few very
// high-volume single accounts that do not cluster with anything.
// ----------------------------------------------------------------------------------------------------------

export type CoverFactory = (world: World) => SimActor;

/**
 * An aged or bought account: built as an ordinary organic customer (its history and continuing cover traffic),
 * relabelled as the campaign's, with a shadow request source (same account id) for the extraction traffic.
 */
function coveredAccount(
  world: World,
  name: CampaignName,
  accountType: string,
  cover: CoverFactory,
  ageDays: [number, number],
): { owner: SimActor; ex: SimActor } {
  const owner = cover(world);
  const r = owner.rng;
  world.relabel(owner, { kind: 'campaign', type: name, campaign: name, accountType });
  owner.createdAt = world.start - r.uniform(ageDays[0], ageDays[1]) * DAY;
  owner.activeFrom = -Infinity;
  const ex = world.newShadow(owner);
  return { owner, ex };
}

/** A request's prompt: mostly a unique paraphrase, sometimes one of the account's share of a large library. */
function paraphrased(ar: Rng, lib: string[], pUnique: number): (c: PromptClass, t: number) => string {
  const mine = ar.sample(lib, Math.min(lib.length, ar.int(20, 60)));
  return () => (ar.next() < pUnique ? `t-${ar.hex(12)}` : mine[ar.int(0, mine.length - 1)]);
}

/** Human sessions in the persona's time zone: a few sessions a day, like a power user. */
function humanRhythm(ar: Rng, tzh: number, reqMedian: number, gapS: number): (day: number, end: number, out: number[]) => void {
  const picker = new Weighted(CURVES.human.map((v, h) => [h, v] as const));
  return (day, _end, out) => {
    if (!ar.chance(0.88)) return;
    const n = 1 + ar.poisson(ar.uniform(2, 5));
    for (let s = 0; s < n; s++) {
      const lh = picker.draw(ar);
      const t = day + ((((lh - tzh) % 24) + 24) % 24) * HOUR + ar.next() * HOUR;
      session(ar, t, Math.max(2, Math.round(ar.lognormal(reqMedian, 0.6))), gapS, 0.9, out);
    }
  };
}

const covers = (world: World, pick: CoverFactory[]): CoverFactory => pick[world.rng.int(0, pick.length - 1)];

export interface AdaptiveSizes {
  cot: number;
  sweep: number;
  pivot: number;
  takeover: number;
  solo: number;
}

export function adaptiveCampaigns(
  world: World,
  n: AdaptiveSizes,
  coverFactories: CoverFactory[],
  takeoverFactories: CoverFactory[],
): CampaignResult[] {
  const r = world.rng.fork('adaptive');
  const net = world.net;
  const opTz = r.pick([8, 3, -5, 1, 5.5]);
  const personaTz = (ar: Rng): number => opTz + ar.pick([-1, 0, 0, 0, 1]);
  const freshIp = (ar: Rng) => (): string => net.residentialIp(ar);
  const oneUa = (ar: Rng): string => SDK_UAS[ar.int(0, 7)][0];
  const results: CampaignResult[] = [];

  const extraction = (
    name: CampaignName,
    count: number,
    classes: ReadonlyArray<readonly [PromptClass, number]>,
    lib: string[],
    opts: { reqMedian: number; gapS: number; outScale: number; pivot?: boolean },
  ): CampaignResult => {
    const accounts: SimActor[] = [];
    for (let i = 0; i < count; i++) {
      const x = r.next();
      const { owner, ex } = coveredAccount(world, name, x < 0.6 ? 'aged' : 'bought', covers(world, coverFactories), [60, 900]);
      const ar = ex.rng;
      ex.activeFrom = world.start + ar.uniform(0.08, 0.35) * (world.end - world.start);
      ex.schedule = humanRhythm(ar, personaTz(ar), opts.reqMedian, opts.gapS);
      ex.classes = new Weighted(classes.map(([c, wt]) => [c, wt * ar.uniform(0.8, 1.25)] as const));
      ex.template = paraphrased(ar, lib, ar.uniform(0.75, 0.95));
      ex.outScale = opts.outScale;
      ex.models = new Weighted([
        [MODELS.opus, 60],
        [MODELS.sonnet, 35],
        [MODELS.haiku, 5],
      ]);
      if (opts.pivot) {
        ex.adoptAt = world.releaseAt + ar.uniform(8, 24) * HOUR;
        ex.adoptShare = ar.uniform(0.6, 0.85);
        ex.adoptRamp = ar.uniform(2, 6) * HOUR;
      }
      ex.ip = freshIp(ar);
      const ua = ar.chance(0.6) ? owner.ua(world.start) : oneUa(ar);
      ex.ua = () => ua;
      ex.key = ar.chance(0.5)
        ? owner.key
        : (
            (k) => () =>
              k
          )(ar.alnum(10));
      ex.rpm = 60;
      ex.p429 = 0.01;
      accounts.push(owner);
    }
    return { name, accounts };
  };

  const lib = (prefix: string, k: number): string[] => Array.from({ length: k }, (_, i) => templateId(`${prefix}:${r.hex(4)}:${i}`));
  results.push(
    extraction(
      'adaptive_cot',
      n.cot,
      [
        ['cot_elicitation', 55],
        ['rewrite', 20],
        ['chat', 15],
        ['other', 10],
      ],
      lib('acot', 400),
      { reqMedian: 18, gapS: 35, outScale: 1.5 },
    ),
  );
  results.push(
    extraction(
      'adaptive_sweep',
      n.sweep,
      [
        ['agentic', 40],
        ['coding', 30],
        ['vision', 15],
        ['chat', 10],
        ['other', 5],
      ],
      lib('asweep', 600),
      { reqMedian: 20, gapS: 30, outScale: 1.1 },
    ),
  );
  const pivot = extraction(
    'adaptive_pivot',
    n.pivot,
    (['chat', 'coding', 'agentic', 'vision', 'cot_elicitation', 'rewrite', 'other'] as PromptClass[]).map((c) => [c, 1] as const),
    lib('apivot', 900),
    { reqMedian: 16, gapS: 35, outScale: 1.2, pivot: true },
  );
  results.push(pivot);

  // ---- account takeover: a long-lived customer's account, extraction from new infrastructure beside the owner ----
  const takeovers: SimActor[] = [];
  const span = world.end - world.start;
  for (let i = 0; i < n.takeover; i++) {
    const owner = covers(world, takeoverFactories)(world);
    const orr = owner.rng;
    owner.createdAt = world.start - orr.uniform(200, 1500) * DAY;
    owner.activeFrom = -Infinity;
    const takeoverAt = Math.floor(world.start + orr.uniform(0.25, 0.7) * span);
    world.relabel(owner, { kind: 'campaign', type: 'takeover', campaign: 'takeover', accountType: 'taken_over', takeoverAt });
    const ex = world.newShadow(owner);
    const ar = ex.rng;
    ex.activeFrom = takeoverAt;
    const perDay = ar.uniform(150, 600);
    const atz = ar.pick([8, 3, -5, 1]);
    const flat = ar.chance(0.5);
    const curve = flat ? CURVES.app.map(() => 1) : CURVES.human;
    const sum = curve.reduce((s, v) => s + v, 0);
    ex.schedule = (day, end, out) => {
      for (let h = day; h < end; h += HOUR) {
        const local = Math.floor((((h / HOUR + atz) % 24) + 24) % 24);
        const k = ar.poisson((perDay * curve[local]) / sum);
        for (let j = 0; j < k; j++) out.push(h + ar.next() * HOUR);
      }
    };
    ex.classes = new Weighted<PromptClass>([
      ['cot_elicitation', 60],
      ['rewrite', 20],
      ['chat', 10],
      ['coding', 10],
    ]);
    ex.template = paraphrased(ar, lib('takeover', 200), 0.7);
    ex.outScale = 1.7;
    ex.models = new Weighted([
      [MODELS.opus, 75],
      [MODELS.sonnet, 25],
    ]);
    const infra = ar.next();
    if (infra < 0.35) {
      const ips = Array.from({ length: ar.int(1, 3) }, () => net.cloudIp(ar));
      ex.ip = () => ips[ar.int(0, ips.length - 1)];
    } else if (infra < 0.6) {
      const pool = net.dcProxies[ar.int(0, net.dcProxies.length - 1)].ips;
      const s = new Sticky(20 * MINUTE, () => ar.pick(pool));
      ex.ip = (t) => s.get(t);
    } else ex.ip = freshIp(ar);
    const ua = oneUa(ar);
    ex.ua = () => ua;
    ex.key = ar.chance(0.7)
      ? (
          (k) => () =>
            k
        )(ar.alnum(10))
      : owner.key;
    ex.rpm = 60;
    ex.p429 = 0.01;
    takeovers.push(owner);
  }
  results.push({ name: 'takeover', accounts: takeovers });

  // ---- very high-volume single accounts: about half chain-of-thought elicitation, no cluster at all ----
  const solos: SimActor[] = [];
  for (let i = 0; i < n.solo; i++) {
    const a = campaignActor(world, 'solo_heavy', 'heavy');
    const ar = a.rng;
    a.createdAt = world.start - ar.uniform(30, 500) * DAY;
    const perDay = ar.uniform(2500, 6000);
    const stz = ar.pick([-8, -5, 0, 1, 3, 5.5, 8, 9]);
    const curve = ar.chance(0.5) ? CURVES.app : CURVES.app.map((v) => 0.6 + 0.4 * v);
    const sum = curve.reduce((s, v) => s + v, 0);
    a.schedule = (day, end, out) => {
      for (let h = day; h < end; h += HOUR) {
        const local = Math.floor((((h / HOUR + stz) % 24) + 24) % 24);
        const k = ar.poisson((perDay * curve[local]) / sum);
        for (let j = 0; j < k; j++) out.push(h + ar.next() * HOUR);
      }
    };
    const cot = ar.uniform(0.42, 0.58);
    a.classes = new Weighted<PromptClass>([
      ['cot_elicitation', cot],
      ['chat', (1 - cot) * 0.35],
      ['coding', (1 - cot) * 0.3],
      ['rewrite', (1 - cot) * 0.2],
      ['other', (1 - cot) * 0.15],
    ]);
    const own = Array.from({ length: ar.int(3, 12) }, (_, k) => templateId(`solo:${a.id}:${k}`));
    const pOwn = ar.uniform(0.2, 0.5);
    a.template = () => (ar.next() < pOwn ? own[ar.int(0, own.length - 1)] : `t-${ar.hex(12)}`);
    a.outScale = 1.4;
    a.models = new Weighted([
      [MODELS.opus, 55],
      [MODELS.sonnet, 40],
      [MODELS.haiku, 5],
    ]);
    a.adoptAt = world.releaseAt + ar.uniform(2, 30) * HOUR;
    a.adoptShare = ar.uniform(0.3, 0.7);
    a.adoptRamp = 6 * HOUR;
    const ips = Array.from({ length: ar.int(1, 3) }, () => net.cloudIp(ar));
    a.ip = () => ips[ar.int(0, ips.length - 1)];
    const ua = ar.chance(0.5) ? oneUa(ar) : `${ar.pick(['tutorbase', 'mathmentor', 'answerly', 'reasonr'])}-backend/${ar.int(1, 5)}.${ar.int(0, 20)}`;
    a.ua = () => ua;
    const keys = Array.from({ length: ar.int(1, 4) }, () => ar.alnum(10));
    a.key = () => keys[ar.int(0, keys.length - 1)];
    a.rpm = 2000;
    a.p429 = 0.005;
    solos.push(a);
  }
  results.push({ name: 'solo_heavy', accounts: solos });
  return results;
}
