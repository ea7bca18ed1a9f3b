import type { Divergence, ProjectSummary, SessionView, ToolCallView, WorktreeView } from '@runledger/domain';

export type { Divergence, ProjectSummary, SessionView, ToolCallView, WorktreeView };

/**
 * A session snapshot as the page reads it: the domain's view plus fields other parts of the server add over time
 * (activity, health flags, resume mode, runtime exit), rendered when present and ignored when absent.
 */
export type SessionSnapshot = SessionView & {
  health?: string | string[] | Record<string, unknown>;
  resumeMode?: string;
  runtime: (NonNullable<SessionView['runtime']> & { exitCode?: number | null; signal?: string | null }) | null;
};

/** One event of a session's audit trail (`GET /sessions/:id/events`). */
export interface AuditEvent {
  revision: number;
  globalPosition: number;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown> & { recordedAt?: string; occurredAt?: string };
  hash: string;
  prevHash: string;
  eventId: string;
}

/** `GET /sessions/:id/state?at=N`. */
export interface StateAt {
  sessionId: string;
  revision: number;
  head: number;
  state: unknown;
  view: SessionSnapshot;
}

/** One stream's verdict of `GET /verify`. */
export interface VerifyResult {
  ok: boolean;
  streamId: string;
  events: number;
  brokenAt?: number;
  reason?: string;
}

/** `GET /health`. */
export interface Health {
  status: string;
  store: string;
  version: string;
  headPosition: number;
}

/** One event of the global feed (`GET /events`, SSE `data:`). */
export interface FeedEvent {
  globalPosition: number;
  streamId: string;
  revision: number;
  type: string;
  data: unknown;
}
