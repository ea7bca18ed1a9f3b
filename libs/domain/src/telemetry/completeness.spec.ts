import { sessionCompleteness } from './completeness';

describe('sessionCompleteness (docs/ARCHITECTURE.md §4g)', () => {
  it('is 1 when every expected source saw every call', () => {
    const c = sessionCompleteness([{ callId: 'a', tool: 'Bash', seenBy: ['hooks', 'transcript', 'telemetry'] }], ['hooks', 'transcript', 'telemetry']);
    expect(c).toEqual({ sources: ['hooks', 'transcript', 'telemetry'], figure: 1, calls: 1, seenBy: { hooks: 1, transcript: 1, telemetry: 1 }, singleSource: [], missed: [] });
  });

  it('names the calls hooks missed (transcript and telemetry only) and flags a call one source alone confirms', () => {
    const c = sessionCompleteness([
      { callId: 'a', tool: 'Bash', seenBy: ['hooks', 'transcript', 'telemetry'] },
      { callId: 'b', tool: 'Read', seenBy: ['telemetry', 'transcript'] },
      { callId: 'c', seenBy: ['telemetry'] },
    ], ['hooks', 'transcript', 'telemetry']);
    expect(c.figure).toBe(Math.round((6 / 9) * 10_000) / 10_000);
    expect(c.missed).toEqual([
      { callId: 'b', tool: 'Read', seenBy: ['transcript', 'telemetry'], missedBy: ['hooks'] },
      { callId: 'c', seenBy: ['telemetry'], missedBy: ['hooks', 'transcript'] },
    ]);
    expect(c.singleSource).toEqual([{ callId: 'c', source: 'telemetry' }]);
  });

  it('leaves an unexpected source out of the figure and has no figure without calls', () => {
    expect(sessionCompleteness([{ callId: 'a', seenBy: ['hooks', 'transcript'] }], ['hooks', 'transcript']).figure).toBe(1);
    expect(sessionCompleteness([], ['hooks']).figure).toBeNull();
  });
});
