export * from './notification-outbox';
export * from './webhook-sender';
