/**
 * The HTTP API's wire shapes (docs/ARCHITECTURE.md §5) that the api serves and both clients read (the CLI and the web
 * page): declared once here, imported by all three. Types only; imports nothing but the domain.
 */

/** Metadata of a stored event (docs/ARCHITECTURE.md §2): ISO-8601 `recordedAt` (set by the store), `occurredAt` for facts from elsewhere. */
export interface EventMetadataView {
  recordedAt?: string;
  occurredAt?: string;
  [key: string]: unknown;
}

/** One event of a session's audit trail (`GET /sessions/:id/events`): its envelope, revision, global position and chain hashes. */
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

/** One page of `GET /sessions/:id/events?from=&limit=`: the events and the revision to ask for next. */
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
