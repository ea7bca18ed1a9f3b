import * as path from 'node:path';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CodingAgent, Session, SessionCommand, sessionDecider, SessionEvent, sessionStreamName, usageCommands } from '@runledger/domain';
import type { ParsedRun, ParsedToolCall, ParsedTranscript } from '@runledger/infra/agents/claude-code/transcript-parser';
import { CommandContext } from '../../event-sourcing/command-context';
import { DeciderStreams } from '../../event-sourcing/decider-streams';
import { decideAll, SessionStreams } from '../../sessions/session-streams';
import { ToolCallDoor, ToolCallIntake } from '../../tool-calls/tool-call-intake';
import { AgentSessionDirectory } from '../agent-session-directory';
import { checkUniqueIds, subagentRunOf } from './import-validation';

/** What an import reads of a transcript the CLI parsed (ParsedTranscript; its ids and session fields may be absent). */
export type ImportedTranscript = Pick<ParsedTranscript, 'runs' | 'toolCalls' | 'skippedLines' | 'usage'> & {
  agentSessionId?: string | null;
  cwd?: string | null;
};

/** Body of `POST /imports/:agent` (validated by its DTO; `agent` from the path): a transcript parsed by the CLI, with its sub-agent transcripts. */
export interface ImportTranscriptInput {
  /** The agent that wrote the transcript (default Claude Code): an external session it creates observes that agent. */
  agent?: CodingAgent;
  projectId?: string;
  transcriptPath: string;
  transcript: ImportedTranscript;
  subagents: { path: string; transcript: ImportedTranscript }[];
}

/** Outcome of an import (docs/ARCHITECTURE.md §6 `import --json`), plus how many events this import appended (0 on a repeat). */
export interface ImportTranscriptResult {
  sessionId: string;
  toolCalls: number;
  completed: number;
  failed: number;
  skippedLines: number;
  subagentToolCalls: number;
  appended: number;
}

/** Import a Claude Code transcript into a session stream. */
export class ImportTranscriptCommand {
  constructor(readonly input: ImportTranscriptInput, readonly context: CommandContext) {}
}

/**
 * Turns a Claude Code transcript into a session stream: one agent run per user prompt, each sub-agent
 * transcript a child run, one tool call per `tool_use` (input as given, redacted) completed or failed from its
 * `tool_result`, with the transcript's timestamps as `occurredAt`. Only what the stream lacks is appended, so importing
 * the same file twice changes nothing and a longer transcript adds just its new part.
 */
@CommandHandler(ImportTranscriptCommand)
export class ImportTranscriptHandler implements ICommandHandler<ImportTranscriptCommand, ImportTranscriptResult> {
  constructor(
    private readonly streams: DeciderStreams,
    private readonly sessions: SessionStreams,
    private readonly directory: AgentSessionDirectory,
    private readonly intake: ToolCallIntake,
  ) {}

