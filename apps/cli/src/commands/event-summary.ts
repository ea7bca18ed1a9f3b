import { describeFileEffect, type SessionCompleteness, type SessionEvent } from '@runledger/domain';
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

/** The data of one session event type, as the domain defines it. */
type DataOf<T extends SessionEvent['type']> = Extract<SessionEvent, { type: T }>['data'];

/** An event's data as the API sends it: the domain's field names, each value read defensively (`str`, `num`). */
type Wire<T> = T extends unknown ? { [K in keyof T]?: unknown } : never;

/** What a tool-call summary knows beyond its event: the call's tool (from its dispatch), the attempt and exit texts, and the time since dispatch. */
interface CallContext {
  callId: string | undefined;
  tool: string;
  attempt: number | undefined;
  /** ` attempt N` for a retry (N > 1), else empty. */
  attemptText: string;
  /** ` exit N` when the event carries an exit code, else empty. */
  exit: string;
  /** `, files +3 −1 in 2 files` when the snapshot taken at this result found the call changed files, else empty. */
  files: string;
  took: () => string;
}

/** The summary of one event type (without time, revision and type). */
type Summary<T extends SessionEvent['type']> = (d: Wire<DataOf<T>>, call: CallContext) => string;

/** ` attempt N` whenever the event names its attempt. */
const attemptOf = (call: CallContext): string => (call.attempt !== undefined ? ` attempt ${call.attempt}` : '');

