import { replay } from '../shared/decider';
import { projectDecider, type RegisteredProject } from './project.decider';
import type { ProjectEvent } from './project.events';
import { maskEnv, MASKED_VALUE, toProjectSummary, toProjectView } from './project.view';

const T = (s: number): string => `2025-02-01T10:00:${String(s).padStart(2, '0')}.000Z`;
const registered: ProjectEvent = {
  type: 'ProjectRegistered',
  data: {
    projectId: 'shop',
    name: 'Shop',
    kind: 'workspace',
    repos: [{ name: 'web', path: '/src/web' }, { name: 'api', path: '/src/api' }],
    sessionPrefix: 'sh',
    defaultBranch: 'main',
    orchestratorAgent: 'claude-code',
    env: { DATABASE_PASSWORD: 'hunter2-db-password', API_TOKEN: 'tok-123' },
    at: T(0),
  },
};
const project = (events: ProjectEvent[]): RegisteredProject => {
  const state = replay(projectDecider, events);
  if (state.status === 'none') throw new Error('not registered');
  return state;
};

describe('toProjectSummary', () => {
  it('is the narrow list shape: no config, no env, no repos (invariant 12)', () => {
    const summary = toProjectSummary(project([registered]));
    expect(summary).toEqual({ id: 'shop', name: 'Shop', kind: 'workspace', sessionPrefix: 'sh', orchestratorAgent: 'claude-code' });
    expect(JSON.stringify(summary)).not.toMatch(/hunter2|tok-123|repos|env|\/src\//);
  });

  it('omits orchestratorAgent when none is configured', () => {
    const { orchestratorAgent: _agent, ...data } = registered.data as typeof registered.data & { orchestratorAgent?: string };
    expect(toProjectSummary(project([{ type: 'ProjectRegistered', data }]))).toEqual({ id: 'shop', name: 'Shop', kind: 'workspace', sessionPrefix: 'sh' });
  });
});

describe('toProjectView', () => {
  it('gives the config with every env value masked, the next session number and the active orchestrator', () => {
    const view = toProjectView(
      project([
        registered,
        { type: 'SessionIdAllocated', data: { sessionId: 'sh-1', number: 1, kind: 'orchestrator', at: T(1) } },
        { type: 'OrchestratorAssigned', data: { sessionId: 'sh-1', at: T(2) } },
      ]),
    );
    expect(view).toEqual({
      id: 'shop',
      name: 'Shop',
      kind: 'workspace',
      sessionPrefix: 'sh',
      orchestratorAgent: 'claude-code',
      repos: [{ name: 'web', path: '/src/web' }, { name: 'api', path: '/src/api' }],
      defaultBranch: 'main',
      activeOrchestrator: 'sh-1',
      env: { DATABASE_PASSWORD: '***', API_TOKEN: '***' },
      nextSessionNumber: 2,
      registeredAt: T(0),
      updatedAt: T(2),
    });
    expect(JSON.stringify(view)).not.toMatch(/hunter2|tok-123/);
  });

  it('gives an empty env when none is configured', () => {
    const { env: _env, ...data } = registered.data;
    expect(toProjectView(project([{ type: 'ProjectRegistered', data }])).env).toEqual({});
    expect(maskEnv(undefined)).toEqual({});
    expect(maskEnv({ A: '1' })).toEqual({ A: MASKED_VALUE });
  });
});
