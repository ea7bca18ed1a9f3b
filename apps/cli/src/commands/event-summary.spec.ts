import { AuditEvent } from '../client/api-types';
import { EventSummarizer, historyLine } from './event-summary';

let revision = 0;
const event = (type: string, data: Record<string, unknown>, metadata: Record<string, string> = {}): AuditEvent => ({
  revision: revision++, globalPosition: revision, type, data, metadata: { recordedAt: '2025-01-01T00:00:10.000Z', ...metadata },
  hash: 'h', prevHash: 'p', eventId: `e${revision}`,
});

describe('history summaries', () => {
  it('names the tool, exit code and duration of each call, and marks interruptions and late results', () => {
    const s = new EventSummarizer();
    const at = (sec: number) => `2025-01-01T00:00:${String(sec).padStart(2, '0')}.000Z`;
    expect(s.summarize(event('ToolCallDispatched', { callId: 'c1', tool: 'Bash', input: { command: 'ls -la' }, mode: 'observed', attempt: 1, at: at(0) })))
      .toBe('Bash c1 attempt 1 dispatched (observed): ls -la');
    expect(s.summarize(event('ToolCallCompleted', { callId: 'c1', attempt: 1, exitCode: 0, source: 'agent', at: at(2) }))).toBe('Bash c1 completed exit 0 in 2.00s (agent)');
    s.summarize(event('ToolCallDispatched', { callId: 'c2', tool: 'Read', input: {}, mode: 'observed', attempt: 1, at: at(3) }));
    expect(s.summarize(event('ToolCallInterrupted', { callId: 'c2', attempt: 1, reason: 'session killed', at: at(4) }))).toBe('INTERRUPTED Read c2 attempt 1 after 1.00s: session killed');
    expect(s.summarize(event('ToolCallLateResultRecorded', { callId: 'c2', attempt: 1, status: 'failed', exitCode: 3, source: 'agent', at: at(5) })))
      .toMatch(/^LATE RESULT Read c2 attempt 1 failed exit 3, 2\.00s after dispatch/);
  });

  it('shows occurredAt beside recordedAt when the fact happened earlier', () => {
    const line = historyLine(event('AgentRunCompleted', { runId: 'r1' }, { occurredAt: '2024-12-31T23:00:00.000Z' }), new EventSummarizer());
    expect(line).toMatch(/^2025-01-01T00:00:10\.000Z \(occurred 2024-12-31T23:00:00\.000Z\)  #\d+  AgentRunCompleted  run r1$/);
  });

  it('names who caused the event', () => {
    expect(historyLine(event('SessionKilled', {}, { actor: 'user:ada' }), new EventSummarizer())).toMatch(/  \[by user:ada\]$/);
  });
});
