/**
 * Layout of the linkage bucket (the sharded linkage's records, lib/detect/sharded-linkage.ts): read by the construct
 * (lifecycle rule, IAM grants scoped to the prefix) and by the handlers that write and read the records.
 */

/** Every run's objects live under `runs/<execution name>/`. */
export const LINKAGE_RUN_PREFIX = 'runs/';

/** Below a run's prefix: the account order the scorer sharded, for the finishing invocation. */
export const LINKAGE_ACCOUNTS_KEY = 'scorer/accounts.json';
