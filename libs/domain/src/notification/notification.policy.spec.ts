import { notificationKey, notificationOf, retryDelayMs, webhooksProblem } from './notification.policy';

const ev = (streamId: string, type: string, data: unknown) => ({ streamId, revision: 7, type, data });

describe('notifications (docs/ARCHITECTURE.md §4i)', () => {
  it('raises one for each moment a session needs a person, and none for other events', () => {
    expect(notificationOf(ev('session-p-1', 'AgentHookReceived', { hook: 'PermissionRequest', detail: { tool_name: 'Bash' } }))).toEqual({ kind: 'permission_request', sessionId: 'p-1', summary: 'p-1 asks permission to run Bash' });
    expect(notificationOf(ev('session-p-1', 'AgentHookReceived', { hook: 'Notification', detail: { notification_type: 'idle_prompt', message: 'Claude is waiting' } }))).toMatchObject({ kind: 'waiting_input', sessionId: 'p-1' });
    expect(notificationOf(ev('session-p-1', 'AgentHookReceived', { hook: 'Notification', detail: { notification_type: 'auth_success' } }))).toBeNull();
    expect(notificationOf(ev('project-p', 'BudgetThresholdCrossed', { scope: 'project', threshold: 100, budgetUsd: 2, spentUsd: 3, enforce: true }))).toMatchObject({ kind: 'budget_crossed', projectId: 'p', summary: 'project p crossed 100% of its $2 budget ($3 spent): its agents are stopped' });
    expect(notificationOf(ev('session-p-1', 'SessionInterrupted', { reason: 'runtime gone', resumable: false }))).toMatchObject({ kind: 'not_resumable', sessionId: 'p-1' });
    expect(notificationOf(ev('session-p-1', 'SessionInterrupted', { reason: 'runtime gone', resumable: true }))).toBeNull();
    expect(notificationOf(ev('session-p-1', 'WorktreeStranded', { repo: 'main', reason: 'dirty' }))).toMatchObject({ kind: 'worktree_stranded', sessionId: 'p-1' });
    expect(notificationOf(ev('session-p-1', 'ToolCallDispatched', { callId: 'c' }))).toBeNull();
  });

  it('keys a notification by its kind and source, refuses bad webhooks naming the field, and backs off to 5 minutes', () => {
    expect(notificationKey('no_signal', { streamId: 'session-p-1', revision: 3, type: 'health:no_signal' })).toBe('no_signal:session-p-1:3');
    expect(webhooksProblem([{ url: 'https://hooks.example.com/x' }])).toBeNull();
    expect(webhooksProblem([{ url: 'https://a:b@hooks.example.com/x' }])).toMatchObject({ field: 'webhooks[0].url' });
    expect(webhooksProblem([{ url: 'https://x.example.com' }, { url: 'file:///etc/passwd' }])).toMatchObject({ field: 'webhooks[1].url' });
    expect(webhooksProblem([{ url: 'https://x.example.com', kinds: ['no_signal', 'bogus' as never] }])).toMatchObject({ field: 'webhooks[0].kinds[1]' });
    expect([1, 2, 3, 4, 20].map(retryDelayMs)).toEqual([1000, 2000, 4000, 8000, 300_000]);
  });
});
