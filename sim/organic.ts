/**
 * Organic customers, including the hard negatives a real provider sees: batch jobs, eval harnesses, NATs,
 * early adopters of a new model, resellers and hackathons. docs/simulator.md says what each looks like and why.
 */
import type { PromptClass } from '../src/shared/contract';
import {
  BROWSER_UAS,
  CURVES,
  DAY,
  EVAL_CODE_TEMPLATES,
  EVAL_TEMPLATES,
  EVAL_UAS,
  HOUR,
  MINUTE,
  MODELS,
  PUBLIC_CHAT_TEMPLATES,
  SDK_UAS,
  SDK_UA_PICKER,
  isWeekend,
  templateId,
} from './catalog';
import { SessionSpec, SimActor, Sticky, World, diurnalRate, poissonHourly, session, sessions } from './actor';
import { Weighted } from './rng';
import type { OrganicType } from './types';
import type { Tool } from './world';

export type W<T> = ReadonlyArray<readonly [T, number]>;
export const w = <T>(entries: W<T>): Weighted<T> => new Weighted(entries);

export const MODEL_MIX_DEFAULT: W<string> = [
  [MODELS.sonnet, 55],
  [MODELS.haiku, 25],
  [MODELS.opus, 15],
  [MODELS.legacy, 5],
];

export function organic(world: World, type: OrganicType): SimActor {
  return world.newActor({ kind: 'organic', type });
}

/** Most accounts are old; some sign up during the run (and only then start). A few lack the creation time. */
export function createdAtFor(world: World, a: SimActor, pNew = 0.06): void {
  const r = a.rng;
  if (r.chance(pNew)) {
    a.createdAt = world.start + r.uniform(0, world.end - world.start - 6 * HOUR);
    a.activeFrom = a.createdAt + r.uniform(2, 60) * MINUTE;
  } else {
    a.createdAt = world.start - r.uniform(1, 720) * DAY;
  }
}

export function dropCreatedAt(a: SimActor): void {
  if (a.rng.chance(0.02)) a.createdAt = null;
}

/** Some organic accounts try the new model eventually: most after days, with part of their traffic. */
export function slowAdoption(world: World, a: SimActor, pEver: number, meanDays: number): void {
  const r = a.rng;
  const ad = world.plan.adoption;
  if (!r.chance(Math.min(0.95, pEver * ad.pEverScale))) return;
  a.adoptAt = world.releaseAt + r.exp(meanDays * (ad.meanDays / 2.5) * DAY) + r.uniform(0.5, 6) * HOUR;
  a.adoptShare = r.uniform(0.1, 0.6);
  a.adoptRamp = r.uniform(6, 48) * HOUR;
}

/** Per-conversation template ids for free-form prompts, mixed with the account's own and public templates. */
export function freeformTemplates(
  a: SimActor,
  opts: { pOwn?: number; own?: string[]; pPublic?: number; publics?: readonly string[]; conversationGapMs?: number },
): (cls: PromptClass, t: number) => string {
  const r = a.rng;
  const own = (opts.own ?? []).map(templateId);
  const publics = (opts.publics ?? PUBLIC_CHAT_TEMPLATES).map(templateId);
  const conv = new Sticky(opts.conversationGapMs ?? 10 * MINUTE, () => `t-${r.hex(12)}`);
  const pOwn = own.length ? (opts.pOwn ?? 0) : 0;
  const pPublic = opts.pPublic ?? 0;
  return (_cls, t) => {
    const x = r.next();
    if (x < pOwn) return r.pick(own);
    if (x < pOwn + pPublic) return r.pick(publics);
    return conv.get(t);
  };
}

/**
 * A tool that makes the new model its default moves its users: all at once when it is hosted, after each user's
 * upgrade lag when it is self-updated. Whichever comes first (the user's own trial or the tool's switch) wins.
 */
export function toolAdoption(a: SimActor, tool: Tool): void {
  if (tool.switchAt === null) return;
  const r = a.rng;
  const at = tool.hosted ? tool.switchAt + r.uniform(0, 20) * MINUTE : tool.switchAt + r.exp(r.uniform(0.2, 2) * DAY);
  if (at < a.adoptAt) {
    a.adoptAt = at;
    a.adoptShare = tool.switchShare * r.uniform(0.85, 1);
    a.adoptRamp = tool.hosted ? r.uniform(0.1, 1) * HOUR : r.uniform(1, 12) * HOUR;
  }
}

