/**
 * distill-guard traffic simulator: seeded, reproducible organic and campaign traffic in the formats of
 * docs/contract.md (access-log records and usage events). Plain TypeScript, no AWS imports.
 *
 *   import { simulate } from '../sim';
 *   const sim = simulate({ seed: 7, scale: 'small', variant: 'base' });
 *   for (const { log, usage } of sim.events()) { ... }   // time-ordered
 *   sim.labels  // ground truth: for the eval harness only, never for detection
 */
export { simulate, Simulation, clfTime, DEFAULT_START, GENERATOR } from './simulate';
export type { WriteSummary } from './simulate';
export * from './types';
export { DEFAULT_NEW_MODEL, MODELS } from './catalog';
export type { WorldParams } from './world';
