import { replay } from '../shared/decider';
import { deepFreeze, given } from '../shared/given-when-then';
import type { ProjectCommand, RegisterProject } from './project.commands';
import { projectDecider, projectStreamName, type ProjectState } from './project.decider';
import { ProjectAlreadyRegistered, ProjectInvalid, ProjectNotFound, ProjectOrchestratorActive } from './project.errors';
import type { ProjectEvent } from './project.events';

const T0 = '2025-01-01T00:00:00.000Z';
const T1 = '2025-01-01T00:00:01.000Z';
const T2 = '2025-01-01T00:00:02.000Z';

const registerData = (over: Partial<RegisterProject['data']> = {}): RegisterProject['data'] => ({
  projectId: 'p1',
  name: 'demo',
  kind: 'single-repo',
  repos: [{ name: 'app', path: '/repos/app' }],
  sessionPrefix: 'rl',
  at: T0,
  ...over,
});
const register = (over: Partial<RegisterProject['data']> = {}): ProjectCommand => ({ type: 'RegisterProject', data: registerData(over) });
const registered = (over: Partial<RegisterProject['data']> = {}): ProjectEvent => ({ type: 'ProjectRegistered', data: registerData(over) });
const allocated = (number: number, kind: 'worker' | 'orchestrator' = 'worker'): ProjectEvent => ({
  type: 'SessionIdAllocated',
  data: { sessionId: `rl-${number}`, number, kind, at: T1 },
});
const assigned = (sessionId: string): ProjectEvent => ({ type: 'OrchestratorAssigned', data: { sessionId, at: T1 } });
const released = (sessionId: string): ProjectEvent => ({ type: 'OrchestratorReleased', data: { sessionId, at: T2 } });

const given_ = (events: ProjectEvent[] = []) => given(projectDecider, events);