export function oneSdkUa(a: SimActor): (t: number) => string {
  const r = a.rng;
  const x = r.next();
  if (x < 0.01) return () => '-';
  if (x < 0.06) {
    const b = r.pick(BROWSER_UAS);
    return () => b;
  }
  const ua = SDK_UA_PICKER.draw(r);
  if (x > 0.9) {
    const second = SDK_UA_PICKER.draw(r);
    return () => (r.chance(0.3) ? second : ua);
  }
  return () => ua;
}

export function oneKey(a: SimActor, pNone = 0.08): (t: number) => string {
  const r = a.rng;
  if (r.chance(pNone)) return () => '-';
  const k = r.alnum(10);
  if (r.chance(0.06)) {
    const k2 = r.alnum(10);
    return () => (r.chance(0.5) ? k : k2);
  }
  return () => k;
}

export function manyKeys(a: SimActor, n: number): (t: number) => string {
  const r = a.rng;
  const keys = Array.from({ length: n }, () => r.alnum(10));
  const pick = w(keys.map((k, i) => [k, 1 / (i + 1)] as const));
  return () => pick.draw(r);
}

/** A home connection: sticky address, sometimes renumbered, sometimes away (phone, cafe). */
export function homeIp(world: World, a: SimActor): (t: number) => string {
  const r = a.rng;
  let home = world.net.residentialIp(r);
  const sess = new Sticky(45 * MINUTE, () => {
    if (r.chance(0.02)) home = world.net.renumber(r, home);
    return r.chance(0.1) ? world.net.residentialIp(r) : home;
  });
  return (t) => sess.get(t);
}

export function serverIps(world: World, a: SimActor, n: number): (t: number) => string {
  const r = a.rng;
  const ips = Array.from({ length: n }, () => world.net.cloudIp(r));
  return () => r.pick(ips);
}

export function tz(world: World, a: SimActor): number {
  return world.plan.tzPicker.draw(a.rng);
}

export function humanSpec(tzh: number, over: Partial<SessionSpec>): SessionSpec {
  return {
    tz: tzh,
    curve: CURVES.human,
    pActive: 0.4,
    pActiveWeekend: 0.4,
    sessionsMean: 1.4,
    reqMedian: 6,
    reqSigma: 0.9,
    gapMedianS: 40,
    gapSigma: 0.8,
    ...over,
  };
}

export function humanSchedule(a: SimActor, spec: SessionSpec): void {
  a.schedule = (day, _end, out) => sessions(a.rng, day, spec, out);
}

// ----------------------------------------------------------------------------------------------------------

export function hobbyist(world: World, type: OrganicType = 'hobbyist'): SimActor {
  const a = organic(world, type);
  const r = a.rng;
  createdAtFor(world, a, 0.08);
  dropCreatedAt(a);
  humanSchedule(
    a,
    humanSpec(tz(world, a), {
      curve: r.chance(0.5) ? CURVES.human : CURVES.evening,
      pActive: r.uniform(0.15, 0.6),
      pActiveWeekend: r.uniform(0.2, 0.7),
      sessionsMean: r.uniform(1, 2.2),
      reqMedian: r.uniform(3, 12),
    }),
  );
  a.classes = w<PromptClass>([
    ['chat', 50],
    ['coding', 20],
    ['other', 12],
    ['rewrite', 10],
    ['vision', 5],
    ['cot_elicitation', 3],
  ]);
  a.models = w(MODEL_MIX_DEFAULT);
  a.template = freeformTemplates(a, { pOwn: 0.15, own: [`own:${a.id}:sys`], pPublic: 0.1 });
  a.ip = homeIp(world, a);
  a.ua = oneSdkUa(a);
  a.key = oneKey(a, 0.1);
  a.rpm = 50;
  slowAdoption(world, a, 0.3, 2.5);
  return a;
}

