/**
 * Legitimate coordination: organic customers that share infrastructure, templates, schedules, sign-up days or a
 * new-model switch with other accounts, for ordinary reasons. Company teams, classrooms, bootcamp cohorts, tool
 * users, evaluation companies, platform tenants, carrier-grade NAT subscribers and roaming users. Each factory
 * records the parameters it drew in `world.plan.params.groups` (written to meta.json). docs/simulator.md says why
 * each is realistic.
 */
import type { PromptClass } from '../src/shared/contract';
import {
  BROWSER_UAS,
  CURVES,
  DAY,
  EVAL_TEMPLATES,
  EVAL_UAS,
  HOUR,
  MINUTE,
  MOBILE_UAS,
  MODELS,
  SDK_UA_PICKER,
  isWeekend,
  templateId,
} from './catalog';
import { SimActor, Sticky, World, diurnalRate, poissonHourly, session, sessions } from './actor';
import {
  MODEL_MIX_DEFAULT,
  createdAtFor,
  dropCreatedAt,
  freeformTemplates,
  homeIp,
  humanSchedule,
  humanSpec,
  manyKeys,
  oneKey,
  oneSdkUa,
  organic,
  slowAdoption,
  toolAdoption,
  tz,
  w,
  type W,
} from './organic';
import { Rng, Weighted } from './rng';

const localHourToUtc = (h: number, tzh: number): number => ((((h - tzh) % 24) + 24) % 24) * HOUR;
const logUniform = (r: Rng, lo: number, hi: number): number => Math.exp(r.uniform(Math.log(lo), Math.log(hi)));
const zipfPicker = <T>(items: T[], s = 1): Weighted<T> => new Weighted(items.map((x, i) => [x, 1 / Math.pow(i + 1, s)] as const));
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Curves for shift work (support teams that cover the clock in three shifts). */
const SHIFT_CURVES: ReadonlyArray<readonly number[]> = [0, 8, 16].map((s) =>
  Array.from({ length: 24 }, (_, h) => ((h - s + 24) % 24 < 8 ? 1 : 0.01)),
);

// ----------------------------------------------------------------------------------------------------------
// Tool users: the long tail of third-party tools and agent frameworks
// ----------------------------------------------------------------------------------------------------------

export function toolUser(world: World): SimActor {
  const a = organic(world, 'tool_user');
  const r = a.rng;
  createdAtFor(world, a, 0.06);
  dropCreatedAt(a);
  const tool = world.plan.toolPicker.draw(r);
  const agentish = tool.kind === 'agent' || tool.kind === 'notebook';
  humanSchedule(
    a,
    humanSpec(tz(world, a), {
      curve: tool.kind === 'writing' || tool.kind === 'extension' ? CURVES.office : r.chance(0.5) ? CURVES.human : CURVES.evening,
      pActive: r.uniform(0.2, 0.8),
      pActiveWeekend: r.uniform(0.1, 0.6),
      sessionsMean: r.uniform(1, 2.5),
      reqMedian: agentish ? r.uniform(8, 30) : r.uniform(3, 12),
      gapMedianS: agentish ? r.uniform(5, 15) : r.uniform(20, 60),
    }),
  );
  a.classes = tool.classes;
  a.models = w(MODEL_MIX_DEFAULT);
  const conv = new Sticky(10 * MINUTE, () => `t-${r.hex(12)}`);
  const tpls = tool.templates;
  a.template = (_c, t) => (r.next() < tool.pTemplate ? tpls[r.int(0, tpls.length - 1)] : conv.get(t));
  if (agentish && r.chance(0.3)) {
    const ip = world.net.cloudIp(r);
    a.ip = () => ip;
  } else a.ip = homeIp(world, a);
  const ua = tool.ua ?? SDK_UA_PICKER.draw(r);
  a.ua = () => ua;
  a.key = oneKey(a, 0.05);
  a.rpm = 60;
  if (tool.kind === 'tutor') a.outScale = r.uniform(1.1, 1.6);
  slowAdoption(world, a, 0.3, 2.5);
  toolAdoption(a, tool);
  return a;
}

// ----------------------------------------------------------------------------------------------------------
// Company teams: members and seat accounts behind the company's egress, an internal prompt library, nightly jobs
// ----------------------------------------------------------------------------------------------------------

const DEPARTMENTS: Record<string, ReadonlyArray<readonly [PromptClass, number]>> = {
  engineering: [
    ['coding', 45],
    ['agentic', 25],
    ['chat', 15],
    ['other', 5],
    ['cot_elicitation', 5],
    ['vision', 5],
  ],
  support: [
    ['chat', 45],
    ['rewrite', 35],
    ['other', 15],
    ['vision', 5],
  ],
  research: [
    ['chat', 30],
    ['cot_elicitation', 20],
    ['coding', 20],
    ['other', 15],
    ['rewrite', 10],
    ['vision', 5],
  ],
  marketing: [
    ['rewrite', 50],
    ['chat', 30],
    ['other', 10],
    ['vision', 10],
  ],
  legal: [
    ['rewrite', 40],
    ['chat', 30],
    ['other', 20],
    ['cot_elicitation', 10],
  ],
};

