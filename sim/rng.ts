/**
 * Seeded pseudo-random numbers for the simulator. Hand-written on purpose: the generator must be fast (millions
 * of draws per run), dependency-free and bit-for-bit reproducible across Node versions, which `Math.random` is not.
 * The core is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), seeded through cyrb128 string hashing.
 */

/** 128-bit string hash (cyrb128) -> four 32-bit words. */
export function hash128(str: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < str.length; i++) {
    const k = str.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/** Deterministic hex digest (`n` hex chars, n <= 32) of a string: used for template ids. */
export function hexHash(str: string, n = 12): string {
  const w = hash128(str);
  let s = '';
  for (const x of w) s += x.toString(16).padStart(8, '0');
  return s.slice(0, n);
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(seed: string | number) {
    [this.a, this.b, this.c, this.d] = hash128(String(seed));
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A new independent stream, derived from this one's seed material and a label. */
  fork(label: string | number): Rng {
    return new Rng(`${this.a}:${this.b}:${this.c}:${this.d}:${label}`);
  }

  u32(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(arr: readonly T[]): T {
    return arr[Math.floor(this.next() * arr.length)];
  }

  /** `k` distinct elements (k clipped to the array length), in random order. */
  sample<T>(arr: readonly T[], k: number): T[] {
    const copy = arr.slice();
    const n = Math.min(k, copy.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.next() * (copy.length - i));
      const tmp = copy[i];
      copy[i] = copy[j];
      copy[j] = tmp;
    }
    return copy.slice(0, n);
  }

  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  /** Standard normal (Marsaglia polar method). */
  gauss(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = this.next() * 2 - 1;
      v = this.next() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * m;
    return u * m;
  }

  normal(mu: number, sigma: number): number {
    return mu + sigma * this.gauss();
  }

  /** Log-normal with the given median and log-space sigma. */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.gauss());
  }

  exp(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 40) return Math.max(0, Math.round(this.normal(lambda, Math.sqrt(lambda))));
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= this.next();
    } while (p > l);
    return k - 1;
  }

  /** `n` random hex chars. */
  hex(n: number): string {
    let s = '';
    while (s.length < n) {
      const x = this.u32();
      s += HEX[x & 255] + HEX[(x >>> 8) & 255] + HEX[(x >>> 16) & 255] + HEX[x >>> 24];
    }
    return s.slice(0, n);
  }

  /** A v4-shaped UUID, like API Gateway's `$context.requestId`. */
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[this.u32() & 3]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** `n` chars of [a-z0-9], like an API Gateway API key id. */
  alnum(n: number): string {
    const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
    let s = '';
    for (let i = 0; i < n; i++) s += chars[this.u32() % 36];
    return s;
  }
}

/** Weighted choice with precomputed cumulative weights (hot path: one draw per request). */
export class Weighted<T> {
  readonly items: T[];
  private readonly cum: number[];
  private readonly total: number;

  constructor(entries: ReadonlyArray<readonly [T, number]>) {
    this.items = [];
    this.cum = [];
    let acc = 0;
    for (const [item, w] of entries) {
      if (w <= 0) continue;
      acc += w;
      this.items.push(item);
      this.cum.push(acc);
    }
    if (this.items.length === 0) throw new Error(`weighted choice needs a positive weight, got ${JSON.stringify(entries)}`);
    this.total = acc;
  }

  draw(rng: Rng): T {
    const x = rng.next() * this.total;
    const cum = this.cum;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo];
  }
}

/** A tiny seeded xorshift32 generator in [0, 1), for benchmarks and test fixtures that need a plain function. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}
