import { assertNever } from '../shared/assert-never';
import type { Decider } from '../shared/decider';
import { omitUndefined } from '../shared/omit-undefined';
import type {
  FlagWorktreeStranded,
  RecordWorkPreserved,
  RecordWorktreeCreated,
  RecordWorktreeRemovalFailed,
  RecordWorktreeRemoved,
  RecordWorktreeRestored,
  RecordWorktreeVanished,
  WorktreeCommand,
} from './worktree.commands';
import { worktreeAlreadyExists, worktreeNotActive, worktreeNotFound, worktreeNotRestorable } from './worktree.errors';
import type { WorktreeEvent } from './worktree.events';

/** The ref and commit holding a worktree's uncommitted work (invariant 10). */
export interface PreservedWork {
  ref: string;
  commit?: string;
  at: string;
}

/** Fields every worktree keeps whatever its status; times are ISO-8601. */
export interface WorktreeBase {
  repo: string;
  path: string;
  branch: string;
  baseRef: string;
  /** Flag set by WorktreeStranded, cleared by removal or restore. */
  stranded: boolean;
  strandedReason?: string;
  /** Last preserved work; cleared once a restore applied it cleanly (its ref is then deleted). */
  preserved?: PreservedWork;
  /** Outcome of the last restore; `conflict` means the preserved ref was kept. */
  lastRestore?: { appliedRef?: string; conflict?: string; at: string };
  createdAt: string;
  updatedAt: string;
}

/** One worktree (one per repo per session): `active → removed | unavailable | retry_remove`, `→ restored → active` (docs/ARCHITECTURE.md §2). */
export type Worktree =
  | (WorktreeBase & { status: 'active' })
  | (WorktreeBase & { status: 'removed' })
  | (WorktreeBase & { status: 'unavailable'; preservedRef?: string; vanished?: boolean })
  | (WorktreeBase & { status: 'retry_remove'; removalError: string })
  | (WorktreeBase & { status: 'restored' });

/** Status of a worktree. */
export type WorktreeStatus = Worktree['status'];

/** State of one worktree's decider; `none` is a repo without a worktree record. */
export type WorktreeState = { status: 'none' } | Worktree;

/** True once the worktree no longer holds its branch (removed or unavailable): the condition to terminate a retiring orchestrator (invariant 11). */
export const isWorktreeReleased = (worktree: Worktree): boolean =>
  worktree.status === 'removed' || worktree.status === 'unavailable';

const hasDirectory = (state: Worktree): boolean => !isWorktreeReleased(state);

const existing = (state: WorktreeState, repo: string): Worktree => {
  if (state.status === 'none') throw worktreeNotFound(repo);
  return state;
};

const withDirectory = (state: WorktreeState, repo: string): Worktree => {
  const worktree = existing(state, repo);
  if (!hasDirectory(worktree)) throw worktreeNotActive(repo, worktree.status);
  return worktree;
};

const created = ({ data }: RecordWorktreeCreated, state: WorktreeState): WorktreeEvent[] => {
  if (state.status !== 'none') {
    if (state.status === 'active' && state.path === data.path && state.branch === data.branch) return [];
    throw worktreeAlreadyExists(data.repo, state.status, state.path);
  }
  return [{ type: 'WorktreeCreated', data: { ...data } }];
};

const preserved = ({ data }: RecordWorkPreserved, state: WorktreeState): WorktreeEvent[] => {
  withDirectory(state, data.repo);
  return [{ type: 'WorktreeWorkPreserved', data: { ...data } }];
};

const removed = ({ data }: RecordWorktreeRemoved, state: WorktreeState): WorktreeEvent[] => {
  // A removal racing the reaper's "directory vanished" (its own `git worktree remove` made it vanish) is still recorded.
  const worktree = state.status === 'unavailable' && state.vanished === true ? state : withDirectory(state, data.repo);
  const preservedRef = data.preservedRef ?? worktree.preserved?.ref;
  return [{ type: 'WorktreeRemoved', data: omitUndefined({ repo: data.repo, preservedRef, at: data.at }) }];
};

const removalFailed = ({ data }: RecordWorktreeRemovalFailed, state: WorktreeState): WorktreeEvent[] => {
  withDirectory(state, data.repo);
  return [{ type: 'WorktreeRemovalFailed', data: { ...data } }];
};

const restored = ({ data }: RecordWorktreeRestored, state: WorktreeState): WorktreeEvent[] => {
  const worktree = existing(state, data.repo);
  if ((worktree.status === 'restored' || worktree.status === 'active') && data.dirMissing !== true) {
    throw worktreeNotRestorable(data.repo, worktree.status);
  }
  const { dirMissing: _dirMissing, ...rest } = data;
  return [{ type: 'WorktreeRestored', data: omitUndefined(rest) }];
};