export function chatApp(world: World): SimActor {
  const a = organic(world, 'chat_app');
  const r = a.rng;
  createdAtFor(world, a, 0.02);
  const perDay = r.uniform(150, 900);
  const rate = diurnalRate(perDay, tz(world, a), CURVES.app);
  a.schedule = (day, end, out) => poissonHourly(r, day, end, (h) => rate(h) * (isWeekend(h, 0) ? 0.85 : 1), out);
  a.classes = w<PromptClass>([
    ['chat', 85],
    ['other', 7],
    ['rewrite', 5],
    ['vision', 3],
  ]);
  const main = r.chance(0.55) ? MODELS.haiku : MODELS.sonnet;
  a.models = w([
    [main, 88],
    [main === MODELS.haiku ? MODELS.sonnet : MODELS.haiku, 12],
  ]);
  const own = Array.from({ length: r.int(1, 3) }, (_, i) => `app:${a.id}:system-${i}`);
  a.template = freeformTemplates(a, { pOwn: 0.9, own, pPublic: 0 });
  a.ip = serverIps(world, a, r.int(1, 3));
  const brand = `${r.pick(['Lumen', 'Chatly', 'Parrot', 'Tutorly', 'Quill', 'Mira', 'Kiwi', 'Nova'])}${r.pick(['App', 'AI', 'Bot', 'Chat'])}`;
  const ua = r.chance(0.5) ? `${brand}-server/${r.int(1, 4)}.${r.int(0, 20)}.${r.int(0, 9)}` : SDK_UA_PICKER.draw(r);
  a.ua = () => ua;
  a.key = manyKeys(a, r.int(1, 2));
  a.rpm = 400;
  a.p429 = 0.004;
  slowAdoption(world, a, 0.3, 3);
  return a;
}

export function codingAssistant(world: World, type: OrganicType = 'coding_assistant'): SimActor {
  const a = organic(world, type);
  const r = a.rng;
  createdAtFor(world, a, 0.05);
  dropCreatedAt(a);
  humanSchedule(
    a,
    humanSpec(tz(world, a), {
      curve: r.chance(0.7) ? CURVES.office : CURVES.human,
      pActive: r.uniform(0.35, 0.85),
      pActiveWeekend: r.uniform(0.05, 0.35),
      sessionsMean: r.uniform(1.3, 3),
      reqMedian: r.uniform(10, 35),
      reqSigma: 0.8,
      gapMedianS: r.uniform(6, 20),
      gapSigma: 0.9,
    }),
  );
  a.classes = w<PromptClass>([
    ['coding', 55],
    ['agentic', 35],
    ['chat', 7],
    ['vision', 3],
  ]);
  a.models = w([
    [MODELS.sonnet, 70],
    [MODELS.opus, 27],
    [MODELS.haiku, 3],
  ]);
  const tool = world.plan.idePicker.draw(r);
  const conv = new Sticky(15 * MINUTE, () => `t-${r.hex(12)}`);
  const tpls = tool.templates;
  a.template = (_c, t) => (r.next() < tool.pTemplate ? tpls[tpls.length === 1 ? 0 : r.int(0, tpls.length - 1)] : conv.get(t));
  a.ip = homeIp(world, a);
  const toolUa = tool.ua ?? SDK_UA_PICKER.draw(r);
  a.ua = () => toolUa;
  a.key = oneKey(a, 0.03);
  a.rpm = 50;
  a.inScale = r.uniform(0.7, 1.6);
  slowAdoption(world, a, 0.5, 1.5);
  toolAdoption(a, tool);
  return a;
}

export function office(world: World, type: OrganicType = 'office', company?: Company): SimActor {
  const a = organic(world, type);
  const r = a.rng;
  if (company && r.chance(0.6)) {
    a.createdAt = company.onboardedAt + r.uniform(0, 6) * HOUR;
  } else {
    createdAtFor(world, a, 0.03);
  }
  dropCreatedAt(a);
  humanSchedule(
    a,
    humanSpec(company?.tz ?? tz(world, a), {
      curve: CURVES.office,
      pActive: r.uniform(0.5, 0.95),
      pActiveWeekend: 0.04,
      sessionsMean: r.uniform(1.5, 4),
      reqMedian: r.uniform(2, 7),
      gapMedianS: 60,
    }),
  );
  a.classes = w<PromptClass>([
    ['chat', 45],
    ['rewrite', 25],
    ['other', 20],
    ['coding', 7],
    ['vision', 3],
  ]);
  a.models = w([
    [MODELS.sonnet, 60],
    [MODELS.haiku, 30],
    [MODELS.opus, 10],
  ]);
  if (company) {
    a.template = freeformTemplates(a, { pOwn: 0.25, own: [company.template], pPublic: 0.05 });
    a.ip = () => r.pick(company.ips);
    a.ua = r.chance(0.5) ? () => company.ua : oneSdkUa(a);
  } else {
    a.template = freeformTemplates(a, { pPublic: 0.2 });
    const ip = world.net.residentialIp(r);
    a.ip = () => ip;
    a.ua = r.chance(0.4)
      ? (
          (b) => () =>
            b
        )(r.pick(BROWSER_UAS))
      : oneSdkUa(a);
  }
  a.key = oneKey(a, 0.05);
  a.rpm = 40;
  slowAdoption(world, a, 0.2, 3);
  return a;
}

