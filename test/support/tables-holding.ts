import type { SqlDatabase } from '@runledger/infra/database';

/** Rows of every table of the public schema whose text holds `needle`, as `table: count` (a secret or token stored in clear anywhere shows here). */
export const tablesHolding = async (db: SqlDatabase, needle: string): Promise<Record<string, number>> => {
  const { rows: tables } = await db.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
  const found: Record<string, number> = {};
  for (const { table_name } of tables) {
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table_name}" t WHERE strpos(t::text, $1) > 0`, [needle]);
    if (rows[0].n > 0) found[table_name] = rows[0].n;
  }
  return found;
};