const COMPANY_NAMES = [
  'acme',
  'globex',
  'initech',
  'umbrella',
  'hooli',
  'stark',
  'wayne',
  'tyrell',
  'soylent',
  'vandelay',
  'wonka',
  'cyberdyne',
  'massive',
  'pied',
  'aperture',
  'dunder',
];

export function companyTeam(world: World, size: number): SimActor[] {
  const r = world.rng.fork(`team-${world.rng.hex(6)}`);
  const net = world.net;
  const name = `${r.pick(COMPANY_NAMES)}-${r.hex(4)}`;
  const ttz = world.plan.tzPicker.draw(r);
  const dept = r.pick(Object.keys(DEPARTMENTS));
  const egress = new Weighted<string>([
    ['nat', 30],
    ['few', 25],
    ['subnet', 15],
    ['offices', 15],
    ['vpn', 15],
  ]).draw(r);
  // egress addresses: one NAT, a few NAT addresses, a static /24 (one address per desk), several offices, or a cloud VPN
  const offices: Array<{ tz: number; ips: string[] }> = [];
  if (egress === 'nat') offices.push({ tz: ttz, ips: net.natIps(r, 1, 'corporate') });
  else if (egress === 'few') offices.push({ tz: ttz, ips: net.natIps(r, r.int(2, 4), 'corporate') });
  else if (egress === 'subnet') offices.push({ tz: ttz, ips: net.natIps(r, Math.min(240, Math.max(4, size + r.int(0, size))), 'corporate') });
  else if (egress === 'offices') {
    const k = r.int(2, 4);
    for (let i = 0; i < k; i++)
      offices.push({ tz: i === 0 ? ttz : ttz + r.pick([0, 0, 1, -1, 5, -6, 8]), ips: net.natIps(r, r.int(1, 2), 'corporate') });
  } else offices.push({ tz: ttz, ips: Array.from({ length: r.int(1, 3) }, () => net.cloudIp(r)) });
  const nLib = r.int(3, 60);
  const lib = Array.from({ length: nLib }, (_, i) => templateId(`team:${name}:lib-${i}`));
  const libPick = zipfPicker(lib, r.uniform(0.6, 1.2));
  const libShare = r.uniform(0.1, 0.8);
  const schedule = dept === 'support' && r.chance(0.4) ? 'shifts' : r.chance(0.7) ? 'office' : 'flex';
  const nightly = r.chance(0.45) ? r.int(1, 2) : 0;
  const seats = r.chance(0.4);
  const duringRun = r.chance(0.12);
  const onboardedAt = duringRun
    ? world.start + r.int(0, Math.max(0, world.days - 2)) * DAY + localHourToUtc(r.int(9, 11), ttz)
    : world.start - r.uniform(20, 700) * DAY;
  const switchAt = r.chance(0.6) ? world.releaseAt + logUniform(r, 2, 96) * HOUR : null;
  const switchShare = r.uniform(0.4, 0.95);
  const internalUa = `${name}-assistant/${r.int(1, 3)}.${r.int(0, 9)}`;
  const classes = new Weighted(DEPARTMENTS[dept]);
  const members = size - Math.min(nightly, size - 1);
  const out: SimActor[] = [];

  for (let i = 0; i < members; i++) {
    const a = world.newActor({ kind: 'organic', type: 'company_team', accountType: seats ? 'seat' : 'member' });
    const ar = a.rng;
    a.createdAt = seats
      ? onboardedAt + ar.uniform(0, 10) * MINUTE
      : ar.chance(0.6)
        ? onboardedAt + ar.uniform(0, 6) * HOUR
        : onboardedAt + ar.uniform(1, 300) * DAY;
    if (a.createdAt > world.end - HOUR) a.createdAt = onboardedAt + ar.uniform(0, 6) * HOUR;
    if (a.createdAt > world.start) a.activeFrom = a.createdAt + ar.uniform(2, 90) * MINUTE;
    dropCreatedAt(a);
    const office = offices[i % offices.length];
    const curve = schedule === 'shifts' ? SHIFT_CURVES[i % 3] : schedule === 'office' ? CURVES.office : CURVES.human;
    humanSchedule(
      a,
      humanSpec(office.tz, {
        curve,
        pActive: ar.uniform(0.5, 0.95),
        pActiveWeekend: schedule === 'shifts' ? 0.5 : ar.uniform(0.02, 0.15),
        sessionsMean: ar.uniform(1.5, 4),
        reqMedian: dept === 'engineering' ? ar.uniform(6, 20) : ar.uniform(2, 8),
        gapMedianS: dept === 'engineering' ? 20 : 50,
      }),
    );
    a.classes = classes;
    a.models = w([
      [MODELS.sonnet, 60],
      [MODELS.haiku, 25],
      [MODELS.opus, 15],
    ]);
    let lastLib = false;
    const conv = new Sticky(10 * MINUTE, () => `t-${ar.hex(12)}`);
    a.template = (_c, t) => {
      lastLib = ar.next() < libShare;
      return lastLib ? libPick.draw(ar) : conv.get(t);
    };
    const desk = egress === 'subnet' ? office.ips[i % office.ips.length] : '';
    const home = egress === 'vpn' ? homeIp(world, a) : null;
    a.ip = (t) => (desk ? desk : home && ar.chance(0.4) ? home(t) : office.ips.length === 1 ? office.ips[0] : ar.pick(office.ips));
    const own = ar.chance(0.5) ? BROWSER_UAS[ar.int(0, BROWSER_UAS.length - 1)] : SDK_UA_PICKER.draw(ar);
    a.ua = () => (lastLib ? internalUa : own);
    a.key = oneKey(a, 0.05);
    a.rpm = 50;
    slowAdoption(world, a, 0.2, 3);
    // the team switches its internal tool to the new model: its library traffic moves at once
    if (switchAt !== null && switchAt < a.adoptAt) {
      a.adoptAt = switchAt + ar.uniform(0, 30) * MINUTE;
      a.adoptShare = switchShare * libShare + (1 - libShare) * 0.2;
      a.adoptRamp = ar.uniform(0.2, 2) * HOUR;
    }
    out.push(a);
  }

  // nightly jobs: service accounts that run the company's cron (summaries, PR reviews, ticket triage)
  for (let j = 0; j < size - members; j++) {
    const a = world.newActor({ kind: 'organic', type: 'company_team', accountType: 'service' });
    const ar = a.rng;
    a.createdAt = Math.min(onboardedAt + ar.uniform(1, 30) * DAY, world.start - ar.uniform(1, 10) * DAY);
    const hour = ar.int(0, 4);
    const n = ar.int(50, 1500);
    const gap = ar.uniform(0.5, 4);
    const weekdays = ar.chance(0.6);
    a.schedule = (day, _end, o) => {
      if (weekdays && isWeekend(day + 12 * HOUR, ttz)) return;
      session(ar, day + localHourToUtc(hour, ttz) + ar.uniform(0, 3) * MINUTE, Math.round(n * ar.uniform(0.7, 1.3)), gap, 0.4, o);
    };
    a.classes = w<PromptClass>([[ar.pick<PromptClass>(['rewrite', 'other', 'coding', 'chat']), 1]]);
    const jobTpls = ar.sample(lib, ar.int(1, 3));
    a.template = () => ar.pick(jobTpls);
    a.models = w([[ar.chance(0.6) ? MODELS.haiku : MODELS.sonnet, 1]]);
    a.tokenSigma = 0.5;
    const ips = ar.chance(0.5) ? offices[0].ips : [world.net.cloudIp(ar)];
    a.ip = () => ar.pick(ips);
    const ua = ar.chance(0.5) ? `${name}-cron/1.${ar.int(0, 9)}` : SDK_UA_PICKER.draw(ar);
    a.ua = () => ua;
    a.key = oneKey(a, 0);
    a.rpm = 600;
    if (switchAt !== null && ar.chance(0.3)) {
      a.adoptAt = switchAt + ar.uniform(1, 48) * HOUR;
      a.adoptShare = 1;
      a.adoptRamp = 1;
    }
    out.push(a);
  }
  world.plan.params.groups.teams.push({
    size,
    egress,
    library: nLib,
    libraryShare: Math.round(libShare * 100) / 100,
    schedule,
    nightlyJobs: size - members,
    seats,
    switchAfterH: switchAt === null ? null : round1((switchAt - world.releaseAt) / HOUR),
  });
  return out;
}

