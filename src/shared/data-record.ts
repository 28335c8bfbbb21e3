/**
 * A record keyed by data (model names, prompt classes, minutes): no prototype, so `constructor`, `toString` or
 * `__proto__` are ordinary keys. With `{}`, `o['constructor']` is Object (so `o[k] ?? 0` is a function and a sum
 * becomes a string) and `o['__proto__'] = 1` is silently lost. It still serialises (JSON, DynamoDB marshalling with
 * `convertClassInstanceToMap`) like a plain object. Use a Map where nothing is serialised.
 */
export function dataRecord<T = number>(entries?: Iterable<readonly [string | number, T]>): Record<string, T> {
  const o = Object.create(null) as Record<string, T>;
  if (entries) for (const [k, v] of entries) o[k] = v;
  return o;
}
