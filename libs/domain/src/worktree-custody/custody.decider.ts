import { assertNever } from '../shared/assert-never';
import type { Decider } from '../shared/decider';
import { omitUndefined } from '../shared/omit-undefined';
import type { CustodyCommand, RecordReaperVerdict } from './custody.commands';
import { custodyNotHeld, custodyPathHeld } from './custody.errors';
import type { CustodyEvent } from './custody.events';

/** Where a held worktree came from: found on disk by the reaper, or created for Claude Code's WorktreeCreate hook. */
export type CustodyOrigin = 'disk' | 'claude-code';

/** A worktree runledger holds by path (no session record holds it). Times ISO-8601. */
export interface HeldWorktree {
  status: 'held' | 'removed' | 'released';
  path: string;
  origin: CustodyOrigin;
  repoPath?: string;
  branch?: string;
  baseRef?: string;
  /** The session it belongs to: the one Claude Code ran in, or the one its branch or path names. */
  ownerSessionId?: string;
  agentSessionId?: string;
  name?: string;
  /** The last decision's rule and detail. */
  rule: string;
  detail?: string;
  /** Flagged: holds work that would be lost; never removed for it. */
  stranded: boolean;
  strandedAt?: string;
  /** First time the reaper saw its owner dead (starts the grace window). */
  ownerDeadSince?: string;
  preservedRef?: string;
  preservedCommit?: string;
  firstSeenAt: string;
  updatedAt: string;
}

/** State of one custody stream. */
export type CustodyState = { status: 'none' } | HeldWorktree;

const held = (state: CustodyState, path: string): HeldWorktree => {
  if (state.status !== 'held') throw custodyNotHeld(path);
  return state;
};

const verdict = ({ data }: RecordReaperVerdict, state: CustodyState): CustodyEvent[] => {
  const { path, verdict: v, at } = data;
  switch (v.action) {
    case 'release':
      return state.status === 'held' ? [{ type: 'CustodyWorktreeReleased', data: { path, rule: v.rule, at } }] : [];
    case 'keep': {
      const current = held(state, path);
      if (!current.stranded && current.rule === v.rule && current.ownerDeadSince === v.ownerDeadSince) return [];
      return [{ type: 'CustodyWorktreeKept', data: omitUndefined({ path, rule: v.rule, detail: v.detail, ownerDeadSince: v.ownerDeadSince, at }) }];
    }
    case 'strand': {
      const current = held(state, path);
      const recent = current.strandedAt !== undefined && Date.parse(at) - Date.parse(current.strandedAt) < data.strandCooldownMs;
      if (current.stranded && current.rule === v.rule && recent) return [];
      return [{ type: 'CustodyWorktreeStranded', data: { path, rule: v.rule, detail: v.detail, at } }];
    }
    case 'remove':
      held(state, path);
      return []; // recorded by RecordCustodyRemoved once git removed it
    default:
      return assertNever(v);
  }
};

/** Decides a custody command; throws CUSTODY.NOT_HELD (404) or CUSTODY.PATH_HELD (409). */
export const decideCustody = (command: CustodyCommand, state: CustodyState): CustodyEvent[] => {
  switch (command.type) {
    case 'TakeOrphanWorktree': {
      if (state.status === 'held') return [];
      return [{ type: 'OrphanWorktreeFound', data: omitUndefined({ ...command.data, rule: 'unclaimed' }) }];
    }
    case 'RecordAgentWorktreeCreated': {
      const { data } = command;
      if (state.status === 'held') {
        if (state.origin === 'claude-code' && state.ownerSessionId === data.sessionId && state.branch === data.branch) return [];
        throw custodyPathHeld(data.path, state.ownerSessionId, state.branch);
      }
      return [{ type: 'AgentWorktreeCreated', data: { ...data } }];
    }
    case 'RecordReaperVerdict':
      return verdict(command, state);
    case 'RecordCustodyPreserved':
      held(state, command.data.path);
      return [{ type: 'CustodyWorkPreserved', data: { ...command.data } }];
    case 'RecordCustodyRemoved':
      held(state, command.data.path);
      return [{ type: 'CustodyWorktreeRemoved', data: omitUndefined({ ...command.data }) }];
    case 'RefuseCustodyRemoval':
      held(state, command.data.path);
      return [{ type: 'CustodyWorktreeRemovalRefused', data: { ...command.data } }];
    default:
      return assertNever(command);
  }
};

const unflag = (state: HeldWorktree): HeldWorktree => {
  const { strandedAt: _at, ...rest } = state;
  return { ...rest, stranded: false };
};

/** Folds one custody event; never mutates its input. */
export const evolveCustody = (state: CustodyState, event: CustodyEvent): CustodyState => {
  switch (event.type) {
    case 'OrphanWorktreeFound': {
      const { at, rule, ...data } = event.data;
      return omitUndefined({ ...data, status: 'held' as const, origin: 'disk' as const, rule, stranded: false, firstSeenAt: at, updatedAt: at });
    }
    case 'AgentWorktreeCreated': {
      const { at, sessionId, ...data } = event.data;
      return { ...data, ownerSessionId: sessionId, status: 'held', origin: 'claude-code', rule: 'created-for-claude-code', stranded: false, firstSeenAt: at, updatedAt: at };
    }
    case 'CustodyWorktreeKept': {
      if (state.status === 'none') return state;
      const { rule, detail, ownerDeadSince, at } = event.data;
      const { ownerDeadSince: _since, ...rest } = unflag(state);
      return omitUndefined({ ...rest, rule, detail, ownerDeadSince, updatedAt: at });
    }
    case 'CustodyWorktreeStranded': {
      if (state.status === 'none') return state;
      const { rule, detail, at } = event.data;
      return { ...state, rule, detail, stranded: true, strandedAt: at, updatedAt: at };
    }
    case 'CustodyWorkPreserved': {
      if (state.status === 'none') return state;
      return { ...state, preservedRef: event.data.ref, preservedCommit: event.data.commit, updatedAt: event.data.at };
    }
    case 'CustodyWorktreeRemoved': {
      if (state.status === 'none') return state;
      const { rule, preservedRef, at } = event.data;
      const { ownerDeadSince: _since, detail: _detail, ...rest } = unflag(state);
      return omitUndefined({ ...rest, status: 'removed' as const, rule, preservedRef: preservedRef ?? rest.preservedRef, updatedAt: at });
    }
    case 'CustodyWorktreeRemovalRefused': {
      if (state.status === 'none') return state;
      return { ...state, rule: event.data.rule, detail: event.data.detail, updatedAt: event.data.at };
    }
    case 'CustodyWorktreeReleased': {
      if (state.status === 'none') return state;
      const { ownerDeadSince: _since, detail: _detail, ...rest } = unflag(state);
      return { ...rest, status: 'released', rule: event.data.rule, updatedAt: event.data.at };
    }
    default:
      return assertNever(event);
  }
};

/** The decider of one custody stream (`worktree-<key>`). */
export const custodyDecider: Decider<CustodyState, CustodyCommand, CustodyEvent> = {
  decide: decideCustody,
  evolve: evolveCustody,
  initialState: () => ({ status: 'none' }),
};

/** What `GET /worktrees` shows for a held path: `stranded`, `orphan` (found on disk), `active` (Claude Code's), `removed`, `released`. */
export const custodyDisplayState = (state: HeldWorktree): 'stranded' | 'orphan' | 'active' | 'removed' | 'released' =>
  state.status !== 'held' ? state.status : state.stranded ? 'stranded' : state.origin === 'disk' ? 'orphan' : 'active';
