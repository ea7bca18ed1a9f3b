import { useMutation } from '@tanstack/preact-query';
import { API } from '../api/http';
import { verifySession } from '../api/queries';
import type { AuditEvent } from '../api/types';
import { formatTime, prettyJson, shortHash } from '../lib/format';

/** The verdict of the hash-chain check, in words. */
const VerifyVerdict = ({ result }: { result: Awaited<ReturnType<typeof verifySession>> }) =>
  result.ok ? (
    <p class="ok" role="status" data-testid="verify-result">✓ Chain intact: {result.events} events, every hash recomputed and linked.</p>
  ) : (
    <p class="error" role="alert" data-testid="verify-result">✗ Chain broken at revision {result.brokenAt}: {result.reason}</p>
  );

/** The raw events of the session's stream with their hashes, a "verify the chain" action and the JSONL export. */
export const EventsPanel = ({ sessionId, events }: { sessionId: string; events: readonly AuditEvent[] }) => {
  const verify = useMutation({ mutationFn: () => verifySession(sessionId) });
  return (
    <>
      <div class="toolbar">
        <button type="button" onClick={() => verify.mutate()} disabled={verify.isPending}>{verify.isPending ? 'Verifying…' : 'Verify the chain'}</button>
        <a class="button" href={`${API}/sessions/${encodeURIComponent(sessionId)}/export`} download={`${sessionId}.jsonl`}>Export (JSON lines)</a>
        <span class="muted">{events.length} events</span>
      </div>
      {verify.data && <VerifyVerdict result={verify.data} />}
      {verify.error && <p class="error" role="alert">{(verify.error as Error).message}</p>}
      <table class="events">
        <thead>
          <tr><th scope="col">Rev</th><th scope="col">Type</th><th scope="col">Recorded</th><th scope="col">By</th><th scope="col">Hash</th><th scope="col">Previous</th><th scope="col">Data</th></tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.revision} data-revision={e.revision}>
              <th scope="row" data-label="Rev">{e.revision}</th>
              <td data-label="Type"><code>{e.type}</code></td>
              <td data-label="Recorded">
                {formatTime(e.metadata.recordedAt)}
                {e.metadata.occurredAt && e.metadata.occurredAt !== e.metadata.recordedAt ? <div class="muted">occurred {formatTime(e.metadata.occurredAt)}</div> : null}
              </td>
              <td data-label="By"><code data-testid="event-actor">{typeof e.metadata.actor === 'string' ? e.metadata.actor : ''}</code></td>
              <td data-label="Hash"><code title={e.hash}>{shortHash(e.hash)}</code></td>
              <td data-label="Previous"><code title={e.prevHash}>{shortHash(e.prevHash)}</code></td>
              <td data-label="Data">
                <details>
                  <summary>data · metadata</summary>
                  <pre class="json">{prettyJson({ data: e.data, metadata: e.metadata, eventId: e.eventId, globalPosition: e.globalPosition })}</pre>
                </details>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
};
