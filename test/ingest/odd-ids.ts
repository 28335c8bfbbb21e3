/** Odd account ids the tests use (test/ingest/account-id.test.ts, test/aggregate/hardening.test.ts, test/escalate/account-ids.test.ts). */
import { ACCOUNT_ID_MAX_CHARS } from '../../src/shared/account-id';

/** Ids real identity providers and billing systems hand out, and the awkward characters the issue lists. */
export const ODD_IDS: string[] = [
  'auth0|abc123', // `|`
  'google-oauth2|104857600123456789012',
  'org/team-a/user', // `/`
  'user+tag', // `+`
  'acct#42', // `#`
  'Jane Doe account', // inner spaces
  'a'.repeat(128), // at the old limit
  'long-' + 'x'.repeat(140), // 128+
  'y'.repeat(ACCOUNT_ID_MAX_CHARS), // the longest
  'kunde-müller', // non-ASCII (Latin-1)
  '顧客-東京-42', // non-ASCII (CJK)
  'fox-🦊', // astral plane (a surrogate pair)
  'acct_weird_name', // `_` (escaped in names)
  'acct:weird@name',
  '../etc', // data, never a path
  'x', // the shortest
];
