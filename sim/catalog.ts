/**
 * The world the simulated traffic lives in: models, user agents, time zones, diurnal curves, token sizes and
 * IP address space (residential ISPs, cloud ranges, proxy providers). Everything is built from the seed.
 */
import type { PromptClass } from '../src/shared/contract';
import { Rng, Weighted, hexHash } from './rng';

export const HOUR = 3_600_000;
export const MINUTE = 60_000;
export const DAY = 86_400_000;

/** Models already in the traffic when the simulation starts. */
export const MODELS = {
  legacy: 'claude-sonnet-4-5',
  haiku: 'claude-haiku-5',
  sonnet: 'claude-sonnet-5',
  opus: 'claude-opus-5',
} as const;
/** The model released mid-run (its first request marks the release). */
export const DEFAULT_NEW_MODEL = 'claude-opus-6';

/** User agents of popular SDKs and HTTP clients, with rough popularity: shared by thousands of unrelated users. */
export const SDK_UAS: ReadonlyArray<readonly [string, number]> = [
  ['Anthropic/Python 0.49.0', 22],
  ['Anthropic/Python 0.48.2', 8],
  ['Anthropic/Python 0.45.1', 4],
  ['Anthropic/JS 0.39.0', 14],
  ['Anthropic/JS 0.37.0', 5],
  ['python-requests/2.32.3', 9],
  ['python-httpx/0.27.2', 8],
  ['axios/1.7.7', 5],
  ['node-fetch/1.0 (+https://github.com/bitinn/node-fetch)', 3],
  ['curl/8.5.0', 4],
  ['Go-http-client/2.0', 3],
  ['okhttp/4.12.0', 2],
  ['litellm/1.52.0', 3],
  ['langchain-anthropic/0.3.1', 3],
  ['Java-http-client/17.0.12', 2],
  ['anthropic-sdk-go/0.2.0', 2],
];

/** Browser user agents (playgrounds, browser-side apps, and UA-rotating scrapers). */
export const BROWSER_UAS: readonly string[] = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
];

/** Phones: mobile browsers and apps (SDK-based Android apps send okhttp). */
export const MOBILE_UAS: readonly string[] = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36',
  'okhttp/4.12.0',
  'Dalvik/2.1.0 (Linux; U; Android 14; Pixel 7 Build/AP2A.240805.005)',
];

/** Coding tools: every user of a tool sends its UA and its public system-prompt template. */
export const CODING_TOOLS: ReadonlyArray<readonly [string, string, number]> = [
  ['claude-cli/1.0.31 (external, cli)', 'public:claude-code-system', 40],
  ['Cline/3.2.0', 'public:cline-system', 20],
  ['Continue/0.9.230', 'public:continue-system', 10],
  ['aider/0.66.0', 'public:aider-system', 10],
  ['Zed/0.162.3', 'public:zed-assistant', 6],
];

export const EVAL_UAS: readonly string[] = ['lm-eval/0.4.5', 'inspect_ai/0.3.51', 'Anthropic/Python 0.49.0', 'python-httpx/0.27.2'];

/** Public benchmark prompt templates (used by unrelated eval harnesses at different organisations). */
export const EVAL_TEMPLATES: readonly string[] = [
  'public:gsm8k-cot-8shot',
  'public:math-cot-4shot',
  'public:bbh-cot-3shot',
  'public:mmlu-pro-cot-5shot',
  'public:gpqa-cot-0shot',
  'public:arc-challenge-cot',
];
export const EVAL_CODE_TEMPLATES: readonly string[] = ['public:humaneval', 'public:mbpp-3shot', 'public:swe-bench-lite'];

/** Popular open-source chat front ends and frameworks with a fixed system prompt. */
export const PUBLIC_CHAT_TEMPLATES: readonly string[] = [
  'public:openwebui-default',
  'public:librechat-default',
  'public:langchain-react-agent',
  'public:llamaindex-qa',
  'public:sillytavern-default',
];

/** Time zones (UTC offset hours) and how many users live there. */
export const TIME_ZONES: ReadonlyArray<readonly [number, number]> = [
  [-8, 14],
  [-7, 4],
  [-6, 6],
  [-5, 16],
  [-3, 5],
  [0, 8],
  [1, 12],
  [2, 5],
  [3, 3],
  [5.5, 10],
  [7, 3],
  [8, 7],
  [9, 5],
  [10, 2],
];