export interface Company {
  tz: number;
  ips: string[];
  template: string;
  ua: string;
  onboardedAt: number;
}

/** Employees of one company with separate accounts behind the company's NAT. */
export function corporateCohort(world: World, size: number): SimActor[] {
  const r = world.rng.fork(`corp-${world.rng.hex(6)}`);
  const name = `${r.pick(['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'tyrell'])}-${r.hex(4)}`;
  const company: Company = {
    tz: world.plan.tzPicker.draw(r),
    ips: world.net.natIps(r, r.int(1, 3), 'corporate'),
    template: `corp:${name}:assistant`,
    ua: `${name}-assistant/${r.int(1, 3)}.${r.int(0, 9)}`,
    onboardedAt: world.start - r.uniform(20, 400) * DAY,
  };
  return Array.from({ length: size }, () => office(world, 'corporate_nat', company));
}

/** Students of one campus behind a handful of NAT addresses, plus one lab session with a course template. */
export function campusCohort(world: World, size: number): SimActor[] {
  const r = world.rng.fork(`campus-${world.rng.hex(6)}`);
  const ips = world.net.natIps(r, r.int(2, 6), 'campus');
  const ctz = world.plan.tzPicker.draw(r);
  const semesterStart = world.start - r.uniform(40, 90) * DAY;
  const courseTpl = templateId(`course:${r.hex(6)}:lab-starter`);
  // the lab: one weekday afternoon, local 14:00-16:00
  let labDay = world.start + r.int(0, Math.max(0, world.days - 1)) * DAY;
  for (let i = 0; i < 7 && isWeekend(labDay + 12 * HOUR, ctz); i++) labDay += DAY;
  const labStart = labDay + ((((14 - ctz) % 24) + 24) % 24) * HOUR;
  const out: SimActor[] = [];
  for (let i = 0; i < size; i++) {
    const a = organic(world, 'campus_nat');
    const ar = a.rng;
    a.createdAt = ar.chance(0.6) ? semesterStart + ar.uniform(0, 3) * DAY : world.start - ar.uniform(1, 500) * DAY;
    dropCreatedAt(a);
    const spec = humanSpec(ctz, {
      curve: CURVES.student,
      pActive: ar.uniform(0.2, 0.6),
      pActiveWeekend: ar.uniform(0.15, 0.5),
      sessionsMean: ar.uniform(1, 2),
      reqMedian: ar.uniform(4, 12),
      gapMedianS: 45,
    });
    const inLab = ar.chance(0.65);
    a.schedule = (day, end, o) => {
      sessions(ar, day, spec, o);
      if (inLab && labStart >= day && labStart < end) session(ar, labStart + ar.uniform(0, 25) * MINUTE, ar.int(8, 30), 35, 0.7, o);
    };
    a.classes = w<PromptClass>([
      ['chat', 40],
      ['coding', 30],
      ['rewrite', 12],
      ['other', 10],
      ['cot_elicitation', 4],
      ['vision', 4],
    ]);
    a.models = w(MODEL_MIX_DEFAULT);
    const free = freeformTemplates(a, { pPublic: 0.05 });
    a.template = (c, t) => (t >= labStart && t < labStart + 3 * HOUR && ar.chance(0.7) ? courseTpl : free(c, t));
    a.ip = () => ar.pick(ips);
    a.ua = oneSdkUa(a);
    a.key = oneKey(a, 0.1);
    a.rpm = 40;
    slowAdoption(world, a, 0.25, 3);
    out.push(a);
  }
  return out;
}

