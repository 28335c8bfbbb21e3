/**
 * Sharing a confirmed campaign's indicators with other providers (STIX 2.1), and reading theirs. Comes after
 * escalation in the data path: only clusters a reviewer approved, or whose suspension stood, are shared.
 * Plain TypeScript, no AWS imports (the scheduled exporter is lambdas/share).
 */
export * from './campaign';
export * from './confirmed';
export * from './pattern';
export * from './stix';
export * from './export';
export * from './event';
