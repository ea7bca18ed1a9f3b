import { parseStreamName, projectStreamName, sessionIdOfStream, sessionStreamName, SYSTEM_STREAM } from './stream-names';

describe('stream names', () => {
  it('round-trips session and project ids, including ids that contain dashes', () => {
    expect(parseStreamName(sessionStreamName('demo-12'))).toEqual({ kind: 'session', sessionId: 'demo-12' });
    expect(parseStreamName(projectStreamName('my-proj'))).toEqual({ kind: 'project', projectId: 'my-proj' });
  });

  it('names the system stream and leaves everything else as other', () => {
    expect(parseStreamName(SYSTEM_STREAM)).toEqual({ kind: 'system' });
    expect(parseStreamName('worktree-ab12')).toEqual({ kind: 'worktree', key: 'ab12' });
    expect(parseStreamName('worktree-')).toEqual({ kind: 'other', streamId: 'worktree-' });
    expect(parseStreamName('session-')).toEqual({ kind: 'other', streamId: 'session-' });
    expect(parseStreamName('sessions-1')).toEqual({ kind: 'other', streamId: 'sessions-1' });
  });

  it('gives a session id only for session streams', () => {
    expect(sessionIdOfStream('session-a-1')).toBe('a-1');
    expect(sessionIdOfStream('project-a')).toBeUndefined();
  });
});
