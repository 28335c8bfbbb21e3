/**
 * The contract's field order as fixed by ../shared/CONTRACT.md: the access-log record (section 1) and the fields every
 * ban-event detail carries (section 4). Written out here, and deliberately not imported from src/, so the tests pin
 * the contract itself and catch the code drifting from it.
 */

// prettier-ignore
export const ACCESS_LOG_RECORD_FIELDS: readonly string[] = [
  'requestId', 'requestTimeEpoch', 'requestTime', 'accountId', 'apiKeyId', 'sourceIp', 'userAgent',
  'httpMethod', 'path', 'status', 'responseLength', 'integrationLatency', 'accountCreatedAt',
];

// prettier-ignore
export const BAN_EVENT_DETAIL_FIELDS: readonly string[] = [
  'schemaVersion', 'eventId', 'accountId', 'caseId', 'decidedBy',
  'reasons', 'score', 'clusterId', 'relatedAccountIds', 'decidedAt',
];
