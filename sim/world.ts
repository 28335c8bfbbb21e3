/**
 * The per-seed world: every seed draws its own population mix and parameters from wide ranges (docs/simulator.md
 * lists them), so that detection tuned on one world has to hold on the next. `drawWorld` returns the runtime plan
 * (tool catalog, carriers, time-zone weights) and `params`, a plain JSON summary written to meta.json.
 */
import type { PromptClass } from '../src/shared/contract';
import { BROWSER_UAS, CODING_TOOLS, HOUR, Network, TIME_ZONES, templateId } from './catalog';
import { Rng, Weighted } from './rng';
import type { OrganicType } from './types';

export type ToolKind = 'ide' | 'agent' | 'chat_ui' | 'writing' | 'tutor' | 'extension' | 'notebook';

/** A third-party tool or framework: its users are unrelated, but share its UA and its system-prompt templates. */
export interface Tool {
  name: string;
  kind: ToolKind;
  ua: string | null; // null: the tool calls through the user's SDK, so its UA is the SDK's
  templates: string[]; // template ids
  popularity: number;
  /** Share of a user's requests that carry one of the tool's templates. */
  pTemplate: number;
  classes: Weighted<PromptClass>;
  /** When the tool makes the new model its default (null: not in this run), and the share it then gets. */
  switchAt: number | null;
  switchShare: number;
  /** Hosted tools switch every user at once; self-updated ones reach each user after an upgrade lag. */
  hosted: boolean;
}

/** A mobile carrier's carrier-grade NAT: many unrelated subscribers behind a small pool of public addresses. */
export interface Carrier {
  name: string;
  ips: string[];
}

export interface WorldParams {
  /** Where most of the customers are. */
  region: string;
  /** Time-zone weights (UTC offset -> share of people), after the region skew. */
  timeZones: Array<[number, number]>;
  /** Organic accounts per type (sums to the organic count). */
  mix: Record<string, number>;
  /** New-model adoption by ordinary customers: chance to try it in the run (scale) and mean delay (days). */
  adoption: { pEverScale: number; meanDays: number };
  tools: {
    count: number;
    zipf: number;
    top: Array<{ name: string; kind: ToolKind; templates: number; share: number; switchAfterH: number | null; hosted: boolean }>;
  };
  carriers: Array<{ name: string; ips: number; subnets: number }>;
  /** Group sizes and settings drawn for this world (teams, classes, cohorts, eval companies, platforms). */
  groups: {
    teams: Array<{
      size: number;
      egress: string;
      library: number;
      libraryShare: number;
      schedule: string;
      nightlyJobs: number;
      seats: boolean;
      switchAfterH: number | null;
    }>;
    classrooms: Array<{ size: number; subject: string; assignments: number; meetingsPerWeek: number; createdDuringRun: boolean }>;
    bootcamps: Array<{ size: number; onSite: boolean; createdDuringRun: boolean }>;
    evalCompanies: Array<{ accounts: number; benchmarks: number; cotShare: number; releaseDelayH: number }>;
    platforms: Array<{ tenants: number; ips: number; enableAfterH: number | null }>;
    campuses: number[];
    corporate: number[];
    hackathons: number[];
  };
}

