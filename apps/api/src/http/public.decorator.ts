import { SetMetadata } from '@nestjs/common';

/** Metadata key marking a route that needs no bearer token. */
export const IS_PUBLIC = 'runledger:public';
/** Marks a route as reachable without `Authorization` (only health). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Metadata key marking a route an agent's session credential may call, and where the route names its session. */
export const SESSION_SCOPED = 'runledger:session-scoped';
/**
 * Where a session-scoped route names its session: the `:sessionId` path parameter, or the `X-Runledger-Session` header;
 * `{ spawn: true }` marks the spawn route, which an orchestrator's credential may call to start its own workers.
 */
export type SessionScope = { param: string } | { header: string } | { spawn: true };

/** The session whose credential authenticated a request (set by the bearer guard; absent for the admin token). */
export interface CredentialSession {
  sessionId: string;
  projectId: string;
}
/**
 * Marks a route an agent's session credential may call, for its own session only (invariant 16): the hook
 * route and the tool-call routes; and the spawn route for an orchestrator's credential (the spawned session records it
 * as its parent). Every other route takes the admin token only.
 */
export const SessionScoped = (scope: SessionScope) => SetMetadata(SESSION_SCOPED, scope);