/** A privacy-minded customer behind a commercial VPN / proxy: shares those addresses with everyone else on it. */
export function vpnUser(world: World): SimActor {
  const a = hobbyist(world, 'vpn_user');
  const r = a.rng;
  const x = r.next();
  const net = world.net;
  const pool = x < 0.5 ? net.dcProxies[0].ips : x < 0.7 ? net.dcProxies[1].ips : x < 0.8 ? net.dcProxies[2].ips : net.residentialProxy;
  const s = new Sticky(30 * MINUTE, () => r.pick(pool), 0.02, r);
  a.ip = (t) => s.get(t);
  return a;
}

/**
 * A developer who switches to the new model within hours of its release, and tries it out right away. The
 * `launchPartner` has access at the release itself: its first request is the model's first appearance.
 */
export function earlyAdopter(world: World, launchPartner = false): SimActor {
  const a = organic(world, 'early_adopter');
  const r = a.rng;
  createdAtFor(world, a, 0.03);
  dropCreatedAt(a);
  const spec = humanSpec(tz(world, a), {
    curve: r.chance(0.5) ? CURVES.human : CURVES.office,
    pActive: r.uniform(0.5, 0.9),
    pActiveWeekend: r.uniform(0.3, 0.7),
    sessionsMean: r.uniform(1.5, 3),
    reqMedian: r.uniform(6, 20),
    gapMedianS: 20,
  });
  a.adoptAt = world.releaseAt + r.uniform(0.2, 8) * HOUR;
  a.adoptShare = r.uniform(0.6, 1);
  a.adoptRamp = r.uniform(0.2, 2) * HOUR;
  if (launchPartner) {
    a.adoptAt = world.releaseAt - 1;
    a.adoptShare = 1;
    a.adoptRamp = 1;
    a.createdAt = world.start - r.uniform(30, 400) * DAY;
    a.activeFrom = -Infinity;
  }
  const tryOut = launchPartner ? world.releaseAt : a.adoptAt;
  a.schedule = (day, end, out) => {
    sessions(r, day, spec, out);
    if (tryOut >= day && tryOut < end) session(r, tryOut, r.int(15, 60), 25, 0.8, out);
  };
  a.classes = w<PromptClass>([
    ['chat', 30],
    ['coding', 30],
    ['agentic', 15],
    ['cot_elicitation', 10],
    ['vision', 8],
    ['rewrite', 4],
    ['other', 3],
  ]);
  a.models = w([
    [MODELS.opus, 45],
    [MODELS.sonnet, 50],
    [MODELS.haiku, 5],
  ]);
  a.template = freeformTemplates(a, { pOwn: 0.1, own: [`own:${a.id}:sys`], pPublic: 0.1 });
  a.ip = homeIp(world, a);
  const tool = world.plan.idePicker.draw(r).ua;
  const ua = tool && r.chance(0.4) ? tool : SDK_UA_PICKER.draw(r);
  a.ua = () => ua;
  a.key = oneKey(a, 0.03);
  a.rpm = 60;
  return a;
}

/** A nightly or 24/7 batch job: one template, one model, machine-regular timing, thousands of requests a day. */
export function enterpriseBatch(world: World): SimActor {
  const a = organic(world, 'enterprise_batch');
  const r = a.rng;
  a.createdAt = world.start - r.uniform(60, 900) * DAY;
  const perDay = r.uniform(2400, 5000);
  const nightly = r.chance(0.4);
  const weekdaysOnly = nightly && r.chance(0.5);
  const windowStartH = r.int(0, 4);
  const windowLen = nightly ? r.uniform(6, 10) * HOUR : DAY;
  const period = windowLen / perDay;
  const phase = r.uniform(0, period);
  a.schedule = (day, _end, out) => {
    if (weekdaysOnly && isWeekend(day + 12 * HOUR, 0)) return;
    const s = nightly ? day + windowStartH * HOUR : day;
    // machine-regular: a fixed period with millisecond jitter and rare stalls
    for (let t = s + phase; t < s + windowLen; t += period) {
      if (r.next() < 0.001) t += r.uniform(1, 10) * MINUTE;
      out.push(t + r.normal(0, period * 0.01));
    }
  };
  const cls = w<PromptClass>([
    ['rewrite', 40],
    ['other', 40],
    ['chat', 20],
  ]).draw(r);
  a.classes = w<PromptClass>([[cls, 1]]);
  a.tokenSigma = 0.2;
  a.inScale = r.uniform(0.5, 4);
  a.outScale = r.uniform(0.3, 1.5);
  a.models = w([[r.chance(0.6) ? MODELS.haiku : MODELS.sonnet, 1]]);
  const tpl = templateId(`batch:${a.id}:${r.hex(6)}`);
  a.template = () => tpl;
  a.ip = serverIps(world, a, r.int(1, 2));
  const ua = r.pick(['Go-http-client/2.0', 'Java-http-client/17.0.12', 'Anthropic/Python 0.49.0', 'python-requests/2.32.3', 'Apache-HttpClient/5.3']);
  a.ua = () => ua;
  a.key = oneKey(a, 0);
  a.rpm = 1000;
  a.p429 = 0.003;
  a.p4xx = 0.002;
  return a;
}

