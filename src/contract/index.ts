/**
 * The public formats (docs/contract.md) for code outside distill-guard: types generated from schemas/ and
 * validators. A consumer of ban events narrows on `detail-type` and gets a typed `detail`; a producer of access
 * logs or usage events checks what it writes with the same schemas the tests use.
 */
import type { AccountFlaggedEvent, AccountReinstatedEvent, AccountRestrictedEvent, AccountSuspendedEvent } from './types.generated';

export type * from './types.generated';
export { validateAccessLogRecord, validateUsageEvent, validateReplayReport, type ValidationResult } from './schemas';
export { validateEventBridgeEvent, validateBanEventDetail } from '../notify/schemas';

/** Any ban event as a consumer receives it (the EventBridge envelope); narrow on `detail-type`. */
export type BanEventMessage = AccountFlaggedEvent | AccountRestrictedEvent | AccountSuspendedEvent | AccountReinstatedEvent;

/** The detail of any ban event. */
export type BanEventMessageDetail = BanEventMessage['detail'];
