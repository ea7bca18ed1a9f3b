/** The three records of a tool call runledger compares (docs/ARCHITECTURE.md §4g): the agent's hooks, its transcript, its own telemetry. */
export type CallSource = 'hooks' | 'transcript' | 'telemetry';

/** Every source, in the order reports list them. */
export const CALL_SOURCES: readonly CallSource[] = ['hooks', 'transcript', 'telemetry'];

/** One call and the sources that saw it (its tool when any source named it). */
export interface CallSighting {
  callId: string;
  tool?: string;
  seenBy: CallSource[];
}

/**
 * Per-session completeness: which sources are expected (`sources`), how many calls each saw, the calls only one source
 * saw (flagged: nothing else confirms them) and the calls some expected source missed. `figure` is the share of
 * (call, expected source) pairs seen, in [0, 1], rounded to 4 places; null when the session has no call or no
 * expected source (a plain command's calls).
 */
export interface SessionCompleteness {
  sources: CallSource[];
  figure: number | null;
  calls: number;
  seenBy: Record<CallSource, number>;
  singleSource: Array<{ callId: string; tool?: string; source: CallSource }>;
  missed: Array<{ callId: string; tool?: string; seenBy: CallSource[]; missedBy: CallSource[] }>;
}

/**
 * Completeness of a session's calls over the `expected` sources (pure): a source expected but silent for a call counts
 * against the figure; a source not expected (telemetry of an agent that was never told to send it) counts neither way
 * but its sightings still list. Calls are reported in the order given.
 */
export const sessionCompleteness = (sightings: readonly CallSighting[], expected: readonly CallSource[]): SessionCompleteness => {
  const sources = CALL_SOURCES.filter((s) => expected.includes(s));
  const seenBy: Record<CallSource, number> = { hooks: 0, transcript: 0, telemetry: 0 };
  const singleSource: SessionCompleteness['singleSource'] = [];
  const missed: SessionCompleteness['missed'] = [];
  let seenPairs = 0;
  for (const call of sightings) {
    const seen = CALL_SOURCES.filter((s) => call.seenBy.includes(s));
    for (const s of seen) seenBy[s] += 1;
    const tool = call.tool !== undefined ? { tool: call.tool } : {};
    if (seen.length === 1) singleSource.push({ callId: call.callId, ...tool, source: seen[0] });
    const missedBy = sources.filter((s) => !seen.includes(s));
    seenPairs += sources.length - missedBy.length;
    if (missedBy.length > 0) missed.push({ callId: call.callId, ...tool, seenBy: seen, missedBy });
  }
  const pairs = sightings.length * sources.length;
  return { sources, figure: pairs === 0 ? null : Math.round((seenPairs / pairs) * 10_000) / 10_000, calls: sightings.length, seenBy, singleSource, missed };
};
