/**
 * The `@default` of every key of `DistillGuardConfig`, read from the stages' settings tables (lib/<stage>/settings.ts)
 * by lib/config.ts; re-exported here, where the stage defaults (lib/<stage>/defaults.ts) also live.
 */
export { DEFAULT_CONFIG } from './config';
