import type { AuditEvent, EventMetadataView, EventsPage, StateResponse, VerifyResult } from '@runledger/contracts';
import type { SessionView } from '@runledger/domain';
import type { ParsedTranscript } from '@runledger/infra/agents/claude-code/transcript-parser';

export type { AuditEvent, EventMetadataView, EventsPage, SessionView, StateResponse, VerifyResult };

/** `GET /sessions` answer. */
export interface SessionListResponse {
  sessions: SessionView[];
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
