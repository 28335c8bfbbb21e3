/**
 * Amazon EventBridge event-pattern matching (content filtering), for the local EventBridge endpoint.
 *
 * Hand-written: no maintained npm library implements EventBridge patterns (AWS's own matcher, aws/event-ruler, is
 * Java; the npm list has none, and serverless-offline-aws-eventbridge's internal matcher lacks $or, wildcard,
 * anything-but variants, equals-ignore-case and cidr). Semantics follow the AWS user guide pages "Creating event
 * patterns", "Content filtering in Amazon EventBridge event patterns", "Comparison operators" and "Event patterns
 * and arrays"; the tests in test/local/services/event-pattern.test.ts replay the documented examples.
 *
 * Semantics implemented:
 * - A pattern is an object; every key must match (AND). A key whose value is an object descends into the event
 *   (nested fields); a key whose value is an array is a leaf: the event value must match ANY element (OR).
 * - `$or: [p1, p2, ...]` matches when any sub-pattern matches at that level.
 * - Leaf matchers: exact string / number / boolean / null; `prefix` and `suffix` (optionally
 *   `{ "equals-ignore-case": ... }`), `equals-ignore-case`, `wildcard` (`*`, with `\*` and `\\` escapes),
 *   `anything-but` (value, list, `prefix`, `suffix`, `equals-ignore-case`, `wildcard`), `numeric` (one or two
 *   comparisons), `exists`, `cidr` (IPv4 and IPv6).
 * - If the event value is an array, the leaf matches when ANY element matches (arrays of objects are searched for
 *   nested fields the same way).
 * - A missing field matches only `{ "exists": false }`; `[null]` matches a present null, not a missing field.
 */

export type EventPattern = { [key: string]: unknown };

/** Thrown for a pattern EventBridge would reject with InvalidEventPatternException. */
export class InvalidEventPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventPatternException';
  }
}

const MISSING = Symbol('missing');
type Value = unknown | typeof MISSING;

/** Parse and validate a pattern given as JSON text or an object. Throws InvalidEventPatternError. */
export function parseEventPattern(pattern: string | EventPattern): EventPattern {
  let p: unknown = pattern;
  if (typeof pattern === 'string') {
    try {
      p = JSON.parse(pattern);
    } catch {
      throw new InvalidEventPatternError(`event pattern is not valid json: ${JSON.stringify(pattern.slice(0, 80))}`);
    }
  }
  validateObject(p, '');
  return p as EventPattern;
}

/** True when `event` (a full event envelope: source, detail-type, detail, ...) matches `pattern`. */
export function matchesEventPattern(pattern: string | EventPattern, event: unknown): boolean {
  const p = typeof pattern === 'string' ? parseEventPattern(pattern) : pattern;
  return matchObject(p, event);
}

// ---------------------------------------------------------------------------------------------------- validation

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validateObject(p: unknown, path: string): void {
  if (!isPlainObject(p)) throw new InvalidEventPatternError(`pattern${path ? ` at ${path}` : ''} must be a json object, got ${JSON.stringify(p)}`);
  if (Object.keys(p).length === 0 && path) throw new InvalidEventPatternError(`empty object at ${path}`);
  for (const [k, v] of Object.entries(p)) {
    const here = path ? `${path}.${k}` : k;
    if (k === '$or') {
      if (!Array.isArray(v) || v.length < 2)
        throw new InvalidEventPatternError(`$or at ${here} must be an array of at least two patterns, got ${JSON.stringify(v)}`);
      v.forEach((sub, i) => validateObject(sub, `${here}[${i}]`));
    } else if (Array.isArray(v)) {
      if (v.length === 0) throw new InvalidEventPatternError(`empty array at ${here}: a leaf needs at least one value`);
      v.forEach((m) => validateMatcher(m, here));
    } else if (isPlainObject(v)) {
      validateObject(v, here);
    } else {
      throw new InvalidEventPatternError(`value at ${here} must be an array or an object, got ${JSON.stringify(v)}`);
    }
  }
}

function isStringOrIgnoreCase(v: unknown): boolean {
  return typeof v === 'string' || (isPlainObject(v) && Object.keys(v).length === 1 && typeof v['equals-ignore-case'] === 'string');
}

