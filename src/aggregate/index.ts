export * from './window';
export * from './accumulator';
export * from './batch';
export * from './store';
export * from './replay';
export * from './item';
export * from './update';
export * from './dedupe';