/** How `history` summarizes each session event type; a type without an entry shows its data as compact JSON. */
const SUMMARIES: { [T in SessionEvent['type']]?: Summary<T> } = {
  ToolCallDispatched: (d, c) => `${str(d.tool) ?? '?'} ${c.callId}${attemptOf(c)} dispatched (${str(d.mode) ?? '?'}): ${inputSummary(d.input)}`,
  ToolCallCompleted: (d, c) => `${c.tool} ${c.callId}${c.attemptText} completed${c.exit} in ${c.took()} (${str(d.source) ?? '?'})${c.files}`,
  ToolCallFailed: (d, c) =>
    `${c.tool} ${c.callId}${c.attemptText} FAILED${c.exit} in ${c.took()} (${str(d.source) ?? '?'})${c.files}${d.error !== undefined ? `: ${oneLine(String(d.error), 80)}` : ''}`,
  FilesSnapshotted: (d, c) => {
    const changed = Array.isArray(d.changed) ? (d.changed as Array<{ path?: unknown }>) : [];
    const paths = changed.slice(0, 3).map((f) => str(f.path) ?? '?').join(', ');
    const more = (num(d.changedCount) ?? changed.length) > 3 ? ', …' : '';
    const where = c.callId ? `${str(d.phase)} ${c.callId}` : str(d.phase);
    const running = Array.isArray(d.callsInFlight) ? d.callsInFlight.map(String) : [];
    const outside = d.phase === 'after' || d.phase === 'rewind' ? '' : running.length ? ` (while ${running.join(', ')} ran)` : ' (outside any call)';
    return `${where}: ${num(d.changedCount) ?? changed.length} changed${outside}${paths ? `: ${paths}${more}` : ''}`;
  },
  FilesRewound: (d) => `files back to ${str(d.phase)} ${str(d.callId)} (tree ${(str(d.tree) ?? '').slice(0, 12)}); the state before kept in ${str(d.preservedRef)}`,
  FileSnapshotsPruned: (d) => oneLine(str(d.reason) ?? '', 100),
  ToolCallIdentified: (d, c) => `${c.tool} ${c.callId} is ${str(d.agentCallId) ?? '?'} in the agent's own record`,
  ToolCallInterrupted: (d, c) => `INTERRUPTED ${c.tool} ${c.callId}${attemptOf(c)} after ${c.took()}: ${oneLine(str(d.reason) ?? '', 80)}`,
  ToolCallLateResultRecorded: (d, c) =>
    `LATE RESULT ${c.tool} ${c.callId}${attemptOf(c)} ${str(d.status) ?? '?'}${c.exit}, ${c.took()} after dispatch ` +
    `(${str(d.source) ?? '?'}; recorded apart, the call stays interrupted)`,
  SessionStarted: (d) => `project ${str(d.projectId)}, ${str(d.kind)}, agent ${str(d.agent)}, branch ${str(d.branch)} from ${str(d.baseRef)}`,
  SessionRuntimeLaunched: (d) => runtimeSummary(d.runtime),
  SessionAdopted: (d) => runtimeSummary(d.runtime),
  SessionInterrupted: (d) => `${oneLine(str(d.reason) ?? '', 80)}${d.resumable ? ' (resumable)' : ' (not resumable)'}`,
  SessionKilled: (d) => `${oneLine(str(d.reason) ?? '', 80)} (${d.freed ? 'worktrees freed' : 'dirty worktree kept'})`,
  SessionLaunchFailed: (d) => oneLine(str(d.reason) ?? '', 100),
  SessionTerminated: (d) => oneLine(str(d.reason) ?? '', 100),
  AgentSessionLinked: (d) => `${str(d.agentSessionId)}${d.transcriptPath ? ` ${str(d.transcriptPath)}` : ''}`,
  AgentRunStarted: (d) => `run ${str(d.runId)}${d.prompt ? `: ${oneLine(str(d.prompt) ?? '', 70)}` : ''}`,
  AgentRunCompleted: (d) => `run ${str(d.runId)}`,
  AgentRunFailed: (d) => `run ${str(d.runId)}: ${oneLine(str(d.error) ?? '', 80)}`,
  AgentRunInterrupted: (d) => `INTERRUPTED run ${str(d.runId)}: ${oneLine(str(d.reason) ?? '', 80)}`,
  ToolCallTelemetryRecorded: (d, c) =>
    `telemetry ${str(d.event)} ${str(d.tool) ?? c.tool} ${c.callId}${d.decision !== undefined ? ` ${str(d.decision)}` : ''}` +
    `${d.success !== undefined ? (d.success ? ' ok' : ' FAILED') : ''}${num(d.durationMs) !== undefined ? ` in ${formatDuration(num(d.durationMs)!)}` : ''}`,
  DivergenceDetected: (d, c) => `DIVERGENCE ${str(d.kind)}${c.callId ? ` ${c.callId}` : ''}: ${oneLine(str(d.detail) ?? '', 80)}`,
  WorktreeCreated: (d) => worktreeAt(d),
  WorktreeRestored: (d) => worktreeAt(d),
  WorktreeWorkPreserved: (d) => `${str(d.repo)} → ${str(d.ref)} (${(str(d.commit) ?? '').slice(0, 12)})`,
  WorktreeRemoved: (d) => `${str(d.repo)}${d.preservedRef ? ` (work in ${str(d.preservedRef)})` : ''}`,
  WorktreeRemovalFailed: (d) => `${str(d.repo)}: ${oneLine(str(d.error) ?? '', 80)}`,
  WorktreeStranded: (d) => `${str(d.repo)}: ${oneLine(str(d.reason) ?? '', 80)}`,
  WorktreeSkipped: (d) => `${str(d.repo)}: ${oneLine(str(d.reason) ?? '', 80)}`,
};

/** `+3 −1 in 2 files` of an `after` snapshot's changes (against the snapshot before it). */
function fileEffectOf(d: Data): string | undefined {
  const changed = Array.isArray(d.changed) ? (d.changed as Array<{ additions?: unknown; deletions?: unknown }>) : [];
  const sum = (key: 'additions' | 'deletions') => changed.reduce((total, f) => total + (num(f[key]) ?? 0), 0);
  const tree = str(d.tree) ?? '';
  return describeFileEffect({
    before: { root: '', tree: str(d.previousTree) ?? '' },
    after: { root: '', tree },
    additions: sum('additions'),
    deletions: sum('deletions'),
    files: num(d.changedCount) ?? changed.length,
  });
}

/** A launched or adopted runtime: `tmux <session>` or `<type> pid <pid>`. */
function runtimeSummary(runtime: unknown): string {
  const r = (runtime ?? {}) as Data;
  return r.type === 'tmux' ? `tmux ${str(r.sessionName)}` : `${str(r.type) ?? 'process'} pid ${num(r.pid) ?? '?'}`;
}

/** A created or restored worktree: repo, path, and the conflict a restore met. */
function worktreeAt(d: { repo?: unknown; path?: unknown; conflict?: unknown }): string {
  return `${str(d.repo)} ${str(d.path)}${d.conflict ? ` CONFLICT: ${oneLine(String(d.conflict), 60)}` : ''}`;
}

