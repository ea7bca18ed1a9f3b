import { SetMetadata } from '@nestjs/common';
import type { RouteAccess, UserRole } from '@runledger/domain';

/**
 * Who a request acts for (docs/ARCHITECTURE.md §8), set by the bearer guard: the bootstrap admin token, a person's
 * personal token (or their login cookie; `revision`: the `UserAdded` their token belongs to), or an agent's session credential.
 */
export type Principal = { kind: 'admin' } | { kind: 'user'; name: string; role: UserRole; revision: number } | { kind: 'session'; sessionId: string };

/** The role a principal acts with (an agent's credential has none: its routes are its scope). */
export const roleOf = (principal: Principal): UserRole | undefined => (principal.kind === 'admin' ? 'admin' : principal.kind === 'user' ? principal.role : undefined);

/** The `actor` of the events a principal's request appends: `user:admin`, `user:<name>` or `session:<id>`. */
export const actorOf = (principal: Principal): string =>
  principal.kind === 'admin' ? 'user:admin' : principal.kind === 'user' ? `user:${principal.name}` : `session:${principal.sessionId}`;

/** Metadata key of a route's declared access. */
export const ROUTE_ACCESS = 'runledger:route-access';

/**
 * Declares what a route needs when its method does not say it (docs/ARCHITECTURE.md §8): `admin` for managing people and
 * forgetting env values; `read` for a non-GET route that changes nothing (minting one's own login code).
 */
export const RequiresAccess = (access: RouteAccess) => SetMetadata(ROUTE_ACCESS, access);