/** Relative activity by local hour (0..23). */
export const CURVES = {
  human: [0.25, 0.12, 0.06, 0.04, 0.04, 0.08, 0.2, 0.45, 0.8, 1.0, 1.1, 1.1, 1.0, 1.1, 1.15, 1.1, 1.0, 0.95, 0.9, 0.95, 1.0, 0.95, 0.75, 0.45],
  office: [0, 0, 0, 0, 0, 0, 0.02, 0.15, 0.8, 1.2, 1.2, 1.1, 0.7, 1.1, 1.2, 1.1, 1.0, 0.5, 0.15, 0.05, 0.03, 0.02, 0.01, 0],
  student: [0.5, 0.35, 0.15, 0.05, 0.02, 0.02, 0.05, 0.15, 0.4, 0.7, 0.9, 1.0, 0.9, 1.0, 1.1, 1.1, 1.0, 0.9, 0.9, 1.0, 1.1, 1.1, 0.95, 0.75],
  evening: [0.5, 0.3, 0.1, 0.05, 0.02, 0.02, 0.05, 0.15, 0.25, 0.3, 0.35, 0.4, 0.5, 0.45, 0.4, 0.45, 0.5, 0.7, 0.9, 1.2, 1.4, 1.4, 1.2, 0.9],
  /** Consumer traffic of an app (smooth, never zero). */
  app: [0.45, 0.35, 0.28, 0.25, 0.25, 0.3, 0.45, 0.65, 0.85, 1.0, 1.1, 1.15, 1.15, 1.15, 1.15, 1.1, 1.1, 1.1, 1.1, 1.15, 1.2, 1.1, 0.9, 0.65],
} as const;

/** Median input / output tokens per prompt class, and log-space spread. */
export const TOKENS: Record<PromptClass, { inp: number; out: number; sigma: number }> = {
  chat: { inp: 450, out: 380, sigma: 0.8 },
  coding: { inp: 3200, out: 900, sigma: 0.8 },
  agentic: { inp: 9000, out: 650, sigma: 0.7 },
  vision: { inp: 2400, out: 420, sigma: 0.6 },
  cot_elicitation: { inp: 650, out: 1900, sigma: 0.5 },
  rewrite: { inp: 950, out: 1000, sigma: 0.6 },
  other: { inp: 500, out: 260, sigma: 0.9 },
};

/** Day of week (0 = Sunday) at a UTC time shifted by a time zone. */
export function localDow(t: number, tz: number): number {
  return new Date(t + tz * HOUR).getUTCDay();
}

export function isWeekend(t: number, tz: number): boolean {
  const d = localDow(t, tz);
  return d === 0 || d === 6;
}

/** Template id as the serving tier would compute it: a hash of the normalised template (here: of its name). */
export function templateId(name: string): string {
  return `t-${hexHash(name, 12)}`;
}

// ----------------------------------------------------------------------------------------------------------
// IP address space
// ----------------------------------------------------------------------------------------------------------

const RESIDENTIAL_FIRST_OCTETS = [
  24, 67, 68, 69, 71, 73, 75, 76, 96, 97, 98, 99, 174, 2, 5, 31, 37, 46, 77, 78, 79, 80, 81, 82, 83, 84, 86, 87, 88, 90, 91, 92, 93, 94, 95, 109, 176,
  178, 188, 212, 213, 217, 1, 14, 27, 36, 39, 42, 49, 58, 59, 60, 61, 101, 106, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123,
  124, 125, 175, 180, 182, 183, 186, 187, 189, 190, 191, 200, 201,
];
const CLOUD_FIRST_OCTETS = [3, 13, 18, 20, 34, 35, 40, 44, 52, 54, 104, 143, 159, 167];

export interface ProxyProvider {
  name: string;
  ips: string[];
}

/** The address space shared by everybody in one simulation. */
export class Network {
  /** ISP /16 prefixes, like `73.41`. */
  readonly ispPrefixes: string[] = [];
  /** Cloud /24 prefixes, like `3.88.14`: dense, so unrelated customers' servers share them. */
  readonly cloudSubnets: string[] = [];
  /** Datacenter proxy / VPN providers (a few /24s each), used by privacy-minded customers and campaigns alike. */
  readonly dcProxies: ProxyProvider[] = [];
  /** A commercial residential proxy network: IPs scattered over ISP space. */
  readonly residentialProxy: string[] = [];
  private readonly used = new Set<string>();
  /** Egress pools of serverless function platforms, one per cloud region, drawn on first use. */
  private readonly functionPools = new Map<number, string[]>();
  private readonly poolRng: Rng;