  async execute({ input, context }: ImportTranscriptCommand): Promise<ImportTranscriptResult> {
    // Validate first, all or nothing: a refused import creates no session (the session is created before the append).
    checkUniqueIds(input);
    const { transcript } = input;
    const project = input.projectId ? (await this.sessions.project(input.projectId)).state : undefined;
    const agentSessionId = transcript.agentSessionId ?? path.basename(input.transcriptPath, '.jsonl');
    const sessionId = await this.directory.findOrCreate(agentSessionId, { project, cwd: transcript.cwd ?? null, transcriptPath: input.transcriptPath, agent: input.agent }, context);
    const { state: owner } = await this.sessions.project((await this.sessions.load(sessionId)).state.projectId);
    const door = this.intake.doorFor(owner);

    const plan = (state: Session): SessionCommand[] => {
      const commands: SessionCommand[] = [];
      const link = { type: 'LinkAgentSession' as const, data: { agentSessionId, transcriptPath: input.transcriptPath, at: transcript.runs[0]?.startedAt ?? new Date().toISOString() } };
      if (state.agentSessionId !== agentSessionId || state.transcriptPath !== input.transcriptPath) commands.push(link);
      commands.push(...this.runCommands(state, transcript.runs, transcript.toolCalls, undefined, door));
      for (const sub of input.subagents) {
        const runId = subagentRunOf(sub.path);
        const first = sub.transcript.runs[0]?.startedAt ?? sub.transcript.toolCalls[0]?.requestedAt;
        const parent = [...transcript.runs].reverse().find((r) => first && r.startedAt <= first)?.runId;
        const child: ParsedRun = {
          ...(sub.transcript.runs[0] ?? { prompt: '', startedAt: first ?? link.data.at, endedAt: null, line: 0 }),
          runId,
          endedAt: sub.transcript.runs.at(-1)?.endedAt ?? null,
        } as ParsedRun;
        commands.push(...this.runCommands(state, [child], sub.transcript.toolCalls.map((c) => ({ ...c, runId })), parent, door));
      }
      // Usage per model call (docs/ARCHITECTURE.md §4g), sub-agents' under their own run: keyed by the call's id, so a
      // repeated import appends none.
      const subagentUsage = input.subagents.flatMap((sub) =>
        (sub.transcript.usage ?? []).map((u) => ({ ...u, runId: subagentRunOf(sub.path), subagent: path.basename(sub.path) })),
      );
      commands.push(...usageCommands(state, { usage: [...(transcript.usage ?? []), ...subagentUsage], settled: true }, 'import'));
      return commands;
    };

    // One decision over the whole transcript, appended as one batch; the transcript's time becomes occurredAt.
    const decided = await this.streams.handle(
      sessionStreamName(sessionId),
      sessionDecider,
      (state) => (state.status === 'none' ? [] : decideAll(state, plan(state))),
      context,
      (event: SessionEvent) => (event.data as { at?: string }).at,
    );
    const calls = transcript.toolCalls;
    return {
      sessionId,
      toolCalls: calls.length,
      completed: calls.filter((c) => c.result?.status === 'completed').length,
      failed: calls.filter((c) => c.result?.status === 'failed').length,
      skippedLines: transcript.skippedLines.length + input.subagents.reduce((n, s) => n + s.transcript.skippedLines.length, 0),
      subagentToolCalls: input.subagents.reduce((n, s) => n + s.transcript.toolCalls.length, 0),
      appended: decided.events.length,
    };
  }

  /** Commands for runs and their calls that the state lacks: start, dispatch, result, completion, in transcript order. */
  private runCommands(state: Session, runs: ParsedRun[], calls: ParsedToolCall[], parentRunId: string | undefined, { calls: record, redact }: ToolCallDoor): SessionCommand[] {
    const commands: SessionCommand[] = [];
    for (const run of runs) {
      if (!state.runs[run.runId]) {
        commands.push({ type: 'StartAgentRun', data: { runId: run.runId, prompt: redact(run.prompt), at: run.startedAt, ...(parentRunId ? { parentRunId } : {}) } });
      }
    }
    for (const call of calls) {
      const known = state.toolCalls.get(call.callId);
      if (!known) {
        const runId = call.runId && (state.runs[call.runId] || runs.some((r) => r.runId === call.runId)) ? call.runId : undefined;
        commands.push(record.dispatch({ callId: call.callId, tool: call.tool, input: call.input, mode: 'observed', at: call.requestedAt, runId }));
      }
      if (call.result && (!known || known.status === 'dispatched')) {
        const { status, output, at, exitCode } = call.result;
        const error = status !== 'failed' ? undefined
          : (call.result.error ?? (exitCode !== undefined && exitCode !== 0 ? `exit code ${exitCode}` : typeof output === 'string' ? output : 'tool_result is_error'));
        commands.push(record.result({ callId: call.callId, status, output, source: 'import', at, error, ...(exitCode !== undefined ? { exitCode } : {}) }));
      }
    }
    for (const run of runs) {
      const known = state.runs[run.runId];
      if (!run.endedAt || (known && known.status !== 'started')) continue;
      commands.push(run.failure !== undefined
        ? { type: 'FailAgentRun', data: { runId: run.runId, error: redact(run.failure), at: run.endedAt } }
        : { type: 'CompleteAgentRun', data: { runId: run.runId, at: run.endedAt } });
    }
    return commands;
  }
}
