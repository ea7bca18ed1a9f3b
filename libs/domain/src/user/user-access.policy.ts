import type { UserRole } from './user.events';

/** What a route needs (docs/ARCHITECTURE.md §8): `read` changes nothing, `write` changes state, `admin` manages people or forgets secrets. */
export type RouteAccess = 'read' | 'write' | 'admin';

const RANK: Readonly<Record<UserRole, number>> = { reader: 0, writer: 1, admin: 2 };
const NEEDS: Readonly<Record<RouteAccess, number>> = { read: 0, write: 1, admin: 2 };

/** True when `role` may call a route needing `access`: a reader reads, a writer also writes, an admin does everything. */
export const mayAccess = (role: UserRole, access: RouteAccess): boolean => RANK[role] >= NEEDS[access];

/** The access a route needs: its declared access, else `read` for GET and HEAD and `write` for any other method. */
export const routeAccess = (method: string, declared: RouteAccess | undefined): RouteAccess =>
  declared ?? (method === 'GET' || method === 'HEAD' ? 'read' : 'write');