/** A model-evaluation harness: light dev traffic, plus runs of thousands of CoT benchmark prompts in a day. */
export function evalHarness(world: World, runOnRelease: boolean): SimActor {
  const a = organic(world, 'eval_harness');
  const r = a.rng;
  a.createdAt = world.start - r.uniform(30, 600) * DAY;
  dropCreatedAt(a);
  const dev = humanSpec(tz(world, a), { curve: CURVES.office, pActive: 0.6, pActiveWeekend: 0.1, sessionsMean: 2, reqMedian: 10, gapMedianS: 15 });
  interface Run {
    start: number;
    end: number;
    n: number;
    model: string;
    tpls: string[];
  }
  const runs: Run[] = [];
  const nRuns = r.chance(0.3) ? 2 : 1;
  for (let i = 0; i < nRuns; i++) {
    const dur = r.uniform(3, 9) * HOUR;
    let start =
      runOnRelease && i === 0
        ? world.releaseAt + r.uniform(1.5, 5) * HOUR
        : world.start + r.uniform(0.1 * DAY, Math.max(0.1 * DAY, world.end - world.start - dur - HOUR));
    if (start + dur > world.end) start = Math.max(world.start, world.end - dur - HOUR);
    const code = r.chance(0.3);
    const tpls = (code ? r.sample(EVAL_CODE_TEMPLATES, 2) : r.sample(EVAL_TEMPLATES, r.int(2, 4))).map(templateId);
    const model = runOnRelease && i === 0 ? world.newModel : r.pick([MODELS.opus, MODELS.sonnet, MODELS.haiku]);
    runs.push({ start, end: start + dur, n: r.int(2500, 6000), model, tpls });
  }
  const inRun = (t: number): Run | undefined => runs.find((x) => t >= x.start && t < x.end);
  a.schedule = (day, end, out) => {
    sessions(r, day, dev, out);
    for (const run of runs) {
      const rate = (run.n / (run.end - run.start)) * HOUR;
      poissonHourly(r, Math.max(day, run.start), Math.min(end, run.end), () => rate, out);
    }
  };
  const devClasses = w<PromptClass>([
    ['cot_elicitation', 50],
    ['coding', 30],
    ['chat', 20],
  ]);
  const runClasses = w<PromptClass>([['cot_elicitation', 1]]);
  const codeClasses = w<PromptClass>([['coding', 1]]);
  a.classes = devClasses;
  a.models = w([
    [MODELS.opus, 50],
    [MODELS.sonnet, 50],
  ]);
  a.modelAt = (t) => inRun(t)?.model;
  const free = freeformTemplates(a, { pPublic: 0 });
  a.template = (c, t) => {
    const run = inRun(t);
    return run ? r.pick(run.tpls) : free(c, t);
  };
  // the class of a run request follows its benchmark
  const baseRequest = a.request.bind(a);
  a.request = (t) => {
    const run = inRun(t);
    a.classes = run ? (run.tpls.some((x) => EVAL_CODE_TEMPLATES.map(templateId).includes(x)) ? codeClasses : runClasses) : devClasses;
    return baseRequest(t);
  };
  a.ip = serverIps(world, a, r.int(1, 2));
  const ua = r.pick(EVAL_UAS);
  a.ua = () => ua;
  a.key = manyKeys(a, r.int(1, 2));
  a.rpm = 2000;
  a.p429 = 0.01;
  return a;
}

