/** Local physical names (deterministic from the logical id), ARN parsing, and the coercions for template values. */

/** FNV-1a of a string, as 8 hex digits. */
export function shortHash(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** A deterministic local physical name for a logical id, clipped to a service's length limit. */
export function localName(stackName: string, logicalId: string, maxLen = 128): string {
  const raw = `${stackName}-${logicalId}`.replace(/[^A-Za-z0-9_.-]/g, '-');
  if (raw.length <= maxLen) return raw;
  const h = shortHash(raw);
  return `${raw.slice(0, maxLen - 9)}-${h}`;
}

/** A local bucket name: S3's rules (3-63 characters, lowercase letters, digits, '-' and '.'), kept unique with a hash. */
export function bucketName(stackName: string, logicalId: string): string {
  const raw = `${stackName}-${logicalId}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-');
  const h = shortHash(`${stackName}/${logicalId}`);
  return `${raw.slice(0, 63 - 9).replace(/-+$/, '')}-${h}`;
}

export const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));
export const num = (v: unknown): number | undefined => (v === undefined || v === null || v === '' ? undefined : Number(v));
export const bool = (v: unknown, dflt: boolean): boolean => (v === undefined || v === null ? dflt : v === true || v === 'true');

/** Parses an ARN into its parts (resource = everything after the 5th colon). */
export function parseArn(arn: string): { partition: string; service: string; region: string; account: string; resource: string } {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') throw new Error(`not an arn: ${arn}`);
  return { partition: parts[1], service: parts[2], region: parts[3], account: parts[4], resource: parts.slice(5).join(':') };
}