// ----------------------------------------------------------------------------------------------------------
// Classrooms: accounts created the same day, assignment prompts, class hours, homework the evening before it is due
// ----------------------------------------------------------------------------------------------------------

const SUBJECTS: Record<string, ReadonlyArray<readonly [PromptClass, number]>> = {
  cs: [
    ['coding', 55],
    ['chat', 25],
    ['agentic', 10],
    ['cot_elicitation', 10],
  ],
  writing: [
    ['rewrite', 50],
    ['chat', 40],
    ['other', 10],
  ],
  // worked solutions, step by step: a classroom of CoT prompts
  math: [
    ['cot_elicitation', 45],
    ['chat', 40],
    ['other', 15],
  ],
  data: [
    ['coding', 40],
    ['cot_elicitation', 25],
    ['chat', 25],
    ['vision', 10],
  ],
};
const PERSONAL = w<PromptClass>([
  ['chat', 55],
  ['coding', 15],
  ['rewrite', 15],
  ['other', 10],
  ['vision', 5],
]);

export function classroom(world: World, size: number): SimActor[] {
  const r = world.rng.fork(`class-${world.rng.hex(6)}`);
  const ctz = world.plan.tzPicker.draw(r);
  const subject = r.pick(Object.keys(SUBJECTS));
  const duringRun = r.chance(0.15);
  const classDay = duringRun ? world.start + r.int(0, Math.max(0, world.days - 2)) * DAY : world.start - r.int(10, 100) * DAY;
  const firstLecture = classDay + localHourToUtc(r.int(8, 14), ctz);
  const meetingsPerWeek = r.int(1, 3);
  const weekdays = r.sample([1, 2, 3, 4, 5], meetingsPerWeek);
  const hour = r.int(8, 16);
  const dur = r.uniform(1, 2) * HOUR;
  const nAssign = r.int(2, 12);
  const assignments = Array.from({ length: nAssign }, (_, i) => templateId(`class:${r.hex(6)}:assignment-${i}`));
  const dueDow = r.int(1, 5);
  const ips = world.net.natIps(r, r.int(2, 8), 'campus');
  const subj = new Weighted(SUBJECTS[subject]);
  // meetings and homework evenings in the run
  const meetings: Array<[number, number]> = [];
  const homework: Array<[number, number]> = [];
  for (let d = world.start - DAY; d < world.end + DAY; d += DAY) {
    const dow = new Date(d + 12 * HOUR).getUTCDay();
    const m = d + localHourToUtc(hour, ctz);
    if (weekdays.includes(dow) && m >= firstLecture - HOUR) meetings.push([m, m + dur]);
    if ((dow + 1) % 7 === dueDow) {
      const h = d + localHourToUtc(19, ctz);
      homework.push([h, h + 5 * HOUR]);
    }
  }
  const assignmentAt = (t: number): string => assignments[Math.max(0, Math.floor((t - classDay) / (7 * DAY))) % nAssign];
  const within = (xs: Array<[number, number]>, t: number): boolean => xs.some(([s, e]) => t >= s && t < e);
  const out: SimActor[] = [];
  for (let i = 0; i < size; i++) {
    const a = organic(world, 'classroom');
    const ar = a.rng;
    a.createdAt = firstLecture + ar.uniform(0, 90) * MINUTE;
    if (a.createdAt > world.start) a.activeFrom = a.createdAt;
    dropCreatedAt(a);
    const personal = humanSpec(ctz, {
      curve: CURVES.student,
      pActive: ar.uniform(0.1, 0.4),
      pActiveWeekend: ar.uniform(0.1, 0.4),
      sessionsMean: 1.2,
      reqMedian: ar.uniform(3, 8),
    });
    const attend = ar.uniform(0.7, 0.95);
    const doesHomework = ar.chance(0.55);
    a.schedule = (day, end, o) => {
      sessions(ar, day, personal, o);
      for (const [s] of meetings)
        if (s >= day && s < end && ar.chance(attend)) session(ar, s + ar.uniform(0, 20) * MINUTE, ar.int(4, 20), ar.uniform(40, 120), 0.6, o);
      if (doesHomework)
        for (const [s, e] of homework) if (s >= day && s < end) session(ar, s + ar.uniform(0, (e - s) * 0.8), ar.int(5, 20), 45, 0.8, o);
    };
    const free = freeformTemplates(a, { pPublic: 0.05 });
    const home = homeIp(world, a);
    const base = a.request.bind(a);
    let inClass = false;
    let inHomework = false;
    a.request = (t) => {
      inClass = within(meetings, t);
      inHomework = !inClass && within(homework, t);
      a.classes = inClass || inHomework ? subj : PERSONAL;
      return base(t);
    };
    a.template = (c, t) => ((inClass || inHomework) && ar.chance(0.75) ? assignmentAt(t) : free(c, t));
    a.ip = (t) => (inClass ? ar.pick(ips) : home(t));
    a.models = w(MODEL_MIX_DEFAULT);
    a.ua = oneSdkUa(a);
    a.key = oneKey(a, 0.1);
    a.rpm = 40;
    if (subject === 'math') a.outScale = 1.3;
    slowAdoption(world, a, 0.2, 3);
    out.push(a);
  }
  world.plan.params.groups.classrooms.push({ size, subject, assignments: nAssign, meetingsPerWeek, createdDuringRun: duringRun });
  return out;
}

