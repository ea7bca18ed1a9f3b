import { existsSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import {
  agentCapabilities,
  CallSource,
  isCodingAgent,
  recordingAgent,
  sessionCompleteness,
  SessionCompleteness,
  sessionStreamName,
} from '@runledger/domain';
import { EventStore } from '@runledger/infra/event-store';
import { EVENT_STORE } from '@runledger/infra/tokens';
import { AgentAdapters } from '../agents/agent-adapters';
import { SessionStreams } from '../sessions/session-streams';

/** Completeness of a session with where its transcript came from: `read` (the file now), `unavailable` (linked, file gone), `none` (never linked). */
export type SessionCompletenessView = SessionCompleteness & { transcript: 'read' | 'unavailable' | 'none' };

const RESULT_TYPES = new Set(['ToolCallCompleted', 'ToolCallFailed', 'ToolCallLateResultRecorded']);

/**
 * Which source saw which call of a session (docs/ARCHITECTURE.md §4g): the hooks (events appended through a hook door,
 * `metadata.via` `<agent>-hook`), the transcript (calls and results appended from it by reconcile or import, and every
 * call the transcript file holds now, sub-agents' included) and the agent's telemetry (ToolCallTelemetryRecorded).
 * Reads the session's stream and its transcript file on each call (cost: one stream read and one transcript parse).
 * Expected sources: hooks for an agent that posts them (and an external session, whose agent does), the transcript once
 * one is linked, telemetry for an agent runledger launched with it (Claude Code) or once any arrived. Throws
 * SESSION.NOT_FOUND (404) for an unknown session.
 */
@Injectable()
export class SessionCompletenessQuery {
  constructor(
    private readonly sessions: SessionStreams,
    private readonly adapters: AgentAdapters,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /** The completeness of `sessionId` now. */
  async of(sessionId: string): Promise<SessionCompletenessView> {
    const { state } = await this.sessions.load(sessionId);
    const calls = new Map<string, { tool?: string; seenBy: Set<CallSource> }>();
    const see = (callId: string, source: CallSource, tool?: string) => {
      const call = calls.get(callId) ?? { seenBy: new Set<CallSource>() };
      if (tool !== undefined && call.tool === undefined) call.tool = tool;
      call.seenBy.add(source);
      calls.set(callId, call);
    };
    for await (const event of this.store.readStream(sessionStreamName(sessionId))) {
      const d = event.data as { callId?: string; tool?: string; source?: string };
      if (typeof d?.callId !== 'string') continue;
      const via = typeof event.metadata.via === 'string' ? (event.metadata.via as string) : '';
      if (event.type === 'ToolCallTelemetryRecorded') see(d.callId, 'telemetry', d.tool);
      else if (event.type === 'ToolCallDispatched' || RESULT_TYPES.has(event.type)) {
        if (via.endsWith('-hook') || d.source === 'hook') see(d.callId, 'hooks', d.tool);
        if (d.source === 'transcript' || d.source === 'import' || via === 'import') see(d.callId, 'transcript', d.tool);
        if (event.type === 'ToolCallDispatched' && !calls.has(d.callId)) calls.set(d.callId, { tool: d.tool, seenBy: new Set() });
      }
    }
    const agent = recordingAgent(state);
    let transcript: SessionCompletenessView['transcript'] = 'none';
    if (state.transcriptPath) {
      const adapter = this.adapters.find(agent);
      // A transcript that cannot be read now (gone, unreadable) is reported `unavailable`, never a failed request.
      const read = adapter && existsSync(state.transcriptPath) ? await adapter.readTranscript(state.transcriptPath).catch(() => null) : null;
      for (const parsed of read ? [read.main, ...read.subagents.map((s) => s.parsed)] : []) for (const call of parsed.toolCalls) see(call.callId, 'transcript', call.tool);
      transcript = read ? 'read' : 'unavailable';
    }
    const sightings = [...calls].map(([callId, c]) => ({ callId, ...(c.tool !== undefined ? { tool: c.tool } : {}), seenBy: [...c.seenBy] }));
    const any = (source: CallSource) => sightings.some((s) => s.seenBy.includes(source));
    const expected: CallSource[] = [];
    // An external session observes a coding agent through its hooks; a plain command posts none.
    const postsHooks = isCodingAgent(state.agent) ? agentCapabilities(state.agent).hooks : state.agent === 'external';
    if (postsHooks || any('hooks')) expected.push('hooks');
    if (state.transcriptPath || any('transcript')) expected.push('transcript');
    if (this.adapters.find(state.agent)?.telemetryEnv || any('telemetry')) expected.push('telemetry');
    return { ...sessionCompleteness(sightings, expected), transcript };
  }
}
