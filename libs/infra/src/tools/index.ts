export * from './builtin-tools';