// ----------------------------------------------------------------------------------------------------------
// Bootcamp cohorts: accounts created on day one, daily exercises, workdays together
// ----------------------------------------------------------------------------------------------------------

export function bootcamp(world: World, size: number): SimActor[] {
  const r = world.rng.fork(`camp-${world.rng.hex(6)}`);
  const btz = world.plan.tzPicker.draw(r);
  const duringRun = r.chance(0.35);
  const day1 = duringRun ? world.start + r.int(0, Math.max(0, world.days - 2)) * DAY : world.start - r.int(3, 40) * DAY;
  const kickoff = day1 + localHourToUtc(9, btz);
  const onSite = r.chance(0.4);
  const venue = onSite ? world.net.natIps(r, r.int(1, 3), 'venue') : [];
  const code = r.hex(6);
  const perDay = r.int(1, 4);
  const exercise = (t: number, k: number): string => templateId(`bootcamp:${code}:day${Math.floor((t - day1) / DAY)}:ex${k % perDay}`);
  const switchAt = r.chance(0.5) ? world.releaseAt + r.uniform(12, 40) * HOUR : Infinity;
  const spec = humanSpec(btz, { curve: CURVES.office, pActive: 0.92, pActiveWeekend: 0.1, sessionsMean: 3, reqMedian: 14, gapMedianS: 25 });
  const out: SimActor[] = [];
  for (let i = 0; i < size; i++) {
    const a = organic(world, 'bootcamp');
    const ar = a.rng;
    a.createdAt = kickoff + ar.uniform(0, 60) * MINUTE;
    if (a.createdAt > world.start) a.activeFrom = a.createdAt + ar.uniform(5, 40) * MINUTE;
    dropCreatedAt(a);
    humanSchedule(a, { ...spec, pActive: ar.uniform(0.8, 0.98) });
    a.classes = w<PromptClass>([
      ['coding', 45],
      ['agentic', 30],
      ['chat', 20],
      ['vision', 5],
    ]);
    a.models = w(MODEL_MIX_DEFAULT);
    const free = freeformTemplates(a, { pPublic: 0.1 });
    a.template = (c, t) => (ar.chance(0.5) ? exercise(t, ar.int(0, 3)) : free(c, t));
    const home = homeIp(world, a);
    a.ip = (t) => (onSite && !isWeekend(t, btz) ? ar.pick(venue) : home(t));
    a.ua = oneSdkUa(a);
    a.key = oneKey(a, 0.05);
    a.rpm = 50;
    slowAdoption(world, a, 0.3, 2);
    if (switchAt < a.adoptAt) {
      a.adoptAt = switchAt + ar.uniform(0, 4) * HOUR;
      a.adoptShare = ar.uniform(0.5, 0.9);
      a.adoptRamp = HOUR;
    }
    out.push(a);
  }
  world.plan.params.groups.bootcamps.push({ size, onSite, createdDuringRun: duringRun });
  return out;
}

