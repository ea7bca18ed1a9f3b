export * from './usage.events';
export * from './price-table';
export * from './usage.view';