describe('project decider', () => {
  describe('RegisterProject', () => {
    it('registers a single-repo project', () =>
      given_().when(register()).then([registered()]));

    it('registers a workspace project with its options', () => {
      const data = registerData({
        kind: 'workspace',
        repos: [
          { name: 'api', path: '/repos/api' },
          { name: 'web', path: '/repos/web' },
        ],
        defaultBranch: 'main',
        orchestratorAgent: 'claude-code',
        env: { TOKEN: 'secret' },
      });
      given_().when({ type: 'RegisterProject', data }).then([{ type: 'ProjectRegistered', data }]);
    });

    it('refuses a project that is already registered', () =>
      given_([registered()]).when(register({ name: 'other' })).thenThrows(ProjectAlreadyRegistered, { projectId: 'p1' }));

    it.each<[string, Partial<RegisterProject['data']>]>([
      ['name', { name: '  ' }],
      ['projectId', { projectId: '' }],
      ['sessionPrefix', { sessionPrefix: 'has space' }],
      ['repos', { repos: [] }],
      ['repos', { repos: [{ name: 'a', path: '/a' }, { name: 'b', path: '/b' }] }],
      ['repos[1].name', { kind: 'workspace', repos: [{ name: 'a', path: '/a' }, { name: 'a', path: '/b' }] }],
      ['repos[0].name', { repos: [{ name: '../x', path: '/a' }] }],
      ['repos[0].path', { repos: [{ name: 'a', path: ' ' }] }],
    ])('refuses an invalid %s', (field, over) => given_().when(register(over)).thenThrows(ProjectInvalid, { field }));
  });

  describe('AllocateSessionId', () => {
    it('allocates <prefix>-1 first', () =>
      given_([registered()]).when({ type: 'AllocateSessionId', data: { kind: 'worker', at: T1 } }).then([allocated(1)]));

    it('allocates previous max + 1 and never reuses a number', () =>
      given_([registered(), allocated(1), allocated(2, 'orchestrator')])
        .when({ type: 'AllocateSessionId', data: { kind: 'worker', at: T1 } })
        .then([allocated(3)]));

    it('continues after the highest recorded number', () =>
      given_([registered(), allocated(7)])
        .when({ type: 'AllocateSessionId', data: { kind: 'orchestrator', at: T1 } })
        .then([allocated(8, 'orchestrator')]));

    it('refuses an unregistered project', () =>
      given_().when({ type: 'AllocateSessionId', data: { kind: 'worker', at: T1 } }).thenThrows(ProjectNotFound));
  });

  describe('AssignOrchestrator', () => {
    it('assigns when none is active', () =>
      given_([registered()]).when({ type: 'AssignOrchestrator', data: { sessionId: 'rl-1', at: T1 } }).then([assigned('rl-1')]));

    it('is idempotent for the active orchestrator', () =>
      given_([registered(), assigned('rl-1')]).when({ type: 'AssignOrchestrator', data: { sessionId: 'rl-1', at: T2 } }).then([]));

    it('refuses a second active orchestrator (invariant 11)', () =>
      given_([registered(), assigned('rl-1')])
        .when({ type: 'AssignOrchestrator', data: { sessionId: 'rl-2', at: T2 } })
        .thenThrows(ProjectOrchestratorActive, { sessionId: 'rl-1' }));

    it('assigns a new one after the old one was released', () =>
      given_([registered(), assigned('rl-1'), released('rl-1')])
        .when({ type: 'AssignOrchestrator', data: { sessionId: 'rl-2', at: T1 } })
        .then([assigned('rl-2')]));

    it('refuses an unregistered project', () =>
      given_().when({ type: 'AssignOrchestrator', data: { sessionId: 'rl-1', at: T1 } }).thenThrows(ProjectNotFound));
  });

  describe('ReleaseOrchestrator', () => {
    it('releases the active orchestrator', () =>
      given_([registered(), assigned('rl-1')]).when({ type: 'ReleaseOrchestrator', data: { sessionId: 'rl-1', at: T2 } }).then([released('rl-1')]));

    it('is a no-op for a session that is not the active one (retry of a half-done replacement)', () =>
      given_([registered(), assigned('rl-2')]).when({ type: 'ReleaseOrchestrator', data: { sessionId: 'rl-1', at: T2 } }).then([]));

    it('refuses an unregistered project', () =>
      given_().when({ type: 'ReleaseOrchestrator', data: { sessionId: 'rl-1', at: T1 } }).thenThrows(ProjectNotFound));
  });

  describe('evolve', () => {
    it('replays config, next number and active orchestrator', () => {
      const state = replay(projectDecider, [registered(), allocated(1), allocated(2, 'orchestrator'), assigned('rl-2')]);
      expect(state).toEqual({
        status: 'registered',
        projectId: 'p1',
        name: 'demo',
        kind: 'single-repo',
        repos: [{ name: 'app', path: '/repos/app' }],
        sessionPrefix: 'rl',
        nextSessionNumber: 3,
        activeOrchestrator: 'rl-2',
        registeredAt: T0,
        updatedAt: T1,
      });
      expect(replay(projectDecider, [registered(), assigned('rl-2'), released('rl-2')])).not.toHaveProperty('activeOrchestrator');
    });

    it('does not mutate its input state', () => {
      const history = [registered(), allocated(1), assigned('rl-1'), released('rl-1')];
      let state: ProjectState = deepFreeze(projectDecider.initialState());
      for (const event of history) {
        const before = JSON.stringify(state);
        const next = projectDecider.evolve(state, event);
        expect(JSON.stringify(state)).toBe(before);
        expect(next).not.toBe(state);
        state = deepFreeze(next);
      }
    });

    it('names the stream project-<projectId>', () => expect(projectStreamName('p1')).toBe('project-p1'));
  });

  describe('ForgetProjectEnv (crypto-shredding, docs/ARCHITECTURE.md §4c)', () => {
    const withEnv = registered({ envFingerprints: { API_KEY: 'hmac-sha256:aa', DB_PASSWORD: 'hmac-sha256:bb' } });
    const forget = (names?: string[]): ProjectCommand => ({ type: 'ForgetProjectEnv', data: { ...(names ? { names } : {}), at: T2 } });
    const forgotten = (names: string[]): ProjectEvent => ({ type: 'ProjectEnvForgotten', data: { names, at: T2 } });

    it('forgets the named variables, names only in the event', () => given_([withEnv]).when(forget(['API_KEY'])).then([forgotten(['API_KEY'])]));
    it('forgets every configured variable when no name is given', () =>
      given_([withEnv]).when(forget()).then([forgotten(['API_KEY', 'DB_PASSWORD'])]));
    it('appends nothing for a variable already forgotten', () =>
      given_([withEnv, forgotten(['API_KEY'])]).when(forget(['API_KEY'])).then([]));
    it('refuses a name the project does not configure, naming it', () =>
      given_([withEnv]).when(forget(['API_KEY', 'NOPE'])).thenThrows(ProjectInvalid, { field: 'names[1]' }));
    it('refuses an unknown project', () => given_().when(forget()).thenThrows(ProjectNotFound));
    it('keeps the state of forgotten names and drops a legacy value held in the log', () => {
      const legacy = registered({ env: { API_KEY: 'old-value', KEEP: 'kept-value' } });
      const state = replay(projectDecider, [legacy, forgotten(['API_KEY'])]);
      expect(state).toMatchObject({ forgottenEnv: ['API_KEY'], env: { KEEP: 'kept-value' } });
      given_([legacy, forgotten(['API_KEY'])]).when(forget(['API_KEY'])).then([]);
    });
  });
});
