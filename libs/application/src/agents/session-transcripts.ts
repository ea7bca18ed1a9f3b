import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DomainError, RemoteOrigin } from '@runledger/domain';
import { ShippedChunk, TranscriptArchive } from '@runledger/infra/agents/claude-code/transcript-archive';
import { RunledgerConfig } from '@runledger/infra/config';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { SessionStreams } from '../sessions/session-streams';

/** A session's archived transcript file, ready to stream: its path in the archive and the original it copies. */
export interface ArchivedTranscript {
  file: string;
  original: string;
}

/** What sourceOf needs of a session: its id, its linked transcript, and whether it is remote (docs/ARCHITECTURE.md §4f). */
export interface TranscriptOwner {
  sessionId: string;
  transcriptPath?: string;
  remote?: RemoteOrigin;
}

/**
 * Where this server reads one session's transcript (docs/ARCHITECTURE.md §4a, §4f): the port every reader goes through
 * (reconcile, hooks, the archive route), so no reader asks whether the agent runs here. `local`: the original on this
 * machine, copied into the archive, the copy read once the original is gone. `shipped` (a remote session): the archive
 * copy only, fed by `PUT /hooks/:agent/transcript`; the original's path names a file on another machine and is never
 * opened.
 */
export interface TranscriptSource {
  readonly kind: 'local' | 'shipped';
  /** The main transcript file to parse now, or null when there is none yet. */
  file(): string | null;
  /** Brings the archive up to date with the original now (a shipped transcript: nothing to do); rejects on an I/O error. */
  capture(): Promise<void>;
  /** Schedules a capture off the caller's path (the hook path); a failure is logged, never thrown. */
  captureSoon(): void;
}

/** The answer to one shipped chunk: the session it belongs to, and the copy's length after it (where the next chunk starts). */
export interface ShippedTranscript {
  sessionId: string;
  file: string;
  offset: number;
  length: number;
  appended: number;
}

/** The refusal of a shipped chunk the archive did not take: TRANSCRIPT.OFFSET (a gap) or TRANSCRIPT.MISMATCH (a held byte differs), 409 naming where to resume. */
const shippingRefusal = (chunk: Exclude<ShippedChunk, { outcome: 'appended' }>, offset: number, file: string): DomainError =>
  chunk.outcome === 'gap'
    ? new DomainError('TRANSCRIPT.OFFSET', 'conflict', `offset ${offset} is past the ${chunk.length} bytes held of ${file}: send from offset ${chunk.length}`, { field: 'offset', expectedOffset: chunk.length })
    : new DomainError('TRANSCRIPT.MISMATCH', 'conflict', `byte ${chunk.at} of ${file} differs from the byte held: a transcript is append-only, nothing was written`, { field: 'body', at: chunk.at, expectedOffset: chunk.length });

/**
 * The transcript archive of runledger's Claude Code sessions (docs/ARCHITECTURE.md §4a): a byte-exact copy of each
 * session's transcript and its sub-agents' under `<dataDir>/transcripts/<session id>/`, kept after Claude Code's
 * retention sweep deletes the originals. Captured after hooks (in the background, never on the PreToolUse path), at
 * reconcile (so at the session's end too) and before an export; a remote session's arrives shipped (ship). Readers go
 * through sourceOf.
 */
@Injectable()
export class SessionTranscripts {
  private readonly logger = new Logger('SessionTranscripts');
  /** The archive adapter (its root is `<dataDir>/transcripts`). */
  readonly archive: TranscriptArchive;
  /** Per session: the capture running now, and whether another was asked for while it ran. */
  private readonly pending = new Map<string, { running: Promise<void>; again: boolean }>();

  constructor(@Inject(RUNLEDGER_CONFIG) config: RunledgerConfig, private readonly sessions: SessionStreams) {
    this.archive = new TranscriptArchive(path.join(config.dataDir, 'transcripts'));
  }

  /**
   * The source of `session`'s transcript (TranscriptSource): `shipped` for a remote session, else `local`; null when no
   * transcript is linked. `archived: false` (an agent whose record is not an append-only file): the original, never copied.
   */
  sourceOf(session: TranscriptOwner, archived = true): TranscriptSource | null {
    const original = session.transcriptPath;
    if (!original) return null;
    const copy = this.archive.mainCopy(session.sessionId, original);
    if (session.remote) {
      return { kind: 'shipped', file: () => (archived && existsSync(copy) ? copy : null), capture: async () => undefined, captureSoon: () => undefined };
    }
    return {
      kind: 'local',
      file: () => (existsSync(original) ? original : archived && existsSync(copy) ? copy : null),
      capture: async () => (archived && existsSync(original) ? this.capture(session.sessionId, original) : undefined),
      captureSoon: () => (archived ? this.captureSoon(session.sessionId, original) : undefined),
    };
  }