// ----------------------------------------------------------------------------------------------------------
// Evaluation companies: several accounts benchmark the new model on release day (and the old ones to compare)
// ----------------------------------------------------------------------------------------------------------

export function evalCompany(world: World, size: number): SimActor[] {
  const r = world.rng.fork(`evalco-${world.rng.hex(6)}`);
  const name = `${r.pick(['bench', 'evalhub', 'scorecard', 'modelcheck', 'redteam', 'gauge'])}-${r.hex(3)}`;
  const etz = world.plan.tzPicker.draw(r);
  const pub = r.sample(EVAL_TEMPLATES, r.int(1, 5));
  const priv = Array.from({ length: r.int(2, 30) }, (_, i) => `evalco:${name}:bench-${i}`);
  const bench = [...pub, ...priv].map(templateId);
  const cotShare = r.uniform(0.55, 0.9);
  const runClasses = w<PromptClass>([
    ['cot_elicitation', cotShare],
    ['coding', (1 - cotShare) * 0.6],
    ['chat', (1 - cotShare) * 0.4],
  ]);
  const devClasses = w<PromptClass>([
    ['chat', 40],
    ['cot_elicitation', 30],
    ['coding', 30],
  ]);
  const delay = r.uniform(0.5, 6) * HOUR;
  const cloud = Array.from({ length: r.int(1, 4) }, () => world.net.cloudIp(r));
  const officeIp = world.net.natIps(r, 1, 'corporate');
  const harnessUa = r.chance(0.5) ? r.pick(EVAL_UAS) : `${name}-harness/0.${r.int(1, 20)}`;
  const freshForRelease = r.chance(0.3);
  const out: SimActor[] = [];
  for (let i = 0; i < size; i++) {
    const a = organic(world, 'eval_company');
    const ar = a.rng;
    a.createdAt = freshForRelease && i === size - 1 ? world.releaseAt - ar.uniform(2, 48) * HOUR : world.start - ar.uniform(20, 800) * DAY;
    if (a.createdAt > world.start) a.activeFrom = a.createdAt + HOUR;
    interface Run {
      start: number;
      end: number;
      n: number;
      model: string;
    }
    const runs: Run[] = [];
    const old = [MODELS.opus, MODELS.sonnet, MODELS.haiku];
    for (let k = ar.int(0, 2); k > 0; k--) {
      const s = world.start + ar.uniform(0, Math.max(HOUR, world.releaseAt - world.start - 4 * HOUR));
      runs.push({ start: s, end: s + ar.uniform(0.5, 4) * HOUR, n: ar.int(200, 1500), model: ar.pick(old) });
    }
    const nRel = ar.int(2, 5);
    for (let k = 0; k < nRel; k++) {
      const s = world.releaseAt + delay + (k === 0 ? ar.uniform(0, 1) * HOUR : ar.uniform(0, 30) * HOUR);
      runs.push({
        start: s,
        end: s + ar.uniform(0.5, 4) * HOUR,
        n: ar.int(200, 1500),
        model: k === 0 || ar.chance(0.6) ? world.newModel : ar.pick(old),
      });
    }
    const inRun = (t: number): Run | undefined => {
      for (const x of runs) if (t >= x.start && t < x.end) return x;
      return undefined;
    };
    const dev = humanSpec(etz, { curve: CURVES.office, pActive: 0.7, pActiveWeekend: 0.15, sessionsMean: 2, reqMedian: 8, gapMedianS: 20 });
    a.schedule = (day, end, o) => {
      sessions(ar, day, dev, o);
      for (const run of runs) {
        const rate = (run.n / (run.end - run.start)) * HOUR;
        poissonHourly(ar, Math.max(day, run.start), Math.min(end, run.end), () => rate, o);
      }
    };
    a.models = w([
      [MODELS.opus, 50],
      [MODELS.sonnet, 40],
      [MODELS.haiku, 10],
    ]);
    a.adoptAt = world.releaseAt + delay + ar.uniform(0, 12) * HOUR;
    a.adoptShare = ar.uniform(0.4, 0.8);
    a.adoptRamp = HOUR;
    a.modelAt = (t) => inRun(t)?.model;
    const free = freeformTemplates(a, {});
    let run: Run | undefined;
    const base = a.request.bind(a);
    a.request = (t) => {
      run = inRun(t);
      a.classes = run ? runClasses : devClasses;
      a.outScale = run ? 1.9 : 1;
      return base(t);
    };
    a.template = (c, t) => (run || ar.chance(0.3) ? bench[ar.int(0, bench.length - 1)] : free(c, t));
    a.ip = () => (run ? cloud[ar.int(0, cloud.length - 1)] : officeIp[0]);
    a.ua = () => (run ? harnessUa : 'python-httpx/0.27.2');
    a.key = oneKey(a, 0);
    a.rpm = 1500;
    a.p429 = 0.01;
    out.push(a);
  }
  world.plan.params.groups.evalCompanies.push({
    accounts: size,
    benchmarks: bench.length,
    cotShare: Math.round(cotShare * 100) / 100,
    releaseDelayH: round1(delay / HOUR),
  });
  return out;
}