/** Share of organic accounts per type: [low, high], chance the type is absent from a world, minimum when present. */
/** `always`: every world with organic traffic has at least `min` of them (the release-day harness, the launch partner). */
const MIX: Record<Exclude<OrganicType, 'hobbyist'>, { lo: number; hi: number; pAbsent?: number; min?: number; always?: boolean }> = {
  chat_app: { lo: 0.004, hi: 0.025, min: 1 },
  coding_assistant: { lo: 0.05, hi: 0.16, min: 3 },
  tool_user: { lo: 0.04, hi: 0.16, min: 3 },
  office: { lo: 0.02, hi: 0.09, min: 2 },
  corporate_nat: { lo: 0.01, hi: 0.05, pAbsent: 0.3, min: 3 },
  company_team: { lo: 0.05, hi: 0.2, min: 4 },
  campus_nat: { lo: 0.02, hi: 0.09, pAbsent: 0.25, min: 10 },
  classroom: { lo: 0.015, hi: 0.08, pAbsent: 0.3, min: 12 },
  bootcamp: { lo: 0.005, hi: 0.025, pAbsent: 0.45, min: 8 },
  vpn_user: { lo: 0.02, hi: 0.08, min: 3 },
  cgnat_mobile: { lo: 0.02, hi: 0.1, min: 6 },
  roaming_user: { lo: 0.02, hi: 0.08, min: 3 },
  early_adopter: { lo: 0.01, hi: 0.07, min: 1, always: true },
  enterprise_batch: { lo: 0.0005, hi: 0.003, min: 1, always: true },
  eval_harness: { lo: 0.0005, hi: 0.002, min: 1, always: true },
  eval_company: { lo: 0.001, hi: 0.006, pAbsent: 0.3, min: 2 },
  reseller: { lo: 0.0003, hi: 0.0015, pAbsent: 0.15, min: 1 },
  platform_tenant: { lo: 0.008, hi: 0.05, pAbsent: 0.35, min: 8 },
  hackathon: { lo: 0.004, hi: 0.012, pAbsent: 0.4, min: 8 },
  serverless_app: { lo: 0.005, hi: 0.03, pAbsent: 0.2, min: 3 },
};

const REGIONS: Record<string, number[]> = {
  // time zones that get a boost in this world
  americas: [-8, -7, -6, -5, -3],
  europe: [0, 1, 2, 3],
  asia: [5.5, 7, 8, 9, 10],
  global: [],
};

const LONG_TAIL_A = [
  'Quill',
  'Forge',
  'Pilot',
  'Loop',
  'Sage',
  'Relay',
  'Draft',
  'Atlas',
  'Nimbus',
  'Kite',
  'Echo',
  'Orbit',
  'Lattice',
  'Scribe',
  'Ember',
  'Tandem',
  'Harbor',
  'Prism',
  'Vector',
  'Maple',
];
const LONG_TAIL_B = ['AI', 'Agent', 'Kit', 'Flow', 'Mate', 'Desk', 'Lab', 'Works', 'Studio', 'ly', 'Bot', 'Hub'];
const KIND_WEIGHTS: ReadonlyArray<readonly [ToolKind, number]> = [
  ['agent', 22],
  ['chat_ui', 20],
  ['writing', 14],
  ['extension', 14],
  ['tutor', 10],
  ['notebook', 8],
  ['ide', 12],
];

export const TOOL_CLASSES: Record<ToolKind, ReadonlyArray<readonly [PromptClass, number]>> = {
  ide: [
    ['coding', 55],
    ['agentic', 35],
    ['chat', 7],
    ['vision', 3],
  ],
  agent: [
    ['agentic', 60],
    ['coding', 15],
    ['chat', 10],
    ['other', 10],
    ['vision', 5],
  ],
  chat_ui: [
    ['chat', 70],
    ['rewrite', 10],
    ['other', 9],
    ['vision', 7],
    ['cot_elicitation', 4],
  ],
  writing: [
    ['rewrite', 65],
    ['chat', 20],
    ['other', 15],
  ],
  // step-by-step tutors and "reasoning" wrappers: unrelated users, CoT-heavy, one public system prompt
  tutor: [
    ['cot_elicitation', 45],
    ['chat', 35],
    ['coding', 10],
    ['other', 10],
  ],
  extension: [
    ['other', 40],
    ['rewrite', 30],
    ['chat', 25],
    ['vision', 5],
  ],
  notebook: [
    ['coding', 40],
    ['other', 25],
    ['chat', 20],
    ['cot_elicitation', 15],
  ],
};

