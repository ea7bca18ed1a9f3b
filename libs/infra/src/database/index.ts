export * from './sql-database';
export * from './postgres-database';
export * from './pglite-database';
export * from './data-directory-lock';
export * from './migrations';
export * from './open-database';
export * from './database-unavailable';
