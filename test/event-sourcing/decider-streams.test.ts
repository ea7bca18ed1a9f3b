import { randomUUID } from 'node:crypto';
import { DeciderStreams } from '@runledger/application/event-sourcing/decider-streams';
import { sessionDecider, SessionCommand, SessionState, sessionStreamName } from '@runledger/domain';
import { EventStore, ReadStreamOptions, RecordedEvent } from '@runledger/infra/event-store';
import { decideAll } from '@runledger/application/sessions/session-streams';
import { describeEachEngine } from '../support/stores';

const at = '2025-03-01T10:00:00.000Z';
const context = { correlationId: 'c', actor: 'test' };
const start = (sessionId: string): SessionCommand => ({
  type: 'StartSession',
  data: { sessionId, projectId: 'p', kind: 'worker', agent: 'command', command: ['true'], branch: 'b', baseRef: 'main', at },
});
const dispatch = (callId: string): SessionCommand => ({ type: 'DispatchToolCall', data: { callId, tool: 'Bash', input: null, mode: 'observed', at } });
const complete = (callId: string): SessionCommand => ({ type: 'RecordToolCallResult', data: { callId, status: 'completed', source: 'hook', at } });

/** The store, counting the events each readStream delivers. */
const counting = (store: EventStore) => {
  const reads: number[] = [];
  const proxy = Object.create(store) as EventStore;
  proxy.readStream = async function* (streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
    let n = 0;
    for await (const event of store.readStream(streamId, options)) {
      n += 1;
      yield event;
    }
    reads.push(n);
  };
  return { store: proxy, reads };
};

describeEachEngine('DeciderStreams: one fold per stream, kept with its revision', (engine) => {
  const decide = (streams: DeciderStreams, sessionId: string, commands: (s: SessionState) => SessionCommand[]) =>
    streams.handle(sessionStreamName(sessionId), sessionDecider, (s) => decideAll(s, commands(s)), context);

  it('reads only the events after the revision it holds, and decides on its fold without reading', async () => {
    const { store, reads } = counting(engine().store);
    const streams = new DeciderStreams(store);
    const sessionId = `s-${randomUUID()}`;
    await decide(streams, sessionId, () => [start(sessionId)]);
    for (let i = 0; i < 20; i++) await decide(streams, sessionId, () => [dispatch(`c${i}`), complete(`c${i}`)]);
    const appendedWithoutReads = reads.reduce((a, b) => a + b, 0);
    const loaded = await streams.load(sessionStreamName(sessionId), sessionDecider);
    expect(loaded.revision).toBe(40);
    expect(loaded.state.status !== 'none' && loaded.state.callCounts).toEqual({ total: 20, dispatched: 0, completed: 20, failed: 0, interrupted: 0 });
    expect(reads.reduce((a, b) => a + b, 0) - appendedWithoutReads).toBe(0);
    // A fresh instance (another process) folds the whole stream once, then only what is new.
    const { store: other, reads: otherReads } = counting(engine().store);
    const second = new DeciderStreams(other);
    expect((await second.load(sessionStreamName(sessionId), sessionDecider)).revision).toBe(40);
    await decide(streams, sessionId, () => [dispatch('late')]);
    expect((await second.load(sessionStreamName(sessionId), sessionDecider)).revision).toBe(41);
    expect(otherReads).toEqual([41, 1]);
    // Replay at a revision is the fold of the first revision + 1 events, whatever is cached.
    const atTen = await second.load(sessionStreamName(sessionId), sessionDecider, 10);
    expect(atTen.revision).toBe(10);
    expect(atTen.state.status !== 'none' && atTen.state.callCounts.total).toBe(5);
  });

  it('a decision on a fold another writer has moved past re-runs on fresh state (invariant 2), and a refusal or no-op is checked on fresh state', async () => {
    const a = new DeciderStreams(engine().store);
    const b = new DeciderStreams(engine().store);
    const sessionId = `s-${randomUUID()}`;
    await decide(a, sessionId, () => [start(sessionId), dispatch('c1')]);
    await b.load(sessionStreamName(sessionId), sessionDecider);
    await decide(a, sessionId, () => [complete('c1'), dispatch('c2')]);

    // b's fold is stale: c2 unknown there. A result for c2 is refused on stale state but accepted on fresh state.
    const decided = await decide(b, sessionId, () => [complete('c2')]);
    expect(decided.revision).toBe(4);
    expect(decided.state.status !== 'none' && decided.state.toolCalls.get('c2')?.status).toBe('completed');

    // a's fold is stale now: its dispatch of c3 must land after b's append, at the right revision.
    const seen: number[] = [];
    const third = await decide(a, sessionId, (s) => {
      seen.push(s.status === 'none' ? -1 : s.callCounts.total);
      return [dispatch('c3')];
    });
    expect(seen).toEqual([2, 2]);
    expect(third.revision).toBe(5);
    const events = [];
    for await (const event of engine().store.readStream(sessionStreamName(sessionId))) events.push(event.type);
    expect(events).toEqual(['SessionStarted', 'ToolCallDispatched', 'ToolCallCompleted', 'ToolCallDispatched', 'ToolCallCompleted', 'ToolCallDispatched']);

    // A repeated dispatch is a no-op on fresh state too: nothing appended.
    const repeat = await decide(b, sessionId, () => [dispatch('c3')]);
    expect(repeat.events).toEqual([]);
    expect(repeat.revision).toBe(5);
  });
});
