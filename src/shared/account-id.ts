/**
 * What an account id may be: ONE rule, used wherever an id enters distill-guard (ingest, the workflow input, the
 * control-table store, the operators' console), so an id that ingest accepts can always be escalated, suspended
 * and reinstated.
 *
 * The rule (`isValidAccountId`): a string of 1..256 UTF-16 code units, not `-` (API Gateway's "missing"), with no
 * control, zero-width, bidirectional-override or byte-order-mark characters, no lone surrogate (DynamoDB stores
 * UTF-8) and no leading or trailing white space (look-alikes an operator could not tell apart). Anything else is
 * allowed: identity-provider forms such as `auth0|abc` or `google-oauth2|123`, `/`, `+`, `#`, inner spaces,
 * non-ASCII.
 *
 * Where a valid id is used:
 * - DynamoDB keys (`A#<id>`, `ACCOUNT#<id>`, `ALLOW#<id>`, the `byHour` sort key): as is. DynamoDB accepts any
 *   UTF-8 key up to 2048 bytes (partition) / 1024 bytes (sort); 256 UTF-16 units are at most 768 UTF-8 bytes, and
 *   no code splits keys on `#`.
 * - Step Functions execution names (1..80 of `[A-Za-z0-9_-]`, ASCII for CloudWatch logging): `executionNamePart`,
 *   a reversible escape (`_` + two hex digits per UTF-8 byte of anything outside `[A-Za-z0-9-]`, `_` included).
 *   When the escaped id is longer than the room a name leaves, it is shortened to a readable prefix plus a SHA-256
 *   digest of the whole id (`_z` + 32 hex digits): never a bare truncation, so two ids never share a name.
 * - Event payloads, queue messages, workflow input, logs: as is (JSON).
 *
 * Plain TypeScript, no AWS import.
 */
import { createHash } from 'node:crypto';

/** Longest account id, in UTF-16 code units (what `String.length` counts). */
export const ACCOUNT_ID_MAX_CHARS = 256;

/**
 * Characters an id may not contain anywhere: C0/C1 controls, soft hyphen, Arabic letter mark, zero-width and
 * bidirectional formatting characters, line/paragraph separators, invisible operators, the BOM, and lone surrogates.
 */
const FORBIDDEN =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const EDGE_SPACE = /^\s|\s$/;

/** Why an id is not valid, or null when it is. For messages; ingest counts every rejection as `bad-account-id`. */
export function accountIdProblem(v: unknown): string | null {
  if (typeof v !== 'string') return `must be a string, got ${typeof v}`;
  if (v.length === 0) return 'must not be empty';
  if (v.length > ACCOUNT_ID_MAX_CHARS) return `must be at most ${ACCOUNT_ID_MAX_CHARS} characters, got ${v.length}`;
  if (v === '-') return 'must not be "-" (the access-log placeholder for a missing value)';
  if (FORBIDDEN.test(v)) return 'must not contain control, invisible or formatting characters, or lone surrogates';
  if (EDGE_SPACE.test(v)) return 'must not start or end with white space';
  return null;
}

/** The account-id rule (see the module comment). */
export function isValidAccountId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= ACCOUNT_ID_MAX_CHARS && v !== '-' && !FORBIDDEN.test(v) && !EDGE_SPACE.test(v);
}

/** The id, or an Error naming `what` and the offending value. */
export function assertAccountId(value: unknown, what = 'accountId'): string {
  const problem = accountIdProblem(value);
  if (problem !== null)
    throw new Error(
      `${what} ${problem}, got ${JSON.stringify(typeof value === 'string' && value.length > 300 ? value.slice(0, 300) + '...' : value)}`,
    );
  return value as string;
}

// ---------------------------------------------------------------------------------------------------------
// Execution-name-safe form.
// ---------------------------------------------------------------------------------------------------------

/** Room for the account part of a case id / execution name (80 minus the day, a hash and separators). */
export const EXECUTION_NAME_PART_MAX = 48;
const NAME_SAFE = /^[A-Za-z0-9-]$/;
const HEX = '0123456789abcdef';
/** Marks the shortened form: `_` followed by a non-hex letter never occurs in the escaped form. */
const DIGEST_MARK = '_z';
const DIGEST_HEX = 32;

/** Reversible escape into `[A-Za-z0-9_-]`: `_` + two lowercase hex digits per UTF-8 byte of any other character. */
export function escapeForName(id: string): string {
  let out = '';
  for (const ch of id) {
    if (NAME_SAFE.test(ch)) {
      out += ch;
      continue;
    }
    for (const b of Buffer.from(ch, 'utf8')) out += '_' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/** Inverse of `escapeForName`; null when `s` is not an escaped id (or is the shortened, digest form). */
export function unescapeName(s: string): string | null {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '_') {
      if (!NAME_SAFE.test(c)) return null;
      bytes.push(c.charCodeAt(0));
      continue;
    }
    const h = HEX.indexOf(s[i + 1] ?? 'x');
    const l = HEX.indexOf(s[i + 2] ?? 'x');
    if (h < 0 || l < 0) return null;
    bytes.push((h << 4) | l);
    i += 2;
  }
  const text = Buffer.from(bytes).toString('utf8');
  // Invalid UTF-8 would decode to U+FFFD: only accept what re-encodes to the same name.
  return escapeForName(text) === s ? text : null;
}

/**
 * The account part of a Step Functions execution name (`[A-Za-z0-9_-]`, at most `max` characters): the reversible
 * escape when it fits, else a readable prefix of it plus `_z` and 32 hex digits (128 bits) of SHA-256 of the whole
 * id. Distinct ids always give distinct parts (the escape is injective, and a digest form never equals an escape).
 */
export function executionNamePart(id: string, max = EXECUTION_NAME_PART_MAX): string {
  const escaped = escapeForName(id);
  if (escaped.length <= max) return escaped;
  const room = max - DIGEST_MARK.length - DIGEST_HEX;
  if (room < 0) throw new Error(`execution name part needs at least ${DIGEST_MARK.length + DIGEST_HEX} characters, got ${max}`);
  // Cut at an escape boundary, so the prefix reads as the start of the id.
  let cut = 0;
  while (cut < escaped.length) {
    const step = escaped[cut] === '_' ? 3 : 1;
    if (cut + step > room) break;
    cut += step;
  }
  const digest = createHash('sha256').update(id, 'utf8').digest('hex').slice(0, DIGEST_HEX);
  return escaped.slice(0, cut) + DIGEST_MARK + digest;
}
