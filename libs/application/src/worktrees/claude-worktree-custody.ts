import { existsSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError, RegisteredProject, Session } from '@runledger/domain';
import { RunledgerConfig } from '@runledger/infra/config';
import { GitWorktrees } from '@runledger/infra/git';
import { ReadModels } from '@runledger/infra/read-models';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { CommandContext } from '../event-sourcing/command-context';
import { SessionStreams } from '../sessions/session-streams';
import { CustodyStreams } from './custody-streams';

/** Rule recorded when runledger removes a worktree at Claude Code's request, its work preserved first. */
export const CLAUDE_REMOVAL_RULE = 'removed-for-claude-code';
/** Rule recorded when a removal is refused because another live session uses the path. */
export const IN_USE_RULE = 'in-use-by-live-session';

const NAME = /^(?!\.)(?!.*\.\.)(?!.*\.lock$)[A-Za-z0-9._-]{1,100}$/;
const invalid = (field: string, message: string) => new DomainError('HOOK.INVALID', 'invalid', message, { field });

const canonical = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    const parent = path.dirname(p);
    return parent === p ? p : path.join(canonical(parent), path.basename(p));
  }
};
const inside = (dir: string, p: string): boolean => p === dir || p.startsWith(`${dir}${path.sep}`);

/**
 * Custody of the worktrees Claude Code makes itself (`--worktree`, background sessions, isolated sub-agents), through its
 * WorktreeCreate and WorktreeRemove hooks (docs/ARCHITECTURE.md §4b, invariant 10): runledger creates them in its own
 * namespace (`<dataDir>/worktrees/<projectId>/<sessionId>.claude/<name>` on `runledger/<sessionId>.claude/<name>`) and
 * records them in the path's custody stream; a removal preserves the work to `refs/runledger/preserved/<sessionId>.claude/<name>`
 * first and is refused (409 CUSTODY.IN_USE) while another live session uses the path.
 */
@Injectable()
export class ClaudeWorktreeCustody {
  constructor(
    private readonly sessions: SessionStreams,
    private readonly custody: CustodyStreams,
    private readonly git: GitWorktrees,
    private readonly readModels: ReadModels,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
  ) {}

  /** WorktreeCreate: creates (or finds, when already held for this session) the worktree `name`; returns its canonical path. Throws HOOK.INVALID (400), CUSTODY.PATH_HELD (409). */
  async create(input: { sessionId: string; agentSessionId: string; name: unknown; cwd?: string }, context: CommandContext): Promise<string> {
    if (typeof input.name !== 'string' || !NAME.test(input.name)) throw invalid('name', 'name must be 1-100 characters of [A-Za-z0-9._-] (not starting with a dot)');
    const name = input.name;
    const { state: session } = await this.sessions.load(input.sessionId);
    const { state: project } = await this.sessions.project(session.projectId);
    const { repoPath, base } = await this.baseOf(session, project, input.cwd);
    const target = canonical(path.join(this.config.dataDir, 'worktrees', project.projectId, `${session.sessionId}.claude`, name));
    const branch = `runledger/${session.sessionId}.claude/${name}`;
    const held = await this.custody.load(target);
    if (held.status === 'held' && existsSync(target)) {
      await this.custody.decide(target, () => [{ type: 'RecordAgentWorktreeCreated', data: { path: target, repoPath, branch, baseRef: held.baseRef ?? base, sessionId: session.sessionId, agentSessionId: input.agentSessionId, name, at: new Date().toISOString() } }], context);
      return target; // the same worktree again (a resumed `--worktree <name>`)
    }
    const added = await this.git.add({ repoPath, worktreePath: target, branch, baseRef: base });
    await this.custody.decide(target, () => [{
      type: 'RecordAgentWorktreeCreated',
      data: { path: added.path, repoPath, branch, baseRef: base, sessionId: session.sessionId, agentSessionId: input.agentSessionId, name, at: new Date().toISOString() },
    }], context);
    return added.path;
  }