// ----------------------------------------------------------------------------------------------------------
// Platform tenants: a SaaS platform that provisions one account per customer, all calling from its servers
// ----------------------------------------------------------------------------------------------------------

const PLATFORM_KINDS: Record<string, ReadonlyArray<readonly [PromptClass, number]>> = {
  support_bot: [
    ['chat', 70],
    ['rewrite', 20],
    ['other', 10],
  ],
  code_review: [
    ['coding', 60],
    ['agentic', 30],
    ['chat', 10],
  ],
  documents: [
    ['other', 40],
    ['rewrite', 30],
    ['vision', 20],
    ['chat', 10],
  ],
};

export function platformTenants(world: World, size: number): SimActor[] {
  const r = world.rng.fork(`platform-${world.rng.hex(6)}`);
  const kind = r.pick(Object.keys(PLATFORM_KINDS));
  const brand = `${r.pick(['stackbot', 'helpdeskly', 'docuflow', 'reviewpal', 'agentry', 'saasify'])}-${r.hex(3)}`;
  const subnets = r.sample(world.net.cloudSubnets, r.int(1, 3));
  const ips = Array.from({ length: r.int(3, 16) }, () => `${r.pick(subnets)}.${r.int(4, 250)}`);
  const ua = r.chance(0.6) ? `${brand}/${r.int(1, 9)}.${r.int(0, 30)}` : SDK_UA_PICKER.draw(r);
  const sys = Array.from({ length: r.int(2, 10) }, (_, i) => templateId(`platform:${brand}:sys-${i}`));
  const launched = world.start - r.uniform(200, 900) * DAY;
  const bulk = r.chance(0.3)
    ? r.chance(0.3)
      ? world.start + r.uniform(0, world.end - world.start - DAY)
      : world.start - r.uniform(5, 150) * DAY
    : null;
  const enableAt = r.chance(0.7) ? world.releaseAt + logUniform(r, 2, 96) * HOUR : null;
  const classes = new Weighted(PLATFORM_KINDS[kind]);
  const out: SimActor[] = [];
  for (let i = 0; i < size; i++) {
    const a = organic(world, 'platform_tenant');
    const ar = a.rng;
    a.createdAt = bulk !== null && ar.chance(0.5) ? bulk + ar.uniform(0, 10) * MINUTE : launched + ar.uniform(0, world.start - launched);
    if (a.createdAt > world.start) a.activeFrom = a.createdAt + ar.uniform(1, 30) * MINUTE;
    const perDay = Math.min(2500, ar.lognormal(60, 1.1));
    const rate = diurnalRate(perDay, tz(world, a), ar.chance(0.5) ? CURVES.app : CURVES.office);
    a.schedule = (day, end, o) => poissonHourly(ar, day, end, rate, o);
    a.classes = classes;
    a.models = w([[ar.chance(0.6) ? MODELS.sonnet : MODELS.haiku, 1]]);
    const own = templateId(`platform:${brand}:tenant:${a.id}`);
    const pSys = ar.uniform(0.5, 0.9);
    const pOwn = ar.uniform(0.05, 0.3);
    const conv = new Sticky(5 * MINUTE, () => `t-${ar.hex(12)}`);
    a.template = (_c, t) => {
      const x = ar.next();
      return x < pSys ? sys[ar.int(0, sys.length - 1)] : x < pSys + pOwn ? own : conv.get(t);
    };
    a.ip = () => ips[ar.int(0, ips.length - 1)];
    a.ua = () => ua;
    const key = ar.alnum(10);
    a.key = () => key;
    a.rpm = 600;
    if (enableAt !== null && ar.chance(0.5)) {
      a.adoptAt = enableAt + ar.exp(12 * HOUR);
      a.adoptShare = ar.uniform(0.3, 1);
      a.adoptRamp = ar.uniform(0.1, 6) * HOUR;
    }
    out.push(a);
  }
  world.plan.params.groups.platforms.push({
    tenants: size,
    ips: ips.length,
    enableAfterH: enableAt === null ? null : round1((enableAt - world.releaseAt) / HOUR),
  });
  return out;
}

