import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DomainError } from '@runledger/domain';
import { TranscriptArchive } from '@runledger/infra/agents/claude-code/transcript-archive';
import { RunledgerConfig } from '@runledger/infra/config';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { SessionStreams } from '../sessions/session-streams';

/** A session's archived transcript file, ready to stream: its path in the archive and the original it copies. */
export interface ArchivedTranscript {
  file: string;
  original: string;
}

/**
 * The transcript archive of runledger's Claude Code sessions (docs/ARCHITECTURE.md §4a): a byte-exact copy of each
 * session's transcript and its sub-agents' under `<dataDir>/transcripts/<session id>/`, kept after Claude Code's
 * retention sweep deletes the originals. Captured after hooks (in the background, never on the PreToolUse path), at
 * reconcile (so at the session's end too) and before an export.
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
    if (subagent !== undefined && (subagent !== path.basename(subagent) || !subagent.endsWith('.jsonl'))) {
      throw new DomainError('TRANSCRIPT.INVALID', 'invalid', 'subagent must be a sub-agent transcript file name (agent-….jsonl)', { field: 'subagent' });
    }
    if (existsSync(original)) await this.capture(sessionId, original);
    const file = subagent === undefined ? this.archive.mainCopy(sessionId, original) : this.archive.subagentCopy(sessionId, original, subagent);
    if (!existsSync(file)) {
      throw new DomainError('TRANSCRIPT.NOT_FOUND', 'not_found', `no archived transcript ${subagent ?? path.basename(original)} for session ${sessionId}`, { sessionId });
    }
    return { file, original: subagent === undefined ? original : path.join(path.dirname(original), path.basename(original, '.jsonl'), 'subagents', subagent) };
  }
}
