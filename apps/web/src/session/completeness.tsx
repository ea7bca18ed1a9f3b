import type { SessionSnapshot } from '../api/types';

/**
 * The completeness of a session's calls (docs/ARCHITECTURE.md §4g): the figure over the expected sources, how many calls
 * each source saw, the calls a source missed and, flagged, the calls only one source confirms. Nothing when the
 * snapshot has no completeness (a list row) or the session has no call.
 */
export const CompletenessPanel = ({ completeness: c, onSelect }: { completeness: SessionSnapshot['completeness']; onSelect: (callId: string) => void }) => {
  if (!c || c.calls === 0 || c.figure === null) return null;
  const percent = `${(c.figure * 100).toFixed(1)}%`;
  return (
    <section aria-labelledby="completeness-heading" class="completeness">
      <h2 id="completeness-heading">
        Completeness <span class={`badge ${c.figure === 1 ? 'complete' : 'incomplete'}`}>{percent}</span>
      </h2>
      <p class="muted">
        {c.calls} calls over {c.sources.join(', ')}: {Object.entries(c.seenBy).map(([source, n]) => `${source} ${n}`).join(' · ')}
        {c.transcript === 'unavailable' ? ' · transcript unavailable' : ''}
      </p>
      {c.missed.length > 0 && (
        <ul>
          {c.missed.map((m) => {
            const single = c.singleSource.some((s) => s.callId === m.callId);
            return (
              <li key={m.callId} class={single ? 'single-source' : undefined}>
                {single && <span class="badge health" title="only one source confirms this call">⚠ one source</span>} {m.tool ?? '?'}{' '}
                <button type="button" class="link" onClick={() => onSelect(m.callId)}>{m.callId}</button>: seen by {m.seenBy.join(' and ') || 'no source'}, missed by {m.missedBy.join(' and ')}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
};