/** A platform that resells API access: very high volume, many keys, every kind of prompt, fast partial adoption. */
export function reseller(world: World): SimActor {
  const a = organic(world, 'reseller');
  const r = a.rng;
  a.createdAt = world.start - r.uniform(100, 700) * DAY;
  const perDay = r.uniform(2500, 7000);
  const rate = diurnalRate(
    perDay,
    r.pick([-5, 0, 1, 8]),
    CURVES.app.map((v) => 0.5 + 0.5 * v),
  );
  a.schedule = (day, end, out) => poissonHourly(r, day, end, rate, out);
  a.classes = w<PromptClass>([
    ['chat', 40],
    ['coding', 20],
    ['agentic', 10],
    ['other', 10],
    ['rewrite', 8],
    ['cot_elicitation', 7],
    ['vision', 5],
  ]);
  a.models = w([
    [MODELS.sonnet, 45],
    [MODELS.haiku, 30],
    [MODELS.opus, 20],
    [MODELS.legacy, 5],
  ]);
  a.adoptAt = world.releaseAt + r.uniform(0.5, 3) * HOUR;
  a.adoptShare = r.uniform(0.3, 0.5);
  a.adoptRamp = 24 * HOUR;
  const publics = [...PUBLIC_CHAT_TEMPLATES, ...EVAL_TEMPLATES, 'public:claude-code-system', 'public:cline-system'];
  const own = Array.from({ length: 5 }, (_, i) => `reseller:${a.id}:${i}`);
  a.template = freeformTemplates(a, { pOwn: 0.15, own, pPublic: 0.25, publics, conversationGapMs: 2 * MINUTE });
  a.ip = serverIps(world, a, r.int(4, 12));
  const brand = `${r.pick(['openroute', 'modelhub', 'llmgate', 'apimart'])}-${r.hex(3)}`;
  const uas = [`${brand}/1.${r.int(0, 9)}`, ...SDK_UAS.slice(0, 6).map(([u]) => u)];
  a.ua = () => (r.chance(0.75) ? uas[0] : r.pick(uas));
  a.key = manyKeys(a, r.int(10, 40));
  a.rpm = 5000;
  a.p429 = 0.01;
  return a;
}

/** Participants of a one-day hackathon: sign up that morning, one venue network, a sponsor's starter template. */
export function hackathonCohort(world: World, size: number): SimActor[] {
  const r = world.rng.fork(`hack-${world.rng.hex(6)}`);
  const htz = world.plan.tzPicker.draw(r);
  const ips = world.net.natIps(r, r.int(2, 4), 'venue');
  let day = world.start + r.int(1, Math.max(1, world.days - 2)) * DAY;
  if (day >= world.end) day = world.start;
  const eventStart = day + ((((9 - htz) % 24) + 24) % 24) * HOUR;
  const eventEnd = eventStart + 12 * HOUR;
  const starter = templateId(`hack:${r.hex(6)}:starter`);
  const out: SimActor[] = [];
  for (let i = 0; i < size; i++) {
    const a = organic(world, 'hackathon');
    const ar = a.rng;
    if (ar.chance(0.7)) {
      a.createdAt = eventStart - ar.uniform(0, 3) * HOUR;
      a.activeFrom = eventStart;
    } else createdAtFor(world, a, 0);
    const after = humanSpec(htz, { pActive: 0.2, pActiveWeekend: 0.2, sessionsMean: 1, reqMedian: 5 });
    const home = homeIp(world, a);
    a.schedule = (d, end, o) => {
      if (d >= eventEnd) sessions(ar, d, after, o);
      if (eventStart < end && eventEnd > d) {
        const nS = ar.int(2, 6);
        for (let s = 0; s < nS; s++) session(ar, eventStart + ar.uniform(0, 11) * HOUR, ar.int(5, 40), 15, 0.9, o);
      }
    };
    a.classes = w<PromptClass>([
      ['coding', 35],
      ['agentic', 25],
      ['chat', 25],
      ['vision', 15],
    ]);
    a.models = w(MODEL_MIX_DEFAULT);
    const free = freeformTemplates(a, {});
    a.template = (c, t) => (ar.chance(0.45) ? starter : free(c, t));
    a.ip = (t) => (t >= eventStart && t < eventEnd + HOUR ? ar.pick(ips) : home(t));
    a.ua = oneSdkUa(a);
    a.key = oneKey(a, 0.05);
    a.rpm = 50;
    slowAdoption(world, a, 0.3, 2);
    out.push(a);
  }
  return out;
}
