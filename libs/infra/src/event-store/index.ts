export * from './event-store.port';
export * from './hash-chain';
export * from './checkpoint-store';
export * from './postgres/postgres-event-store';
export * from './postgres/event-store.schema';
export * from './postgres/event-store-v2.schema';
export * from './postgres/event-store-v3.schema';