/**
 * Turns a session's events into one-line summaries, in revision order. Tool-call events name the tool (remembered from
 * its ToolCallDispatched), the status, exit code and the duration from dispatch to result (event `at` times); an
 * interrupted attempt starts with `INTERRUPTED`, a result for one with `LATE RESULT`.
 */
export class EventSummarizer {
  private readonly calls = new Map<string, CallInfo>();
  /** The last `after` snapshot, for the result event that follows it. */
  private lastAfter: { callId?: string; text?: string } = {};

  /** The summary of `event` (without time, revision and type). */
  summarize(event: AuditEvent): string {
    const d: Data = event.data && typeof event.data === 'object' ? event.data : {};
    const summary = Object.prototype.hasOwnProperty.call(SUMMARIES, event.type) ? (SUMMARIES[event.type as SessionEvent['type']] as Summary<SessionEvent['type']>) : undefined;
    if (!summary) {
      const { at: _at, ...rest } = d;
      return shortJson(rest, 100);
    }
    const callId = str(d.callId);
    const call = callId ? this.calls.get(callId) : undefined;
    if (event.type === 'ToolCallDispatched') this.calls.set(callId ?? '', { tool: str(d.tool) ?? '?', dispatchedAt: eventTime(event) });
    const after = this.lastAfter;
    this.lastAfter = event.type === 'FilesSnapshotted' && d.phase === 'after' ? { callId, text: fileEffectOf(d) } : {};
    const files = (event.type === 'ToolCallCompleted' || event.type === 'ToolCallFailed') && after.callId === callId && after.text ? `, files ${after.text}` : '';
    const attempt = num(d.attempt);
    return summary(d, {
      callId,
      tool: call?.tool ?? '?',
      attempt,
      attemptText: attempt !== undefined && attempt > 1 ? ` attempt ${attempt}` : '',
      exit: num(d.exitCode) !== undefined ? ` exit ${d.exitCode}` : '',
      files,
      took: () => formatDuration(msBetween(call?.dispatchedAt, eventTime(event))),
    });
  }
}

/** The time column of `history`: `recordedAt`, plus `(occurred <occurredAt>)` when the fact happened earlier elsewhere. */
export const timeColumn = (event: AuditEvent): string => {
  const recorded = event.metadata?.recordedAt ?? '?';
  const occurred = event.metadata?.occurredAt;
  return occurred && occurred !== recorded ? `${recorded} (occurred ${occurred})` : recorded;
};

/** Who caused an event (docs/ARCHITECTURE.md §8): ` [by user:ada]`, ` [by session:app-3]`, ` [by runledger]`; empty when the event names nobody. */
export const actorColumn = (event: AuditEvent): string => (typeof event.metadata?.actor === 'string' ? `  [by ${event.metadata.actor}]` : '');

/** One human line of `history`: time, `#revision`, type, summary and who caused it. */
export const historyLine = (event: AuditEvent, summarizer: EventSummarizer): string =>
  `${timeColumn(event)}  #${event.revision}  ${event.type}  ${summarizer.summarize(event)}${actorColumn(event)}`;

/** The completeness block `history` prints after the events (docs/ARCHITECTURE.md §4g): figure, calls per source, the calls a source missed and the ones a single source confirms. */
export const completenessLines = (c: SessionCompleteness & { transcript: string }): string[] => [
  `completeness ${c.figure === null ? 'n/a (no calls)' : `${(c.figure * 100).toFixed(1)}%`} over ${c.sources.join(', ') || 'no source'}: ` +
    `${c.calls} calls; ${Object.entries(c.seenBy).map(([s, n]) => `${s} ${n}`).join(', ')}${c.transcript === 'unavailable' ? ' (transcript unavailable)' : ''}`,
  ...c.missed.map((m) => `  ${m.tool ?? '?'} ${m.callId}: seen by ${m.seenBy.join(' and ') || 'none'} only, missed by ${m.missedBy.join(' and ')}`),
  ...c.singleSource.map((s) => `  ONE SOURCE ${s.tool ?? '?'} ${s.callId}: only ${s.source} confirms it`),
];
