export * from './private-files';