function validateMatcher(m: unknown, path: string): void {
  if (m === null || typeof m === 'string' || typeof m === 'number' || typeof m === 'boolean') return;
  if (!isPlainObject(m)) throw new InvalidEventPatternError(`unsupported matcher at ${path}: ${JSON.stringify(m)}`);
  const keys = Object.keys(m);
  if (keys.length !== 1) throw new InvalidEventPatternError(`a matcher object must have exactly one operator at ${path}, got ${JSON.stringify(m)}`);
  const [op] = keys;
  const arg = m[op];
  const bad = (): never => {
    throw new InvalidEventPatternError(`invalid ${op} operand at ${path}: ${JSON.stringify(arg)}`);
  };
  switch (op) {
    case 'prefix':
    case 'suffix':
      if (!isStringOrIgnoreCase(arg)) bad();
      return;
    case 'equals-ignore-case':
    case 'wildcard':
      if (typeof arg !== 'string') bad();
      if (op === 'wildcard') compileWildcard(arg as string);
      return;
    case 'exists':
      if (typeof arg !== 'boolean') bad();
      return;
    case 'cidr':
      if (typeof arg !== 'string' || !parseCidr(arg)) bad();
      return;
    case 'numeric':
      parseNumeric(arg, path);
      return;
    case 'anything-but':
      if (typeof arg === 'string' || typeof arg === 'number') return;
      if (Array.isArray(arg)) {
        if (arg.length === 0 || !(arg.every((x) => typeof x === 'string') || arg.every((x) => typeof x === 'number'))) bad();
        return;
      }
      if (isPlainObject(arg) && Object.keys(arg).length === 1) {
        const [inner] = Object.keys(arg);
        const iv = arg[inner];
        if (inner === 'prefix' || inner === 'suffix') {
          if (typeof iv !== 'string') bad();
          return;
        }
        if (inner === 'equals-ignore-case' || inner === 'wildcard') {
          if (!(typeof iv === 'string' || (Array.isArray(iv) && iv.length > 0 && iv.every((x) => typeof x === 'string')))) bad();
          if (inner === 'wildcard') (Array.isArray(iv) ? iv : [iv]).forEach((w) => compileWildcard(w as string));
          return;
        }
      }
      return bad();
    default:
      throw new InvalidEventPatternError(`unknown operator ${JSON.stringify(op)} at ${path}`);
  }
}

// ------------------------------------------------------------------------------------------------------ matching

function matchObject(pattern: Record<string, unknown>, event: unknown): boolean {
  for (const [key, p] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(p as Record<string, unknown>[]).some((sub) => matchObject(sub, event))) return false;
      continue;
    }
    const value: Value = isPlainObject(event) && Object.prototype.hasOwnProperty.call(event, key) ? event[key] : MISSING;
    if (Array.isArray(p)) {
      if (!matchLeaf(p, value)) return false;
    } else {
      // nested pattern: the event value must be an object (or an array holding one that matches)
      // (patterns are matched on flattened paths, as in AWS's event-ruler: when the parent is missing, the nested
      // fields are missing too, so only `exists: false` leaves can match)
      const objects = (Array.isArray(value) ? value : [value]).filter(isPlainObject);
      if (!(objects.length ? objects : [{}]).some((c) => matchObject(p as Record<string, unknown>, c))) return false;
    }
  }
  return true;
}

function matchLeaf(matchers: unknown[], value: Value): boolean {
  if (value === MISSING) return matchers.some((m) => isPlainObject(m) && m.exists === false);
  // exists is about the field, not each element
  for (const m of matchers) {
    if (isPlainObject(m) && 'exists' in m) {
      const present = !isPlainObject(value) && !(Array.isArray(value) && value.length === 0);
      if (m.exists === present) return true;
    }
  }
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) => matchers.some((m) => !(isPlainObject(m) && 'exists' in m) && matchOne(m, v)));
}

function lower(s: string): string {
  return s.toLowerCase();
}

function stringTest(arg: unknown, v: string, test: (a: string, b: string) => boolean): boolean {
  if (typeof arg === 'string') return test(v, arg);
  const ic = (arg as Record<string, string>)['equals-ignore-case'];
  return test(lower(v), lower(ic));
}

function matchOne(m: unknown, v: unknown): boolean {
  if (m === null) return v === null;
  if (typeof m === 'string') return typeof v === 'string' && v === m;
  if (typeof m === 'number') return typeof v === 'number' && v === m;
  if (typeof m === 'boolean') return v === m;
  const o = m as Record<string, unknown>;
  const [op] = Object.keys(o);
  const arg = o[op];
  switch (op) {
    case 'prefix':
      return typeof v === 'string' && stringTest(arg, v, (a, b) => a.startsWith(b));
    case 'suffix':
      return typeof v === 'string' && stringTest(arg, v, (a, b) => a.endsWith(b));
    case 'equals-ignore-case':
      return typeof v === 'string' && lower(v) === lower(arg as string);
    case 'wildcard':
      return typeof v === 'string' && compileWildcard(arg as string).test(v);
    case 'numeric':
      return typeof v === 'number' && parseNumeric(arg, '').every(([cmp, n]) => compare(cmp, v, n));
    case 'cidr':
      return typeof v === 'string' && inCidr(arg as string, v);
    case 'anything-but':
      return anythingBut(arg, v);
    default:
      return false;
  }
}