  /**
   * WorktreeRemove: preserves the worktree's work (uncommitted files through a temporary index, else its HEAD) to a ref,
   * then force-removes it; refused CUSTODY.IN_USE (409, recorded) while another live session uses the path, and
   * CUSTODY.NOT_HELD (404) for a path runledger does not hold. Returns the preserving ref.
   */
  async remove(input: { sessionId: string; worktreePath: unknown }, context: CommandContext): Promise<{ preservedRef?: string }> {
    if (typeof input.worktreePath !== 'string' || !path.isAbsolute(input.worktreePath)) throw invalid('worktree_path', 'worktree_path must be an absolute path');
    const target = canonical(input.worktreePath);
    const held = await this.custody.load(target);
    if (held.status !== 'held' || !held.repoPath || !held.branch) {
      throw new DomainError('CUSTODY.NOT_HELD', 'not_found', `runledger holds no worktree at ${target}`, { path: target });
    }
    const users = await this.liveUsers(target, input.sessionId, held.ownerSessionId);
    const at = () => new Date().toISOString();
    if (users.length > 0) {
      const detail = `used by live session(s) ${users.join(', ')}`;
      await this.custody.decide(target, () => [{ type: 'RefuseCustodyRemoval', data: { path: target, rule: IN_USE_RULE, detail, at: at() } }], context);
      throw new DomainError('CUSTODY.IN_USE', 'conflict', `${target} is ${detail}: not removed`, { path: target, sessions: users });
    }
    let preservedRef: string | undefined;
    if (existsSync(target)) {
      const ref = `refs/runledger/preserved/${held.ownerSessionId ?? input.sessionId}.claude/${path.basename(target)}`;
      const preserved = await this.git.preserve({ worktreePath: target, ref, message: `runledger: work of ${target} before Claude Code's WorktreeRemove` });
      const commit = preserved?.commit ?? (await this.git.pinHead(target, ref));
      if (commit) {
        preservedRef = ref;
        await this.custody.decide(target, () => [{ type: 'RecordCustodyPreserved', data: { path: target, ref, commit, at: at() } }], context);
      }
    }
    await this.git.remove({ repoPath: held.repoPath, worktreePath: target, force: true });
    await this.custody.decide(target, () => [{ type: 'RecordCustodyRemoved', data: { path: target, rule: CLAUDE_REMOVAL_RULE, at: at(), ...(preservedRef ? { preservedRef } : {}) } }], context);
    return preservedRef ? { preservedRef } : {};
  }

  /** Live sessions other than the requester that use the path: its custody owner, or a session record claiming it or a path inside it. */
  private async liveUsers(target: string, requester: string, owner: string | undefined): Promise<string[]> {
    const users = new Set<string>();
    const owners = await this.readModels.sessionOwners();
    if (owner && owner !== requester && owners.get(owner)?.status !== 'terminated' && owners.has(owner)) users.add(owner);
    for (const record of await this.readModels.worktreeRecords()) {
      if (record.sessionStatus === 'terminated' || record.sessionId === requester) continue;
      if (!['active', 'restored', 'retry_remove'].includes(record.state)) continue;
      const claimed = canonical(record.path);
      if (inside(target, claimed) || inside(claimed, target)) users.add(record.sessionId);
    }
    return [...users].sort();
  }

  /** The repository and base commit: the session worktree holding `cwd` (else its first), at its HEAD. */
  private async baseOf(session: Session, project: RegisteredProject, cwd: string | undefined): Promise<{ repoPath: string; base: string }> {
    const worktrees = Object.values(session.worktrees).filter((w) => w.status === 'active' || w.status === 'restored');
    const here = cwd ? canonical(cwd) : undefined;
    const worktree = worktrees.find((w) => here !== undefined && inside(canonical(w.path), here)) ?? worktrees[0];
    const repo = project.repos.find((r) => r.name === worktree?.repo) ?? project.repos.find((r) => here !== undefined && inside(canonical(r.path), here)) ?? project.repos[0];
    if (!repo) throw invalid('cwd', `session ${session.sessionId} has no repository to branch a worktree from`);
    const from = worktree && existsSync(worktree.path) ? worktree.path : repo.path;
    return { repoPath: repo.path, base: await this.git.resolveCommit(from, 'HEAD') };
  }
}
