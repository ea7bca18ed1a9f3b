export * from './idempotency.schema';
export * from './idempotency-store';