// ----------------------------------------------------------------------------------------------------------
// Serverless app backends: no fixed egress, every warm container gets an address from the region's shared pool
// ----------------------------------------------------------------------------------------------------------

const SERVERLESS_APPS: ReadonlyArray<readonly [string, W<PromptClass>, number]> = [
  [
    'chat',
    [
      ['chat', 80],
      ['other', 10],
      ['rewrite', 6],
      ['vision', 4],
    ],
    30,
  ],
  [
    'writing',
    [
      ['rewrite', 60],
      ['chat', 20],
      ['other', 20],
    ],
    20,
  ],
  // homework helpers and "explain step by step" wrappers: chain-of-thought prompts are their product
  [
    'tutor',
    [
      ['cot_elicitation', 40],
      ['chat', 40],
      ['coding', 10],
      ['other', 10],
    ],
    15,
  ],
  [
    'agent',
    [
      ['agentic', 55],
      ['coding', 20],
      ['chat', 15],
      ['other', 10],
    ],
    20,
  ],
  [
    'vision',
    [
      ['vision', 60],
      ['chat', 25],
      ['other', 15],
    ],
    15,
  ],
];
const SERVERLESS_PICKER = new Weighted(SERVERLESS_APPS.map(([name, classes, weight]) => [[name, classes] as const, weight] as const));

/**
 * One company's app backend(s) on a function platform (Lambda, Cloud Run) with no NAT gateway: each warm
 * container calls from a new address in the region's shared egress pool, so an account spans dozens of cloud /16
 * networks in a day and shares /24s with unrelated customers in the region. `size` > 1: sibling accounts of one
 * company (production, staging, one per region or product) with the same system prompts, created at different
 * times. Round the clock, an app's diurnal load, one SDK user agent.
 */
export function serverlessCompany(world: World, size: number): SimActor[] {
  const out: SimActor[] = [];
  const lead = organic(world, 'serverless_app');
  const cr = lead.rng;
  const [, classes] = SERVERLESS_PICKER.draw(cr);
  const region = cr.pick([0, 0, 0, 1, 1, 2]);
  const prompts = Array.from({ length: cr.int(1, 4) }, (_, i) => `app:${lead.id}:system-${i}`);
  const ua = SDK_UA_PICKER.draw(cr);
  const tzh = tz(world, lead);
  for (let i = 0; i < size; i++) {
    const a = i === 0 ? lead : organic(world, 'serverless_app');
    const r = a.rng;
    createdAtFor(world, a, 0.03);
    dropCreatedAt(a);
    const rate = diurnalRate(logUniform(r, 40, i === 0 ? 3000 : 600), tzh, CURVES.app);
    a.schedule = (day, end, o) => poissonHourly(r, day, end, (h) => rate(h) * (isWeekend(h, tzh) ? 0.8 : 1), o);
    a.classes = w(classes);
    a.models = w(MODEL_MIX_DEFAULT);
    // an app's requests carry its own system prompts; the rest are its users' follow-ups in a conversation
    a.template = freeformTemplates(a, { pOwn: r.uniform(0.75, 0.97), own: prompts, pPublic: 0 });
    const containers: Array<{ ip: string; until: number }> = [];
    const pNew = r.uniform(0.05, 0.3);
    a.ip = (t) => {
      for (let j = containers.length - 1; j >= 0; j--) if (containers[j].until < t) containers.splice(j, 1);
      if (containers.length === 0 || r.chance(pNew))
        containers.push({ ip: world.net.functionEgressIp(r, region), until: t + r.uniform(5, 45) * MINUTE });
      return r.pick(containers).ip;
    };
    a.ua = () => ua;
    a.key = manyKeys(a, r.int(1, 2));
    a.rpm = 300;
    a.p429 = 0.003;
    slowAdoption(world, a, 0.3, 3);
    out.push(a);
  }
  return out;
}

