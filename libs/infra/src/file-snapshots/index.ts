export * from './git-snapshot-store';
