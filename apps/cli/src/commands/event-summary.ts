import { AuditEvent } from '../client/api-types';
import { formatDuration, oneLine, shortJson } from '../client/output';

type Data = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** What `history` remembers of a dispatched tool call to describe its later events. */
interface CallInfo {
  tool: string;
  dispatchedAt?: string;
}

/** Milliseconds between two ISO-8601 times; `undefined` when either is missing or unparseable. */
const msBetween = (from: string | undefined, to: string | undefined): number | undefined => {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isNaN(ms) ? undefined : ms;
};

/** The one field worth showing of a tool input (Bash `command`, a file path, a pattern, else compact JSON), at most `max` characters. */
export const inputSummary = (input: unknown, max = 60): string => {
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    const i = input as Data;
    for (const key of ['command', 'file_path', 'path', 'pattern', 'url', 'description', 'prompt']) {
      const v = str(i[key]);
      if (v !== undefined) return oneLine(v, max);
    }
  }
  return shortJson(input, max);
};

/** When an event happened: `data.at`, else `metadata.occurredAt`, else `metadata.recordedAt`. */
const eventTime = (e: AuditEvent): string | undefined => str(e.data?.at) ?? e.metadata?.occurredAt ?? e.metadata?.recordedAt;

/**
 * Turns a session's events into one-line summaries, in revision order. Tool-call events name the tool (remembered from
 * its ToolCallDispatched), the status, exit code and the duration from dispatch to result (event `at` times); an
 * interrupted attempt starts with `INTERRUPTED`, a result for one with `LATE RESULT`.
 */
export class EventSummarizer {
  private readonly calls = new Map<string, CallInfo>();

  /** The summary of `event` (without time, revision and type). */
  summarize(event: AuditEvent): string {
    const d: Data = event.data && typeof event.data === 'object' ? event.data : {};
    const callId = str(d.callId);
    const call = callId ? this.calls.get(callId) : undefined;
    const tool = call?.tool ?? '?';
    const attempt = num(d.attempt);
    const attemptText = attempt !== undefined && attempt > 1 ? ` attempt ${attempt}` : '';
    const exit = num(d.exitCode) !== undefined ? ` exit ${d.exitCode}` : '';
    const took = () => formatDuration(msBetween(call?.dispatchedAt, eventTime(event)));
    switch (event.type) {
      case 'ToolCallDispatched': {
        this.calls.set(callId ?? '', { tool: str(d.tool) ?? '?', dispatchedAt: eventTime(event) });
        return `${str(d.tool) ?? '?'} ${callId}${attempt !== undefined ? ` attempt ${attempt}` : ''} dispatched (${str(d.mode) ?? '?'}): ${inputSummary(d.input)}`;
      }
      case 'ToolCallCompleted':
        return `${tool} ${callId}${attemptText} completed${exit} in ${took()} (${str(d.source) ?? '?'})`;
      case 'ToolCallFailed':
        return `${tool} ${callId}${attemptText} FAILED${exit} in ${took()} (${str(d.source) ?? '?'})${d.error !== undefined ? `: ${oneLine(String(d.error), 80)}` : ''}`;
      case 'ToolCallInterrupted':
        return `INTERRUPTED ${tool} ${callId}${attempt !== undefined ? ` attempt ${attempt}` : ''} after ${took()}: ${oneLine(str(d.reason) ?? '', 80)}`;
      case 'ToolCallLateResultRecorded':
        return (
          `LATE RESULT ${tool} ${callId}${attempt !== undefined ? ` attempt ${attempt}` : ''} ${str(d.status) ?? '?'}${exit}, ${took()} after dispatch ` +
          `(${str(d.source) ?? '?'}; recorded apart, the call stays interrupted)`
        );
      case 'SessionStarted':
        return `project ${str(d.projectId)}, ${str(d.kind)}, agent ${str(d.agent)}, branch ${str(d.branch)} from ${str(d.baseRef)}`;
      case 'SessionRuntimeLaunched':
      case 'SessionAdopted': {
        const r = (d.runtime ?? {}) as Data;
        return r.type === 'tmux' ? `tmux ${str(r.sessionName)}` : `${str(r.type) ?? 'process'} pid ${num(r.pid) ?? '?'}`;
      }
      case 'SessionInterrupted':
        return `${oneLine(str(d.reason) ?? '', 80)}${d.resumable ? ' (resumable)' : ' (not resumable)'}`;
      case 'SessionKilled':
        return `${oneLine(str(d.reason) ?? '', 80)} (${d.freed ? 'worktrees freed' : 'dirty worktree kept'})`;
      case 'SessionLaunchFailed':
      case 'SessionTerminated':
        return oneLine(str(d.reason) ?? '', 100);
      case 'AgentSessionLinked':
        return `${str(d.agentSessionId)}${d.transcriptPath ? ` ${str(d.transcriptPath)}` : ''}`;
      case 'AgentRunStarted':
        return `run ${str(d.runId)}${d.prompt ? `: ${oneLine(str(d.prompt) ?? '', 70)}` : ''}`;
      case 'AgentRunCompleted':
        return `run ${str(d.runId)}`;
      case 'AgentRunFailed':
        return `run ${str(d.runId)}: ${oneLine(str(d.error) ?? '', 80)}`;
      case 'AgentRunInterrupted':
        return `INTERRUPTED run ${str(d.runId)}: ${oneLine(str(d.reason) ?? '', 80)}`;
      case 'DivergenceDetected':
        return `DIVERGENCE ${str(d.kind)}${callId ? ` ${callId}` : ''}: ${oneLine(str(d.detail) ?? '', 80)}`;
      case 'WorktreeCreated':
      case 'WorktreeRestored':
        return `${str(d.repo)} ${str(d.path)}${d.conflict ? ` CONFLICT: ${oneLine(String(d.conflict), 60)}` : ''}`;
      case 'WorktreeWorkPreserved':
        return `${str(d.repo)} → ${str(d.ref)} (${(str(d.commit) ?? '').slice(0, 12)})`;
      case 'WorktreeRemoved':
        return `${str(d.repo)}${d.preservedRef ? ` (work in ${str(d.preservedRef)})` : ''}`;
      case 'WorktreeRemovalFailed':
        return `${str(d.repo)}: ${oneLine(str(d.error) ?? '', 80)}`;
      case 'WorktreeStranded':
      case 'WorktreeSkipped':
        return `${str(d.repo)}: ${oneLine(str(d.reason) ?? '', 80)}`;
      default: {
        const { at: _at, ...rest } = d;
        return shortJson(rest, 100);
      }
    }
  }
}

/** The time column of `history`: `recordedAt`, plus `(occurred <occurredAt>)` when the fact happened earlier elsewhere. */
export const timeColumn = (event: AuditEvent): string => {
  const recorded = event.metadata?.recordedAt ?? '?';
  const occurred = event.metadata?.occurredAt;
  return occurred && occurred !== recorded ? `${recorded} (occurred ${occurred})` : recorded;
};

/** One human line of `history`: time, `#revision`, type and summary. */
export const historyLine = (event: AuditEvent, summarizer: EventSummarizer): string =>
  `${timeColumn(event)}  #${event.revision}  ${event.type}  ${summarizer.summarize(event)}`;
