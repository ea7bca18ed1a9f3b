export * from './secret-cipher';
export * from './secret-key';
export * from './secret-vault';
export * from './secrets.schema';