  constructor(rng: Rng) {
    this.poolRng = rng.fork('function-pools');
    const seen = new Set<string>();
    while (this.ispPrefixes.length < 160) {
      const p = `${rng.pick(RESIDENTIAL_FIRST_OCTETS)}.${rng.int(0, 255)}`;
      if (!seen.has(p)) {
        seen.add(p);
        this.ispPrefixes.push(p);
      }
    }
    while (this.cloudSubnets.length < 220) {
      const p = `${rng.pick(CLOUD_FIRST_OCTETS)}.${rng.int(0, 255)}.${rng.int(0, 255)}`;
      if (!seen.has(p)) {
        seen.add(p);
        this.cloudSubnets.push(p);
      }
    }
    const names = ['nordic-vpn-like', 'dc-proxy-b', 'dc-proxy-c'];
    for (const name of names) {
      const ips: string[] = [];
      const nets = rng.int(2, 4);
      for (let s = 0; s < nets; s++) {
        const p = `${rng.pick([45, 62, 85, 89, 103, 138, 146, 149, 154, 156, 185, 193, 194, 195, 198, 209])}.${rng.int(0, 255)}.${rng.int(0, 255)}`;
        const hosts = rng.sample(
          Array.from({ length: 250 }, (_, i) => i + 2),
          rng.int(6, 14),
        );
        for (const h of hosts) ips.push(`${p}.${h}`);
      }
      this.dcProxies.push({ name, ips });
    }
    for (let i = 0; i < 5000; i++) this.residentialProxy.push(this.residentialIp(rng));
  }

  /** A random home address in ISP space. */
  residentialIp(rng: Rng): string {
    return `${rng.pick(this.ispPrefixes)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
  }

  /** A residential address in the same /16 as `ip` (DHCP renumbering). */
  renumber(rng: Rng, ip: string): string {
    const parts = ip.split('.');
    return `${parts[0]}.${parts[1]}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
  }

  /** A server address in cloud space, distinct from every other server's. */
  cloudIp(rng: Rng): string {
    for (;;) {
      const ip = `${rng.pick(this.cloudSubnets)}.${rng.int(4, 250)}`;
      if (!this.used.has(ip)) {
        this.used.add(ip);
        return ip;
      }
    }
  }

  /**
   * An address from a cloud region's shared function egress pool (Lambda, Cloud Run without a NAT gateway): a few
   * dozen /16 networks with a handful of /24s each, shared by every customer whose functions run in that region.
   */
  functionEgressIp(rng: Rng, region: number): string {
    let pool = this.functionPools.get(region);
    if (!pool) {
      const r = this.poolRng.fork(region);
      pool = [];
      const networks = r.int(12, 120);
      for (let i = 0; i < networks; i++) {
        const p16 = `${r.pick(CLOUD_FIRST_OCTETS)}.${r.int(0, 255)}`;
        for (let j = r.int(2, 10); j > 0; j--) pool.push(`${p16}.${r.int(0, 255)}`);
      }
      this.functionPools.set(region, pool);
    }
    return `${rng.pick(pool)}.${rng.int(4, 250)}`;
  }

  /** A carrier-grade NAT pool: `n` addresses over `subnets` /24s of one ISP /16. */
  carrierPool(rng: Rng, n: number, subnets: number): string[] {
    const p16 = rng.pick(this.ispPrefixes);
    const nets = Array.from({ length: subnets }, () => `${p16}.${rng.int(0, 255)}`);
    const out = new Set<string>();
    while (out.size < n) out.add(`${rng.pick(nets)}.${rng.int(1, 254)}`);
    return [...out];
  }

  /** `n` egress addresses of one NAT (campus, office), in one /24. */
  natIps(rng: Rng, n: number, kind: 'campus' | 'corporate' | 'venue'): string[] {
    const p =
      kind === 'campus'
        ? `${rng.pick([128, 129, 130, 131, 132, 134, 136, 137, 140, 141, 142, 144, 147, 152, 155, 157, 160, 163, 164, 169])}.${rng.int(0, 255)}.${rng.int(0, 255)}`
        : `${rng.pick(this.ispPrefixes)}.${rng.int(0, 255)}`;
    const hosts = rng.sample(
      Array.from({ length: 250 }, (_, i) => i + 2),
      n,
    );
    return hosts.map((h) => `${p}.${h}`);
  }
}

export function subnet24(ip: string): string {
  return ip.slice(0, ip.lastIndexOf('.'));
}

export const TZ_PICKER = new Weighted(TIME_ZONES);
export const SDK_UA_PICKER = new Weighted(SDK_UAS);
export const CODING_TOOL_PICKER = new Weighted(CODING_TOOLS.map(([ua, tpl, w]) => [[ua, tpl] as const, w] as const));
