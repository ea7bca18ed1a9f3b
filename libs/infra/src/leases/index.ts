export * from './leases.schema';
export * from './lease-store';
