import { ResumeMode } from '@runledger/domain';
import { CommandContext } from '../event-sourcing/command-context';

/** How a relaunch continues the agent: `native` resumes its conversation (with `prompt`, else a continuation prompt), `fresh` starts it with `prompt` or its original one. */
export interface RelaunchOptions {
  mode: ResumeMode;
  prompt?: string;
}

/** `POST /sessions/:id/kill`: stop the runtime, remove clean worktrees, keep dirty ones (invariant 10). */
export class KillSessionCommand {
  constructor(readonly sessionId: string, readonly reason: string, readonly context: CommandContext) {}
}

/** `POST /sessions/:id/cleanup`: preserve uncommitted work to a ref, then force-remove the worktrees (docs/ARCHITECTURE.md §3). */
export class CleanupSessionCommand {
  constructor(readonly sessionId: string, readonly context: CommandContext) {}
}

/** `POST /sessions/:id/restore`: recreate the worktrees, replay preserved work, relaunch under the same id (natively resumed when the agent can be, docs/ARCHITECTURE.md §4). */
export class RestoreSessionCommand {
  constructor(readonly sessionId: string, readonly context: CommandContext, readonly relaunch?: RelaunchOptions) {}
}

/** `POST /sessions/:id/resume`: continue an exited or interrupted agent under the same id, optionally with a new prompt. */
export class ResumeSessionCommand {
  constructor(readonly sessionId: string, readonly context: CommandContext, readonly prompt?: string) {}
}

/** `POST /sessions/:id/reconcile`: make the log equal the agent's transcript now and settle its runtime (never relaunches). */
export class ReconcileSessionCommand {
  constructor(readonly sessionId: string, readonly context: CommandContext) {}
}
