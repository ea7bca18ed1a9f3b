import { migrate } from '@runledger/infra/database';
import { NotificationOutbox, notificationsMigration } from '@runledger/infra/notifications';
import { describeEachEngine } from '../support/stores';

/** The notification outbox's SQL on both engines (docs/ARCHITECTURE.md §4i): raised once, claimed once, every attempt kept. */
describeEachEngine('the notification outbox', (engine) => {
  it('raises a notification once, claims each due delivery once, retries a failure and records every attempt', async () => {
    await migrate(engine().db, [notificationsMigration]);
    const outbox = new NotificationOutbox(engine().db);
    const n = {
      notificationId: `n-${Date.now()}`, projectId: 'p', sessionId: 'p-1', kind: 'permission_request', summary: 'p-1 asks permission to run Bash',
      source: { streamId: 'session-p-1', revision: 4, type: 'AgentHookReceived' }, raisedAt: new Date(Date.now() - 1000).toISOString(),
    };
    const targets = [{ url: 'http://a.example/hook', payload: '{"a":1}' }, { url: 'http://b.example/hook', payload: '{"a":1}' }];
    expect(await outbox.add(n, targets)).toBe(true);
    expect(await outbox.add(n, targets)).toBe(false);

    const now = new Date();
    const claimed = await outbox.claimDue(now, 10, 15_000);
    expect(claimed.map((d) => [d.url, d.attempt, d.kind, d.projectId]).sort()).toEqual([['http://a.example/hook', 1, 'permission_request', 'p'], ['http://b.example/hook', 1, 'permission_request', 'p']]);
    expect(await outbox.claimDue(now, 10, 15_000)).toEqual([]); // both claimed
    const [a, b] = claimed.sort((x, y) => x.url.localeCompare(y.url));
    await outbox.recordAttempt(a, { at: now, statusCode: 204, error: null, durationMs: 3 }, { status: 'delivered' });
    await outbox.recordAttempt(b, { at: now, statusCode: null, error: 'ECONNREFUSED', durationMs: 1 }, { status: 'pending', retryAt: new Date(now.getTime() + 1000) });
    expect(await outbox.claimDue(now, 10, 15_000)).toEqual([]); // not due yet
    const later = new Date(now.getTime() + 1500);
    const retried = await outbox.claimDue(later, 10, 15_000);
    expect(retried).toEqual([expect.objectContaining({ url: b.url, attempt: 2 })]);
    await outbox.recordAttempt(retried[0], { at: later, statusCode: 503, error: 'HTTP 503', durationMs: 2 }, { status: 'failed' });

    const [listed] = await outbox.list({ projectId: 'p', limit: 10 });
    expect(listed).toMatchObject({ notificationId: n.notificationId, sessionId: 'p-1', source: n.source });
    expect(listed.deliveries).toEqual([
      expect.objectContaining({ url: a.url, status: 'delivered', attempts: [expect.objectContaining({ attempt: 1, statusCode: 204, error: null })], nextAt: null }),
      expect.objectContaining({ url: b.url, status: 'failed', lastError: 'HTTP 503', attempts: [expect.objectContaining({ attempt: 1, statusCode: null, error: 'ECONNREFUSED' }), expect.objectContaining({ attempt: 2, statusCode: 503 })] }),
    ]);
    expect(await outbox.list({ sessionId: 'p-2', limit: 10 })).toEqual([]);
  });
});
