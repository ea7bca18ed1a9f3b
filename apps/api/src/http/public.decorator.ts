import { SetMetadata } from '@nestjs/common';

/** Metadata key marking a route that needs no bearer token. */
export const IS_PUBLIC = 'runledger:public';
/** Marks a route as reachable without `Authorization` (only health). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Metadata key marking a route an agent's session credential may call, and where the route names its session. */
export const SESSION_SCOPED = 'runledger:session-scoped';
/** Where a session-scoped route names its session: the `:sessionId` path parameter, or the `X-Runledger-Session` header. */
export type SessionScope = { param: string } | { header: string };
/**
 * Marks a route an agent's session credential may call, for its own session only (invariant 16): the hook
 * route and the tool-call routes. Every other route takes the admin token only.
 */
export const SessionScoped = (scope: SessionScope) => SetMetadata(SESSION_SCOPED, scope);