// ----------------------------------------------------------------------------------------------------------
// Carrier-grade NAT and roaming
// ----------------------------------------------------------------------------------------------------------

/** A phone user on a mobile carrier: many short sessions, an address from the carrier's small CGNAT pool. */
export function cgnatMobile(world: World): SimActor {
  const a = organic(world, 'cgnat_mobile');
  const r = a.rng;
  createdAtFor(world, a, 0.08);
  dropCreatedAt(a);
  const carrier = world.plan.carrierPicker.draw(r);
  humanSchedule(
    a,
    humanSpec(tz(world, a), {
      curve: r.chance(0.5) ? CURVES.human : CURVES.evening,
      pActive: r.uniform(0.3, 0.8),
      pActiveWeekend: r.uniform(0.3, 0.8),
      sessionsMean: r.uniform(2, 5),
      reqMedian: r.uniform(2, 6),
      gapMedianS: 30,
    }),
  );
  a.classes = w<PromptClass>([
    ['chat', 60],
    ['vision', 15],
    ['rewrite', 10],
    ['other', 10],
    ['cot_elicitation', 5],
  ]);
  a.models = w([
    [MODELS.haiku, 45],
    [MODELS.sonnet, 45],
    [MODELS.opus, 10],
  ]);
  a.template = freeformTemplates(a, { pPublic: 0.1 });
  const s = new Sticky(20 * MINUTE, () => r.pick(carrier.ips), 0.03, r);
  a.ip = (t) => s.get(t);
  const ua = r.pick(MOBILE_UAS);
  a.ua = () => ua;
  a.key = oneKey(a, 0.1);
  a.rpm = 30;
  slowAdoption(world, a, 0.2, 3);
  return a;
}

/** A developer on the move: home, office, phone (carrier CGNAT), and sometimes a trip to another time zone. */
export function roamingUser(world: World): SimActor {
  const a = organic(world, 'roaming_user');
  const r = a.rng;
  createdAtFor(world, a, 0.04);
  dropCreatedAt(a);
  const homeTz = tz(world, a);
  const carrier = world.plan.carrierPicker.draw(r);
  const office = r.chance(0.6) ? world.net.natIps(r, 1, 'corporate')[0] : null;
  const trip = r.chance(0.4)
    ? { from: world.start + r.uniform(0, world.end - world.start - DAY), days: r.int(1, 4), shift: r.pick([-9, -6, -3, 3, 6, 9]) }
    : null;
  const inTrip = (t: number): boolean => trip !== null && t >= trip.from && t < trip.from + trip.days * DAY;
  const hotel = world.net.residentialIp(r);
  const spec = humanSpec(homeTz, {
    curve: CURVES.human,
    pActive: r.uniform(0.4, 0.85),
    pActiveWeekend: r.uniform(0.2, 0.6),
    sessionsMean: r.uniform(1.5, 3.5),
    reqMedian: r.uniform(4, 15),
    gapMedianS: 25,
  });
  const tripSpec = trip ? { ...spec, tz: homeTz + trip.shift } : spec;
  a.schedule = (day, _end, o) => sessions(r, day, inTrip(day + 12 * HOUR) ? tripSpec : spec, o);
  a.classes = w<PromptClass>([
    ['chat', 35],
    ['coding', 30],
    ['agentic', 10],
    ['rewrite', 10],
    ['other', 8],
    ['vision', 5],
    ['cot_elicitation', 2],
  ]);
  a.models = w(MODEL_MIX_DEFAULT);
  a.template = freeformTemplates(a, { pOwn: 0.1, own: [`own:${a.id}:sys`], pPublic: 0.1 });
  const home = homeIp(world, a);
  let mobile = false;
  const place = new Sticky(40 * MINUTE, (t: number) => {
    mobile = false;
    if (inTrip(t)) return r.chance(0.7) ? hotel : world.net.residentialIp(r);
    const x = r.next();
    if (x < 0.25) {
      mobile = true;
      return r.pick(carrier.ips);
    }
    if (office && x < 0.6 && !isWeekend(t, homeTz)) return office;
    return home(t);
  });
  a.ip = (t) => place.get(t);
  const sdk = SDK_UA_PICKER.draw(r);
  const phone = r.pick(MOBILE_UAS);
  a.ua = () => (mobile ? phone : sdk);
  a.key = oneKey(a, 0.05);
  a.rpm = 50;
  slowAdoption(world, a, 0.35, 2);
  return a;
}
