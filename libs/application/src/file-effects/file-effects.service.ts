import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  CallFileEffect,
  fileStateAt,
  FileState,
  fileTimeline,
  FileTimeline,
  filesNotSnapshotted,
  filesPruned,
  RevisionedEvent,
  SessionCommand,
  SessionEvent,
  SessionView,
  SnapshotPhase,
  sessionStreamName,
} from '@runledger/domain';
import type { RunledgerConfig } from '@runledger/infra/config';
import { EventStore } from '@runledger/infra/event-store';
import { GitSnapshotStore, SnapshotEntry, SnapshotRoot, TreeDiff } from '@runledger/infra/file-snapshots';
import { EVENT_STORE, RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { CommandContext } from '../event-sourcing/command-context';
import { decideAll, SessionStreams } from '../sessions/session-streams';
import { SessionViews } from '../sessions/session-views';

/** A call's diff (`GET /sessions/:id/tool-calls/:callId/diff`): the trees before and after it, its files, and the patch. */
export interface CallDiff extends TreeDiff {
  callId: string;
  tool: string;
  runId?: string;
  root: string;
  before: string;
  after: string;
}

/** A revision range's diff (`GET /sessions/:id/diff?from=&to=`): the trees at both revisions, the files and the patch. */
export interface RangeDiff extends TreeDiff {
  from: number;
  to: number;
  root: string;
  before: string;
  after: string;
}

/** The files at a revision (`GET /sessions/:id/files?at=`): the tree and its entries. */
export interface FileListing {
  at: number;
  root: string;
  tree: string;
  entries: SnapshotEntry[];
}

/** A rewind's answer (`POST /sessions/:id/rewind`): the ref keeping the state the files had, and the session after it. */
export interface RewindResult {
  preservedRef: string;
  preservedTree: string;
  tree: string;
  session: SessionView;
}

/**
 * File effects of sessions (docs/ARCHITECTURE.md §4e): the snapshots taken around every call (as commands the hook path
 * appends with the call's own events), and reading, rewinding and pruning them. Reads throw SESSION.NOT_FOUND (404),
 * FILES.NOT_SNAPSHOTTED (404 naming the field) or FILES.PRUNED (409); a rewind throws FILES.CALL_IN_FLIGHT (409).
 */
@Injectable()
export class FileEffects {
  private readonly logger = new Logger('FileEffects');

  constructor(
    private readonly snapshots: GitSnapshotStore,
    private readonly sessions: SessionStreams,
    private readonly views: SessionViews,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
  ) {}

  /**
   * The snapshot command for a hook of `sessionId` whose agent works in `cwd` (none when snapshots are off or `cwd` is
   * in no git work tree). A snapshot that fails is recorded as a `snapshot_failed` divergence, never fails the hook.
   */
  async snapshotCommands(sessionId: string, cwd: string | undefined, phase: SnapshotPhase, callId?: string): Promise<SessionCommand[]> {
    if (!this.config.snapshots.enabled || !cwd) return [];
    const at = new Date().toISOString();
    try {
      const root = await this.snapshots.rootOf(cwd);
      if (!root) return [];
      const { state } = await this.sessions.known(sessionId);
      if (state.files?.pruned) return [];
      const taken = await this.snapshots.snapshot(sessionId, root, state.files?.trees[root.root], { listIgnored: phase === 'run_start' });
      const { skipped, ...rest } = taken;
      return [{ type: 'RecordFilesSnapshot', data: { ...rest, phase, ...(callId ? { callId } : {}), ...(skipped.length ? { skipped } : {}), at } }];
    } catch (error) {
      this.logger.warn(`${sessionId}: file snapshot (${phase}) failed: ${(error as Error).message}`);
      return [{ type: 'RecordDivergence', data: { ...(callId ? { callId } : {}), kind: 'snapshot_failed', detail: `${phase} snapshot: ${(error as Error).message}`.slice(0, 500), at } }];
    }
  }

  /** The session's file timeline, folded from its whole stream (404 when the session does not exist). */
  async timeline(sessionId: string): Promise<FileTimeline> {
    const events: RevisionedEvent[] = [];
    for await (const recorded of this.store.readStream(sessionStreamName(sessionId))) {
      events.push({ revision: recorded.revision, event: { type: recorded.type, data: recorded.data } as SessionEvent });
    }
    if (events.length === 0) await this.sessions.load(sessionId); // 404
    return fileTimeline(events);
  }

  private unpruned(sessionId: string, timeline: FileTimeline): void {
    if (timeline.prunedAt) throw filesPruned(sessionId, timeline.prunedAt);
  }

  /** What call `callId` did to the files; FILES.NOT_SNAPSHOTTED (404, field `callId`) when no snapshot was taken around it. */
  async callDiff(sessionId: string, callId: string): Promise<CallDiff> {
    const timeline = await this.timeline(sessionId);
    this.unpruned(sessionId, timeline);
    const call: CallFileEffect | undefined = timeline.calls.get(callId);
    if (!call) throw filesNotSnapshotted('callId', `call ${callId} in ${sessionId}: the session has no such call`);
    if (!call.before || !call.after) {
      throw filesNotSnapshotted('callId', `the files around call ${callId} (it was not recorded live with snapshots: from a transcript, an import, or interrupted)`);
    }
    const diff = await this.snapshots.diff(sessionId, call.before.tree, call.after.tree);
    return { callId, tool: call.tool, ...(call.runId ? { runId: call.runId } : {}), root: call.after.root, before: call.before.tree, after: call.after.tree, ...diff };
  }

  /** How the files changed from revision `from` to revision `to` (the states current at each); FILES.NOT_SNAPSHOTTED (404) naming the field before the first snapshot. */
  async rangeDiff(sessionId: string, from: number, to: number): Promise<RangeDiff> {
    const timeline = await this.timeline(sessionId);
    this.unpruned(sessionId, timeline);
    const before = this.stateAt(timeline, from, 'from');
    const after = this.stateAt(timeline, to, 'to');
    const diff = await this.snapshots.diff(sessionId, before.tree, after.tree);
    return { from, to, root: after.root, before: before.tree, after: after.tree, ...diff };
  }

  /** The files at revision `at` (a listing, under `path` when given); FILES.NOT_SNAPSHOTTED (404) naming `at` before the first snapshot. */
  async files(sessionId: string, at: number, under?: string): Promise<FileListing> {
    const timeline = await this.timeline(sessionId);
    this.unpruned(sessionId, timeline);
    const state = this.stateAt(timeline, at, 'at');
    return { at, root: state.root, tree: state.tree, entries: await this.snapshots.list(sessionId, state.tree, under) };
  }

  /** The bytes of `path` at revision `at`; FILES.NOT_SNAPSHOTTED (404, field `path`) when that state has no such file. */
  async file(sessionId: string, at: number, path: string): Promise<Buffer> {
    const timeline = await this.timeline(sessionId);
    this.unpruned(sessionId, timeline);
    const state = this.stateAt(timeline, at, 'at');
    const bytes = await this.snapshots.read(sessionId, state.tree, path);
    if (!bytes) throw filesNotSnapshotted('path', `${path} at revision ${at} (the files then held no such file)`);
    return bytes;
  }

  private stateAt(timeline: FileTimeline, revision: number, field: string): FileState {
    const state = fileStateAt(timeline, revision);
    if (!state) throw filesNotSnapshotted(field, `the files at revision ${revision} (the first snapshot came later)`);
    return state;
  }

  /** The tree of the state before or after `callId` (FILES.NOT_SNAPSHOTTED naming `callId` when unknown). */
  async callState(sessionId: string, callId: string, phase: 'before' | 'after'): Promise<FileState> {
    const timeline = await this.timeline(sessionId);
    this.unpruned(sessionId, timeline);
    const state = timeline.calls.get(callId)?.[phase];
    if (!state) throw filesNotSnapshotted('callId', `the files ${phase} call ${callId} in ${sessionId}`);
    return state;
  }

  /**
   * Puts the session's files back to their state before or after `callId` (docs/ARCHITECTURE.md §4e): snapshots the
   * current state, keeps it on a ref of the snapshot repository, restores, and appends the snapshot and `FilesRewound`.
   * Refused FILES.CALL_IN_FLIGHT (409) while a call runs, checked before and at the append.
   */
  async rewind(sessionId: string, callId: string, phase: 'before' | 'after', context: CommandContext): Promise<RewindResult> {
    const target = await this.callState(sessionId, callId, phase);
    const { state } = await this.sessions.load(sessionId);
    const at = () => new Date().toISOString();
    // Refusals before any file changes: the same decision the append makes.
    decideAll(state, [{ type: 'RecordFilesRewound', data: { root: target.root, callId, phase, tree: target.tree, preservedRef: '', preservedTree: '', at: at() } }]);
    const root: SnapshotRoot = (await this.snapshots.rootOf(target.root)) ?? { root: target.root, headTree: target.tree };
    const current = await this.snapshots.snapshot(sessionId, root, state.files?.trees[root.root]);
    const preservedRef = await this.snapshots.preserve(sessionId, current.tree, `runledger: ${sessionId} files before the rewind to ${phase} ${callId}`);
    await this.snapshots.restore(sessionId, root, target.tree);
    const { skipped, ...taken } = current;
    const decided = await this.sessions.decide(
      sessionId,
      () => [
        { type: 'RecordFilesSnapshot', data: { ...taken, phase: 'rewind', ...(skipped.length ? { skipped } : {}), at: at() } },
        { type: 'RecordFilesRewound', data: { root: root.root, callId, phase, tree: target.tree, preservedRef, preservedTree: current.tree, at: at() } },
      ],
      context,
    );
    return { preservedRef, preservedTree: current.tree, tree: target.tree, session: this.views.fromState(decided.state as never, decided.revision) };
  }

  /** Deletes the session's snapshots and appends `FileSnapshotsPruned` (its diffs then answer FILES.PRUNED); pruning twice appends nothing. */
  async prune(sessionId: string, reason: string, context: CommandContext): Promise<SessionView> {
    await this.sessions.load(sessionId); // 404
    const decided = await this.sessions.decide(sessionId, () => [{ type: 'RecordSnapshotsPruned', data: { reason, at: new Date().toISOString() } }], context);
    await this.snapshots.prune(sessionId);
    return this.views.fromState(decided.state as never, decided.revision);
  }
}