const vanished = ({ data }: RecordWorktreeVanished, state: WorktreeState): WorktreeEvent[] => {
  const worktree = existing(state, data.repo);
  if (!hasDirectory(worktree)) return [];
  return [{ type: 'WorktreeVanished', data: { ...data } }];
};
const stranded = ({ data }: FlagWorktreeStranded, state: WorktreeState): WorktreeEvent[] => {
  const worktree = existing(state, data.repo);
  if (worktree.stranded && worktree.strandedReason === data.reason) return [];
  return [{ type: 'WorktreeStranded', data: { ...data } }];
};

/** Decides a command for ONE worktree; throws WORKTREE.NOT_FOUND, WORKTREE.NOT_ACTIVE, WORKTREE.ALREADY_EXISTS or WORKTREE.NOT_RESTORABLE. */
export const decideWorktree = (command: WorktreeCommand, state: WorktreeState): WorktreeEvent[] => {
  switch (command.type) {
    case 'RecordWorktreeCreated':
      return created(command, state);
    case 'RecordWorkPreserved':
      return preserved(command, state);
    case 'RecordWorktreeRemoved':
      return removed(command, state);
    case 'RecordWorktreeRemovalFailed':
      return removalFailed(command, state);
    case 'RecordWorktreeRestored':
      return restored(command, state);
    case 'FlagWorktreeStranded':
      return stranded(command, state);
    case 'RecordWorktreeVanished':
      return vanished(command, state);
    case 'RecordWorktreeSkipped':
      return [{ type: 'WorktreeSkipped', data: { ...command.data } }];
    default:
      return assertNever(command);
  }
};

const baseOf = (worktree: Worktree): WorktreeBase => {
  const { status: _status, preservedRef: _ref, removalError: _error, vanished: _vanished, ...base } = worktree as WorktreeBase & {
    status: WorktreeStatus;
    preservedRef?: string;
    removalError?: string;
    vanished?: boolean;
  };
  return base;
};

const unflagged = (base: WorktreeBase): WorktreeBase => {
  const { strandedReason: _reason, ...rest } = base;
  return { ...rest, stranded: false };
};

/** `restored → active`: applied to every restored worktree when the session's runtime is launched by a restore. */
export const activateRestored = (worktree: Worktree): Worktree =>
  worktree.status === 'restored' ? { ...baseOf(worktree), status: 'active' } : worktree;

/** Folds one event into ONE worktree's state; never mutates its input. */
export const evolveWorktree = (state: WorktreeState, event: WorktreeEvent): WorktreeState => {
  switch (event.type) {
    case 'WorktreeCreated': {
      const { at, ...data } = event.data;
      return { ...data, status: 'active', stranded: false, createdAt: at, updatedAt: at };
    }
    case 'WorktreeWorkPreserved': {
      if (state.status === 'none') return state;
      const { ref, commit, at } = event.data;
      return { ...state, preserved: { ref, commit, at }, updatedAt: at };
    }
    case 'WorktreeRemoved': {
      if (state.status === 'none') return state;
      const { preservedRef, at } = event.data;
      const base = { ...unflagged(baseOf(state)), updatedAt: at };
      if (preservedRef === undefined) return { ...base, status: 'removed' };
      const preserved = base.preserved?.ref === preservedRef ? base.preserved : { ref: preservedRef, at };
      return { ...base, preserved, status: 'unavailable', preservedRef };
    }
    case 'WorktreeRemovalFailed': {
      if (state.status === 'none') return state;
      return { ...baseOf(state), status: 'retry_remove', removalError: event.data.error, updatedAt: event.data.at };
    }
    case 'WorktreeRestored': {
      if (state.status === 'none') return state;
      const { path, appliedRef, conflict, at } = event.data;
      const { preserved, ...base } = unflagged(baseOf(state));
      const keepPreserved = appliedRef === undefined || conflict !== undefined;
      return omitUndefined({
        ...base,
        preserved: keepPreserved ? preserved : undefined,
        path,
        lastRestore: omitUndefined({ appliedRef, conflict, at }),
        status: 'restored' as const,
        updatedAt: at,
      });
    }
    case 'WorktreeStranded': {
      if (state.status === 'none') return state;
      const { reason, at } = event.data;
      return { ...state, stranded: true, strandedReason: reason, updatedAt: at };
    }
    case 'WorktreeVanished': {
      if (state.status === 'none') return state;
      const base = { ...baseOf(state), updatedAt: event.data.at };
      return omitUndefined({ ...base, status: 'unavailable' as const, preservedRef: base.preserved?.ref, vanished: true });
    }
    case 'WorktreeSkipped':
      return state;
    default:
      return assertNever(event);
  }
};

/** The decider of ONE worktree; the session decider routes each worktree command to it with that repo's state. */
export const worktreeDecider: Decider<WorktreeState, WorktreeCommand, WorktreeEvent> = {
  decide: decideWorktree,
  evolve: evolveWorktree,
  initialState: () => ({ status: 'none' }),
};
