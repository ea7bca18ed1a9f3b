import type { Session } from '@runledger/domain';
import type { GitWorktrees } from '@runledger/infra/git';
import type { CommandContext } from '../../event-sourcing/command-context';
import type { SessionStreams } from '../session-streams';
import type { SessionStarter } from '../spawn-session/session-starter';
import { RestoreLaunch, RestoreSessionHandler } from './restore-session.handler';

/** A Codex worker interrupted with its runtime gone: what the restore folds (only the fields the restore reads). */
const interrupted = { status: 'interrupted', kind: 'worker', agent: 'codex', projectId: 'p', worktrees: {}, prompt: 'fix it', command: ['codex'], runtimeType: 'process' };

describe('RestoreSessionHandler (invariant 14)', () => {
  const restore = async (atStart: object, atLaunch: object): Promise<RestoreLaunch> => {
    const launches: RestoreLaunch[] = [];
    const sessions = {
      decide: async () => ({ state: atStart as Session, revision: 4 }),
      project: async () => ({ state: { repos: [] }, revision: 0 }),
      load: async () => ({ state: atLaunch as Session, revision: 6 }),
    } as unknown as SessionStreams;
    const starter = { launch: async (_project: unknown, _id: string, launch: RestoreLaunch) => (launches.push(launch), {}) } as unknown as SessionStarter;
    await new RestoreSessionHandler(sessions, {} as GitWorktrees, starter).execute({ sessionId: 's-1', context: {} as CommandContext, relaunch: undefined } as never);
    expect(launches).toHaveLength(1);
    return launches[0];
  };

  it('resumes natively an agent session linked after the restore began (a hook of the gone runtime delivered late)', async () => {
    const launch = await restore(interrupted, { ...interrupted, status: 'restoring', agentSessionId: 'thread-1' });
    expect(launch).toMatchObject({ resumeMode: 'native', resume: { agentSessionId: 'thread-1' }, prompt: undefined });
  });

  it('relaunches fresh with the prompt when no agent session was ever linked', async () => {
    const launch = await restore(interrupted, { ...interrupted, status: 'restoring' });
    expect(launch).toMatchObject({ resumeMode: 'fresh', prompt: 'fix it' });
    expect(launch.resume).toBeUndefined();
  });
});