  /**
   * Appends a chunk of a remote session's transcript (docs/ARCHITECTURE.md §4f), read by the shipper at byte `offset` of
   * the main transcript or of sub-agent transcript `subagent` (a file name), to the archive copy at its current length
   * (TranscriptArchive.append: bytes already held checked equal and skipped). Throws TRANSCRIPT.NOT_SHIPPED (409: the
   * session reads its transcript from this machine), TRANSCRIPT.NOT_FOUND (404: no transcript linked yet),
   * TRANSCRIPT.INVALID (400 naming `subagent`), TRANSCRIPT.OFFSET (409: a gap; `expectedOffset` says where to resume)
   * and TRANSCRIPT.MISMATCH (409: a held byte differs).
   */
  async ship(session: TranscriptOwner, offset: number, bytes: Buffer, subagent?: string): Promise<ShippedTranscript> {
    if (!session.remote) {
      throw new DomainError('TRANSCRIPT.NOT_SHIPPED', 'conflict', `session ${session.sessionId} is not remote: runledger reads its transcript from this machine`, { sessionId: session.sessionId });
    }
    const original = session.transcriptPath;
    if (!original) throw new DomainError('TRANSCRIPT.NOT_FOUND', 'not_found', `session ${session.sessionId} has no transcript linked yet: its hooks link it`, { sessionId: session.sessionId });
    const copy = this.copyOf(session.sessionId, original, subagent);
    const chunk = await this.archive.append(copy, offset, bytes);
    if (chunk.outcome !== 'appended') throw shippingRefusal(chunk, offset, path.basename(copy));
    return { sessionId: session.sessionId, file: subagent ?? path.basename(original), offset, length: chunk.length, appended: chunk.appended };
  }

  /** When bytes of a remote session's main transcript were last shipped (ms since the epoch, the copy's mtime), or undefined. */
  lastShippedAt(session: TranscriptOwner): number | undefined {
    if (!session.remote || !session.transcriptPath) return undefined;
    try {
      return statSync(this.archive.mainCopy(session.sessionId, session.transcriptPath)).mtimeMs;
    } catch {
      return undefined; // nothing shipped yet
    }
  }

  /** The archive copy of the main transcript, or of sub-agent `subagent`; throws TRANSCRIPT.INVALID (400, naming `subagent`). */
  private copyOf(sessionId: string, original: string, subagent: string | undefined): string {
    if (subagent !== undefined && (subagent !== path.basename(subagent) || !subagent.endsWith('.jsonl') || subagent === '.jsonl')) {
      throw new DomainError('TRANSCRIPT.INVALID', 'invalid', 'subagent must be a sub-agent transcript file name (agent-….jsonl)', { field: 'subagent' });
    }
    return subagent === undefined ? this.archive.mainCopy(sessionId, original) : this.archive.subagentCopy(sessionId, original, subagent);
  }

  /** Copies what is new in `transcriptPath` (and its sub-agents) now; rejects on an I/O error. */
  async capture(sessionId: string, transcriptPath: string): Promise<void> {
    await this.archive.capture(sessionId, transcriptPath);
  }

  /**
   * Schedules a capture without waiting for it (the hook path): requests that arrive while one runs for the session
   * coalesce into one more run. A failure is logged, never thrown.
   */
  captureSoon(sessionId: string, transcriptPath: string): void {
    const current = this.pending.get(sessionId);
    if (current) {
      current.again = true;
      return;
    }
    const entry = { running: Promise.resolve(), again: false };
    const loop = async (): Promise<void> => {
      do {
        entry.again = false;
        await this.capture(sessionId, transcriptPath).catch((error: Error) => this.logger.warn(`${sessionId}: transcript capture failed: ${error.message}`));
      } while (entry.again);
    };
    entry.running = new Promise<void>((resolve) => setImmediate(resolve)).then(loop).finally(() => this.pending.delete(sessionId));
    this.pending.set(sessionId, entry);
  }

  /** Resolves when the background captures scheduled so far have run (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending.values()].map((p) => p.running));
  }

  /**
   * The archived main transcript of `sessionId`, or the sub-agent transcript `subagent` (a file name such as
   * `agent-….jsonl`) beside it, captured first when the original is still on disk. Throws SESSION.NOT_FOUND (404),
   * TRANSCRIPT.INVALID (400, naming `subagent`) and TRANSCRIPT.NOT_FOUND (404: no transcript linked or archived).
   */
  async archived(sessionId: string, subagent?: string): Promise<ArchivedTranscript> {
    const { state } = await this.sessions.load(sessionId);
    const original = state.transcriptPath;
    if (!original) throw new DomainError('TRANSCRIPT.NOT_FOUND', 'not_found', `session ${sessionId} has no Claude Code transcript`, { sessionId });
    const file = this.copyOf(sessionId, original, subagent);
    await this.sourceOf(state)?.capture();
    if (!existsSync(file)) {
      throw new DomainError('TRANSCRIPT.NOT_FOUND', 'not_found', `no archived transcript ${subagent ?? path.basename(original)} for session ${sessionId}`, { sessionId });
    }
    return { file, original: subagent === undefined ? original : path.join(path.dirname(original), path.basename(original, '.jsonl'), 'subagents', subagent) };
  }
}
