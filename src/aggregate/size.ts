/**
 * DynamoDB item size, as DynamoDB bills it (write units are ceil(size / 1 KB) of the larger of the item before and
 * after the write; read units per 4 KB). Rules from the DynamoDB developer guide, "Item sizes and formats":
 * attribute names count their UTF-8 bytes; strings their UTF-8 bytes; numbers ~1 byte per two significant digits
 * plus 1; binary its bytes; sets the sum of their elements; lists and maps 3 bytes plus 1 per element; null and
 * booleans 1 byte. Plain TypeScript (wire-shape attribute values), used by the benchmark and the tests.
 */

function numberBytes(n: string): number {
  // Significant digits: drop sign, decimal point, exponent, leading and trailing zeros.
  let digits = n
    .replace(/^[-+]/, '')
    .replace(/[eE][-+]?\d+$/, '')
    .replace('.', '');
  digits = digits.replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** Size of one attribute value (wire shape `{ S }`, `{ N }`, `{ SS }`, ...), in bytes. */
export function valueSizeBytes(v: unknown): number {
  if (!v || typeof v !== 'object') return 0;
  const a = v as Record<string, unknown>;
  if (typeof a.S === 'string') return Buffer.byteLength(a.S, 'utf8');
  if (typeof a.N === 'string') return numberBytes(a.N);
  if (a.B instanceof Uint8Array) return a.B.byteLength;
  if (typeof a.B === 'string') return Buffer.byteLength(a.B, 'base64');
  if (Array.isArray(a.SS)) return (a.SS as string[]).reduce((s, x) => s + Buffer.byteLength(x, 'utf8'), 0);
  if (Array.isArray(a.NS)) return (a.NS as string[]).reduce((s, x) => s + numberBytes(x), 0);
  if (Array.isArray(a.BS)) return (a.BS as Uint8Array[]).reduce((s, x) => s + x.byteLength, 0);
  if (a.NULL !== undefined || a.BOOL !== undefined) return 1;
  if (Array.isArray(a.L)) return 3 + (a.L as unknown[]).reduce<number>((s, x) => s + 1 + valueSizeBytes(x), 0);
  if (a.M && typeof a.M === 'object') {
    let s = 3;
    for (const [k, x] of Object.entries(a.M as Record<string, unknown>)) s += 1 + Buffer.byteLength(k, 'utf8') + valueSizeBytes(x);
    return s;
  }
  return 0;
}

/** Size of one attribute: name plus value. */
export function attributeSizeBytes(name: string, v: unknown): number {
  return Buffer.byteLength(name, 'utf8') + valueSizeBytes(v);
}

/** Size of a whole item, in bytes. */
export function itemSizeBytes(item: Record<string, unknown>): number {
  let s = 0;
  for (const k in item) s += attributeSizeBytes(k, item[k]);
  return s;
}
