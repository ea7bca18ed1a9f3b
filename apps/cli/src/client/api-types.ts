import type { SessionView } from '@runledger/domain';
import type { ParsedTranscript } from '@runledger/infra/claude-code/transcript-parser';

export type { SessionView };

/** `GET /sessions` answer. */
export interface SessionListResponse {
  sessions: SessionView[];
}

/** Metadata of a stored event (docs/ARCHITECTURE.md §2): ISO-8601 `recordedAt` (set by the store), `occurredAt` for facts from elsewhere. */
export interface EventMetadataView {
  recordedAt?: string;
  occurredAt?: string;
  [key: string]: unknown;
}

/** One event of a session's audit trail (`GET /sessions/:id/events`). */
export interface AuditEvent {
  revision: number;
  globalPosition: number;
  type: string;
  data: Record<string, unknown>;
  metadata: EventMetadataView;
  hash: string;
  prevHash: string;
  eventId: string;
}

/** One page of `GET /sessions/:id/events?from=&limit=`. */
export interface EventsPage {
  events: AuditEvent[];
  nextRevision: number;
}

/** `GET /sessions/:id/state?at=N`: the decider state right after event `revision`; `head` is the stream's last revision. */
export interface StateResponse {
  sessionId: string;
  revision: number;
  head: number;
  state: unknown;
}

/** One stream's verdict (`GET /verify`, and `verify --file`): `brokenAt` is the first bad revision. */
export interface VerifyResult {
  ok: boolean;
  streamId: string;
  events: number;
  brokenAt?: number;
  reason?: string;
}

/** `GET /verify` answer. */
export interface VerifyResponse {
  results: VerifyResult[];
}

/** `POST /projections/rebuild` answer: events replayed and the wall time (ms). */
export interface RebuildResponse {
  events: number;
  ms: number;
}

/** `GET /projections/status`: `done` of `total` events replayed while `rebuilding`. */
export interface ProjectionStatus {
  rebuilding: boolean;
  done: number;
  total: number;
}

/** Body of `POST /imports/claude-code`: the transcript parsed on the client, sub-agents apart. */
export interface ClaudeCodeImportRequest {
  projectId?: string;
  /** Absolute path of the main transcript. */
  transcriptPath: string;
  transcript: ParsedTranscript;
  subagents: { path: string; transcript: ParsedTranscript }[];
}

/** `POST /imports/claude-code` answer; counts are the main transcript's, sub-agent calls apart (docs/ARCHITECTURE.md §6). */
export interface ClaudeCodeImportResponse {
  sessionId: string;
  toolCalls: number;
  completed: number;
  failed: number;
  skippedLines: unknown;
  subagentToolCalls: number;
  appended?: number;
}