function anythingBut(arg: unknown, v: unknown): boolean {
  if (v === null || isPlainObject(v)) return false;
  if (typeof arg === 'string' || typeof arg === 'number') return v !== arg;
  if (Array.isArray(arg)) return !arg.includes(v);
  const o = arg as Record<string, unknown>;
  const [inner] = Object.keys(o);
  const iv = o[inner];
  if (typeof v !== 'string') return true; // a number is never "a string starting with ..."
  switch (inner) {
    case 'prefix':
      return !v.startsWith(iv as string);
    case 'suffix':
      return !v.endsWith(iv as string);
    case 'equals-ignore-case':
      return !(Array.isArray(iv) ? iv : [iv]).some((s) => lower(s as string) === lower(v));
    case 'wildcard':
      return !(Array.isArray(iv) ? iv : [iv]).some((w) => compileWildcard(w as string).test(v));
    default:
      return false;
  }
}

// ------------------------------------------------------------------------------------------------------- numeric

type Cmp = '=' | '<' | '<=' | '>' | '>=';
const CMPS = new Set<Cmp>(['=', '<', '<=', '>', '>=']);

function parseNumeric(arg: unknown, path: string): Array<[Cmp, number]> {
  const bad = (why: string): never => {
    throw new InvalidEventPatternError(`invalid numeric operand at ${path}: ${why}: ${JSON.stringify(arg)}`);
  };
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0 || arg.length > 4) bad('expected [op, n] or [op, n, op, n]');
  const out: Array<[Cmp, number]> = [];
  for (let i = 0; i < (arg as unknown[]).length; i += 2) {
    const op = (arg as unknown[])[i];
    const n = (arg as unknown[])[i + 1];
    if (typeof op !== 'string' || !CMPS.has(op as Cmp)) bad(`unknown comparison ${JSON.stringify(op)}`);
    if (typeof n !== 'number' || !Number.isFinite(n)) bad(`not a number: ${JSON.stringify(n)}`);
    out.push([op as Cmp, n as number]);
  }
  if (out.length === 2) {
    const [a, b] = out;
    const lowerBound = (c: Cmp) => c === '>' || c === '>=';
    const upperBound = (c: Cmp) => c === '<' || c === '<=';
    if (!(lowerBound(a[0]) && upperBound(b[0])) && !(upperBound(a[0]) && lowerBound(b[0]))) bad('a range needs one lower and one upper bound');
  }
  return out;
}

function compare(cmp: Cmp, v: number, n: number): boolean {
  switch (cmp) {
    case '=':
      return v === n;
    case '<':
      return v < n;
    case '<=':
      return v <= n;
    case '>':
      return v > n;
    case '>=':
      return v >= n;
  }
}

// ------------------------------------------------------------------------------------------------------ wildcard

const wildcardCache = new Map<string, RegExp>();

function compileWildcard(w: string): RegExp {
  const cached = wildcardCache.get(w);
  if (cached) return cached;
  if (w.includes('**')) throw new InvalidEventPatternError(`wildcard may not contain consecutive '*': ${JSON.stringify(w)}`);
  let re = '^';
  for (let i = 0; i < w.length; i++) {
    const c = w[i];
    if (c === '\\') {
      const next = w[i + 1];
      if (next !== '*' && next !== '\\') throw new InvalidEventPatternError(`wildcard has an invalid escape at ${i}: ${JSON.stringify(w)}`);
      re += next === '*' ? '\\*' : '\\\\';
      i++;
    } else if (c === '*') {
      re += '[\\s\\S]*';
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  const compiled = new RegExp(re + '$');
  wildcardCache.set(w, compiled);
  return compiled;
}

// ---------------------------------------------------------------------------------------------------------- cidr

function parseIp(ip: string): { v: 4 | 6; n: bigint } | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
    const parts = ip.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { v: 4, n: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  }
  if (ip.includes(':') && /^[0-9a-fA-F:.]+$/.test(ip)) {
    const halves = ip.split('::');
    if (halves.length > 2) return undefined;
    const groups = (s: string): string[] => (s ? s.split(':') : []);
    const head = groups(halves[0]);
    const tail = halves.length === 2 ? groups(halves[1]) : [];
    const missing = 8 - head.length - tail.length;
    if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
    const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
    if (all.length !== 8 || all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
    return { v: 6, n: all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
  }
  return undefined;
}

function parseCidr(cidr: string): { v: 4 | 6; net: bigint; bits: number } | undefined {
  const [ip, len] = cidr.split('/');
  const parsed = parseIp(ip);
  if (!parsed) return undefined;
  const width = parsed.v === 4 ? 32 : 128;
  const bits = len === undefined ? width : Number(len);
  if (!Number.isInteger(bits) || bits < 0 || bits > width) return undefined;
  const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
  return { v: parsed.v, net: parsed.n & mask, bits };
}

function inCidr(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const p = parseIp(ip);
  if (!c || !p || c.v !== p.v) return false;
  const width = c.v === 4 ? 32 : 128;
  const mask = c.bits === 0 ? 0n : ((1n << BigInt(c.bits)) - 1n) << BigInt(width - c.bits);
  return (p.n & mask) === c.net;
}
