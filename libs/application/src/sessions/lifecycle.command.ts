import { CommandContext } from '../event-sourcing/command-context';

/** `POST /sessions/:id/kill`: stop the runtime, remove clean worktrees, keep dirty ones (seed 002, invariant 10). */
export class KillSessionCommand {
  constructor(readonly sessionId: string, readonly reason: string, readonly context: CommandContext) {}
}

/** `POST /sessions/:id/cleanup`: preserve uncommitted work to a ref, then force-remove the worktrees (DESIGN §3). */
export class CleanupSessionCommand {
  constructor(readonly sessionId: string, readonly context: CommandContext) {}
}

/** `POST /sessions/:id/restore`: recreate the worktrees, replay preserved work, relaunch under the same id. */
export class RestoreSessionCommand {
  constructor(readonly sessionId: string, readonly context: CommandContext) {}
}
