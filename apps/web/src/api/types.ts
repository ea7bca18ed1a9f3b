import type { AuditEvent, StateResponse, VerifyResult } from '@runledger/contracts';
import type { Divergence, ProjectSummary, SessionCompleteness, SessionView, ToolCallView, WorktreeView } from '@runledger/domain';

export type { Divergence, ProjectSummary, SessionView, ToolCallView, WorktreeView };
export type { AuditEvent, VerifyResult };

/**
 * A session snapshot as the page reads it: the domain's view plus fields other parts of the server add over time
 * (activity, health flags, resume mode, runtime exit), rendered when present and ignored when absent.
 */
export type SessionSnapshot = SessionView & {
  health?: string | string[] | Record<string, unknown>;
  resumeMode?: string;
  /** Which source (hooks, transcript, telemetry) saw which call; on the single-session snapshot only (docs/ARCHITECTURE.md §4g). */
  completeness?: SessionCompleteness & { transcript: 'read' | 'unavailable' | 'none' };
  runtime: (NonNullable<SessionView['runtime']> & { exitCode?: number | null; signal?: string | null }) | null;
};

/** `GET /sessions/:id/state?at=N`. */
export interface StateAt extends StateResponse {
  view: SessionSnapshot;
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

/** One notification of `GET /notifications` (docs/ARCHITECTURE.md §4i): why a session needs a person, and its webhook deliveries. */
export interface NotificationView {
  notificationId: string;
  projectId: string;
  sessionId: string | null;
  kind: string;
  summary: string;
  raisedAt: string;
  deliveries: Array<{ url: string; status: string; attempts: unknown[] }>;
}
