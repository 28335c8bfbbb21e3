/**
 * STIX 2.1 patterning: a recursive-descent parser of the grammar (oasis-open/cti-stix2-json-schemas
 * pattern_grammar/STIXPattern.g4), used to check every pattern we export and to read the comparisons out of a
 * partner's patterns. Hand-written: the maintained parsers are Python (stix2-patterns); this grammar is small.
 * Observation and qualifier syntax is checked in full; the comparisons are returned for matching.
 */

export interface Comparison {
  objectType: string;
  /** Property path after the object type, e.g. `extensions.'http-request-ext'.request_header.'User-Agent'`. */
  path: string;
  op: string;
  negated: boolean;
  /** String, number or boolean value; a set (`IN`) gives an array. */
  value: string | number | boolean | (string | number | boolean)[];
}

const OPS = ['>=', '<=', '!=', '=', '>', '<'];
const WORD_OPS = ['LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET', 'IN'];

class Parser {
  private i = 0;
  readonly comparisons: Comparison[] = [];
  constructor(private readonly s: string) {}

  fail(what: string): never {
    throw new Error(`invalid stix pattern: ${what} at offset ${this.i} in ${JSON.stringify(this.s)}`);
  }
  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }
  peekWord(): string {
    this.ws();
    const m = /^[A-Za-z_]+/.exec(this.s.slice(this.i));
    return m ? m[0] : '';
  }
  word(w: string): boolean {
    if (this.peekWord() === w) {
      this.i += w.length;
      return true;
    }
    return false;
  }
  char(c: string): boolean {
    this.ws();
    if (this.s[this.i] === c) {
      this.i++;
      return true;
    }
    return false;
  }
  expect(c: string): void {
    if (!this.char(c)) this.fail(`expected '${c}'`);
  }

  pattern(): void {
    this.observationExpressions();
    this.ws();
    if (this.i !== this.s.length) this.fail('unexpected trailing text');
  }
  observationExpressions(): void {
    this.observation();
    while (this.word('AND') || this.word('OR') || this.word('FOLLOWEDBY')) this.observation();
  }
  observation(): void {
    if (this.char('[')) {
      const types = this.comparisonOr();
      this.expect(']');
      if (types.size === 0) this.fail('empty observation');
    } else if (this.char('(')) {
      this.observationExpressions();
      this.expect(')');
    } else this.fail("expected '[' or '('");
    this.qualifiers();
  }
  qualifiers(): void {
    for (;;) {
      if (this.word('WITHIN')) {
        this.number();
        if (!this.word('SECONDS')) this.fail('expected SECONDS');
      } else if (this.word('REPEATS')) {
        this.number();
        if (!this.word('TIMES')) this.fail('expected TIMES');
      } else if (this.word('START')) {
        this.timestamp();
        if (!this.word('STOP')) this.fail('expected STOP');
        this.timestamp();
      } else return;
    }
  }
  /** OR of ANDs; returns the object types referenced. Operands of AND must share one object type. */
  comparisonOr(): Set<string> {
    const types = this.comparisonAnd();
    while (this.word('OR')) for (const t of this.comparisonAnd()) types.add(t);
    return types;
  }
  comparisonAnd(): Set<string> {
    const types = this.comparisonTerm();
    while (this.word('AND')) {
      for (const t of this.comparisonTerm()) types.add(t);
      if (types.size > 1) this.fail(`comparisons joined by AND reference different object types (${[...types].join(', ')})`);
    }
    return types;
  }
  comparisonTerm(): Set<string> {
    if (this.char('(')) {
      const t = this.comparisonOr();
      this.expect(')');
      return t;
    }
    const { objectType, path } = this.objectPath();
    const negated = this.word('NOT');
    this.ws();
    let op = OPS.find((o) => this.s.startsWith(o, this.i));
    if (op) this.i += op.length;
    else {
      op = WORD_OPS.find((o) => this.word(o));
      if (!op) this.fail('expected a comparison operator');
    }
    const value = op === 'IN' ? this.set() : this.literal();
    this.comparisons.push({ objectType, path, op, negated, value });
    return new Set([objectType]);
  }
  objectPath(): { objectType: string; path: string } {
    this.ws();
    const m = /^[a-z][a-z0-9-]*[a-z0-9]:/.exec(this.s.slice(this.i));
    if (!m) this.fail('expected an object type');
    const objectType = m[0].slice(0, -1);
    this.i += m[0].length;
    const parts: string[] = [this.component()];
    for (;;) {
      if (this.s[this.i] === '.') {
        this.i++;
        parts.push(this.component());
      } else if (this.s[this.i] === '[') {
        const idx = /^\[(\d+|\*)\]/.exec(this.s.slice(this.i));
        if (!idx) this.fail('expected a list index');
        parts[parts.length - 1] += idx[0];
        this.i += idx[0].length;
      } else break;
    }
    return { objectType, path: parts.join('.') };
  }
  component(): string {
    if (this.s[this.i] === "'") return `'${this.quoted()}'`;
    const m = /^[a-z0-9_-]+/i.exec(this.s.slice(this.i));
    if (!m) this.fail('expected a property name');
    this.i += m[0].length;
    return m[0];
  }
  quoted(): string {
    if (this.s[this.i] !== "'") this.fail('expected a quoted string');
    let out = '';
    for (this.i++; this.i < this.s.length; this.i++) {
      const c = this.s[this.i];
      if (c === '\\') {
        const n = this.s[++this.i];
        if (n !== "'" && n !== '\\') this.fail('invalid escape');
        out += n;
      } else if (c === "'") {
        this.i++;
        return out;
      } else out += c;
    }
    this.fail('unterminated string');
  }
  number(): number {
    this.ws();
    const m = /^[-+]?\d+(\.\d+)?/.exec(this.s.slice(this.i));
    if (!m) this.fail('expected a number');
    this.i += m[0].length;
    return Number(m[0]);
  }
  timestamp(): string {
    this.ws();
    if (this.s[this.i] !== 't') this.fail('expected a timestamp');
    this.i++;
    const t = this.quoted();
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(t)) this.fail(`invalid timestamp ${JSON.stringify(t)}`);
    return t;
  }
  literal(): string | number | boolean {
    this.ws();
    const c = this.s[this.i];
    if (c === "'") return this.quoted();
    if ((c === 't' || c === 'h' || c === 'b') && this.s[this.i + 1] === "'") {
      if (c === 't') return this.timestamp();
      this.i++;
      const v = this.quoted();
      if (c === 'h' && !/^([0-9a-fA-F]{2})*$/.test(v)) this.fail('invalid hex literal');
      if (c === 'b' && !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) this.fail('invalid binary literal');
      return v;
    }
    if (this.word('true')) return true;
    if (this.word('false')) return false;
    return this.number();
  }
  set(): (string | number | boolean)[] {
    this.expect('(');
    const out = [this.literal()];
    while (this.char(',')) out.push(this.literal());
    this.expect(')');
    return out;
  }
}

/** Parse a STIX pattern; throws on invalid syntax. Returns every comparison in it. */
export function parsePattern(pattern: string): Comparison[] {
  if (typeof pattern !== 'string' || pattern.length === 0) throw new Error(`stix pattern must be a non-empty string, got ${JSON.stringify(pattern)}`);
  const p = new Parser(pattern);
  p.pattern();
  return p.comparisons;
}

/** A string literal for a pattern: quotes and backslashes escaped. */
export function patternString(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
