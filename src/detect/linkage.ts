/**
 * Cross-account linkage: which accounts are run by the same operator. The implementation is split by phase under
 * ./linkage/ (see ./linkage/index.ts for the method and the phase map); this module keeps the public import path.
 */
export * from './linkage/index';
