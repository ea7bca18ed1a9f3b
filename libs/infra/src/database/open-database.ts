import { PgliteDatabase } from './pglite-database';
import { PostgresDatabase } from './postgres-database';
import { SqlDatabase } from './sql-database';

/** Where the store lives: a PostgreSQL URL, or the embedded PGlite in a data directory (docs/ARCHITECTURE.md §1). */
export type DatabaseLocation = { databaseUrl: string } | { dataDir: string };

/** Opens PostgreSQL when `databaseUrl` is given, else the embedded PGlite (throws DataDirectoryLockedError if owned). */
export const openDatabase = async (location: DatabaseLocation): Promise<SqlDatabase> =>
  'databaseUrl' in location
    ? new PostgresDatabase({ connectionString: location.databaseUrl })
    : PgliteDatabase.open(location.dataDir);
