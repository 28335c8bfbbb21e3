export * from './prices';
export * from './model';
export * from './record';
export * from './format';
