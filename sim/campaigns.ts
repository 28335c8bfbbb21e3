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
  return (t) => curve[Math.floor(((((t / HOUR + tz) % 24) + 24) % 24))] / max;
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
    a.activeFrom = evasive ? world.start + ar.uniform(0, 36) * HOUR : world.start;
    if (a.createdAt !== null && a.activeFrom < a.createdAt) a.activeFrom = a.createdAt + HOUR;
    if (!evasive) {
      // the dispatcher sends one job per account per round; all accounts move in lockstep
      const q = ar.uniform(0.75, 1);
      a.schedule = (day, end, out) => {
        for (const [s, e] of clip(blocks, day, end)) {
          for (let t = Math.ceil(s / round) * round; t < e; t += round) if (ar.next() < q) out.push(t + ar.uniform(0, 8000));
        }
      };
    } else {
      const mine = gated.filter(() => ar.chance(0.65)).map(([s, e]) => [s + ar.uniform(-20, 20) * MINUTE, e + ar.uniform(-20, 20) * MINUTE] as [number, number]);
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
    a.activeFrom = evasive ? world.start + ar.uniform(0, 48) * HOUR : world.start;
    if (a.createdAt !== null && a.activeFrom < a.createdAt) a.activeFrom = a.createdAt + HOUR;
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
  for (const c of classes) lib[c] = library(`pivot:${r.hex(4)}`, Array.from({ length: 60 }, (_, i) => `${c}-${i}`), evasive ? 7 : 1);
  const pivotAt = world.releaseAt + r.uniform(1, 3) * HOUR;
  const dc = world.net.dcProxies[1].ips;
  const accounts: SimActor[] = [];
  for (let i = 0; i < n; i++) {
    const type = r.chance(0.3) ? 'aged' : 'fresh';
    const a = campaignActor(world, 'model_pivot', type);
    const ar = a.rng;
    if (type === 'aged') a.createdAt = world.start - ar.uniform(120, 600) * DAY;
    else signUp(world, a, bursts, evasive);
    a.activeFrom = evasive ? world.start + ar.uniform(0, 24) * HOUR : world.start;
    if (a.createdAt !== null && a.activeFrom < a.createdAt) a.activeFrom = a.createdAt + HOUR;
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
