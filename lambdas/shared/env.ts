/**
 * Reading a handler's environment (set by the constructs, docs/DESIGN.md "Handler environment"). A missing
 * setting or a number out of range fails the invocation at once with the value received, rather than
 * surfacing later as an odd DynamoDB or SQS error.
 */

/** A required setting; throws when it is unset or empty. */
export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set (got ${JSON.stringify(v)})`);
  return v;
}

/**
 * A numeric setting in `min..max` (bounds included), or `fallback` when the variable is absent. An empty or
 * non-numeric value is not absent: it is checked like any other (`Number('')` is 0).
 */
export function envNumber(name: string, min: number, max: number, fallback?: number): number {
  const raw = process.env[name];
  const v = raw === undefined ? fallback : Number(raw);
  if (v === undefined || !(v >= min && v <= max)) {
    const range = max === Infinity ? `>= ${min}` : `in ${min}..${max}`;
    throw new Error(`${name} must be a number ${range}, got ${JSON.stringify(raw)}`);
  }
  return v;
}
