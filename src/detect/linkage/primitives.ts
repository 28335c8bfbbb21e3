/**
 * Small numeric building blocks of linkage: integer hashes, the rarity weight, union-find, MinHash signatures,
 * sorted bucket arrays and the phi correlation. Pure functions over numbers and typed arrays, no linkage state, so
 * each can be tested (and reused by other modules) on its own.
 */

/** 32-bit finaliser (MurmurHash3 fmix32): a fast, well-mixed integer hash. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export { fnv1a } from '../../shared/hash';

/** IDF-like rarity weight of an attribute held by df accounts: 1 for df <= 2, 0 at df >= K. */
export function rarityWeight(df: number, k: number): number {
  if (df <= 2) return 1;
  if (df >= k) return 0;
  return Math.log(k / df) / Math.log(k / 2);
}

/** Union-find over 0..n-1 with path halving; the smaller root wins, so roots do not depend on union order. */
export class UnionFind {
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
  /** Every element back in its own set. */
  reset(): void {
    this.parent.forEach((_, i) => (this.parent[i] = i));
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