export interface WorldPlan {
  params: WorldParams;
  tzPicker: Weighted<number>;
  tools: Tool[];
  /** Popularity-weighted pickers: IDE tools (coding assistants) and every other tool (tool users). */
  idePicker: Weighted<Tool>;
  toolPicker: Weighted<Tool>;
  carriers: Carrier[];
  carrierPicker: Weighted<Carrier>;
  adoption: { pEverScale: number; meanDays: number };
}

function logUniform(r: Rng, lo: number, hi: number): number {
  return Math.exp(r.uniform(Math.log(lo), Math.log(hi)));
}

/** Draw the world of one seed. `organic` is the number of organic accounts; group sizes are carved from the mix. */
export function drawWorld(r: Rng, net: Network, organic: number, releaseAt: number): WorldPlan {
  // ---- region and time zones ----
  const region = r.pick(Object.keys(REGIONS));
  const boost = REGIONS[region];
  const timeZones: Array<[number, number]> = TIME_ZONES.map(([tz, w]) => [
    tz,
    Math.round(w * Math.exp(r.normal(0, 0.6)) * (boost.includes(tz) ? r.uniform(2, 5) : 1) * 10) / 10 || 0.1,
  ]);
  const tzPicker = new Weighted(timeZones);

  // ---- the mix ----
  const mix: Record<string, number> = {};
  const shares: Array<[string, number]> = [];
  for (const [type, m] of Object.entries(MIX)) {
    if (m.pAbsent && r.chance(m.pAbsent)) shares.push([type, 0]);
    else shares.push([type, logUniform(r, m.lo, m.hi)]);
  }
  const total = shares.reduce((s, [, x]) => s + x, 0);
  const squeeze = total > 0.72 ? 0.72 / total : 1;
  let used = 0;
  for (const [type, x] of shares) {
    const m = MIX[type as Exclude<OrganicType, 'hobbyist'>];
    const expected = organic * x * squeeze;
    const min = m.min ?? 0;
    let k: number;
    if (organic === 0 || x === 0) k = 0;
    else if (expected >= min) k = Math.round(expected);
    // too few for one group of this type: present (at its minimum size) with the matching chance, so small worlds
    // keep the proportions instead of being swamped by minimum group sizes
    else if (m.always) k = min;
    else k = r.chance(expected / Math.max(1, min)) ? min : 0;
    if (used + k > organic - 1) k = Math.max(0, organic - 1 - used);
    mix[type] = k;
    used += k;
  }
  mix.hobbyist = organic - used;

  // ---- adoption of the new model by ordinary customers ----
  const adoption = { pEverScale: Math.round(r.uniform(0.5, 1.5) * 100) / 100, meanDays: Math.round(logUniform(r, 0.5, 5) * 100) / 100 };

  // ---- tools: a long tail ----
  const nTools = r.int(20, 90);
  const zipf = Math.round(r.uniform(0.9, 1.5) * 100) / 100;
  const tools: Tool[] = [];
  const names = new Set<string>();
  const ideKnown = CODING_TOOLS.slice();
  for (let i = 0; i < nTools; i++) {
    const kind = i < 2 ? r.pick<ToolKind>(['ide', 'agent', 'chat_ui']) : new Weighted(KIND_WEIGHTS).draw(r);
    let name: string;
    let ua: string | null;
    let known: readonly [string, string, number] | undefined;
    if (kind === 'ide' && ideKnown.length && r.chance(0.7)) {
      known = ideKnown.shift()!;
      name = known[0].split('/')[0];
      ua = known[0];
    } else {
      do name = `${r.pick(LONG_TAIL_A)}${r.pick(LONG_TAIL_B)}`;
      while (names.has(name) && names.size < 200);
      if (names.has(name)) name = `${name}${i}`;
      const ver = `${r.int(0, 4)}.${r.int(0, 30)}.${r.int(0, 9)}`;
      const x = r.next();
      ua =
        kind === 'agent' || kind === 'notebook'
          ? x < 0.5
            ? null
            : `${name.toLowerCase()}/${ver}`
          : kind === 'chat_ui' && x < 0.4
            ? null
            : kind === 'extension' && x < 0.6
              ? r.pick(BROWSER_UAS)
              : `${name}/${ver}`;
    }
    names.add(name);
    const nTpl = kind === 'agent' ? r.int(2, 8) : kind === 'ide' ? r.int(1, 4) : r.int(1, 5);
    const templates = known
      ? [templateId(known[1]), ...Array.from({ length: nTpl - 1 }, (_, k) => templateId(`${known![1]}:${k}`))]
      : Array.from({ length: nTpl }, (_, k) => templateId(`tool:${name}:sys-${k}`));
    const hosted = kind === 'writing' || kind === 'extension' || kind === 'tutor' || (kind === 'chat_ui' && r.chance(0.5));
    const switches = r.chance(0.65);
    tools.push({
      name,
      kind,
      ua,
      templates,
      popularity: 1 / Math.pow(i + 1, zipf),
      pTemplate: r.uniform(0.4, 0.95),
      classes: new Weighted(TOOL_CLASSES[kind].map(([c, w]) => [c, w * Math.exp(r.normal(0, 0.25))] as const)),
      switchAt: switches ? releaseAt + logUniform(r, 1, 120) * HOUR : null,
      switchShare: r.uniform(0.5, 0.95),
      hosted,
    });
  }
  const idePicker = new Weighted(
    tools
      .filter((t) => t.kind === 'ide')
      .map((t) => [t, t.popularity] as const)
      .concat(tools.some((t) => t.kind === 'ide') ? [] : [[tools[0], 1] as const]),
  );
  const toolPicker = new Weighted(tools.filter((t) => t.kind !== 'ide').map((t) => [t, t.popularity] as const));
  const popTotal = tools.reduce((s, t) => s + t.popularity, 0);

  // ---- carriers (CGNAT) ----
  const carriers: Carrier[] = [];
  const nCarriers = r.int(1, 4);
  for (let i = 0; i < nCarriers; i++) {
    const subnets = r.int(1, 4);
    carriers.push({ name: `carrier-${i + 1}`, ips: net.carrierPool(r, r.int(6, 48), subnets) });
  }
  const carrierPicker = new Weighted(carriers.map((c, i) => [c, 1 / (i + 1)] as const));

  const params: WorldParams = {
    region,
    timeZones,
    mix,
    adoption,
    tools: {
      count: nTools,
      zipf,
      top: tools.slice(0, 8).map((t) => ({
        name: t.name,
        kind: t.kind,
        templates: t.templates.length,
        share: Math.round((1000 * t.popularity) / popTotal) / 1000,
        switchAfterH: t.switchAt === null ? null : Math.round((t.switchAt - releaseAt) / HOUR),
        hosted: t.hosted,
      })),
    },
    carriers: carriers.map((c) => ({ name: c.name, ips: c.ips.length, subnets: new Set(c.ips.map((ip) => ip.slice(0, ip.lastIndexOf('.')))).size })),
    groups: { teams: [], classrooms: [], bootcamps: [], evalCompanies: [], platforms: [], campuses: [], corporate: [], hackathons: [] },
  };
  return { params, tzPicker, tools, idePicker, toolPicker, carriers, carrierPicker, adoption };
}

/** Split `n` accounts into groups of `draw()` accounts (the last group takes what is left, at least `min`). */
export function splitGroups(n: number, draw: () => number, min = 2): number[] {
  const out: number[] = [];
  let left = n;
  while (left > 0) {
    let k = Math.max(min, draw());
    if (left - k < min) k = left;
    out.push(Math.min(k, left));
    left -= k;
  }
  return out;
}

/** Team size, 2..40, heavy-tailed (most teams are small). */
export function teamSize(r: Rng): number {
  return Math.min(40, Math.max(2, Math.floor(logUniform(r, 2, 41))));
}
