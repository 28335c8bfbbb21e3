export * from './ban-event';
export * from './schemas';
