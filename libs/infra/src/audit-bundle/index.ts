export * from './audit-bundle';
export * from './bundle-verifier';
export * from './ed25519-keys';
