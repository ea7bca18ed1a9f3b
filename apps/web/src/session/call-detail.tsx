import { useCallDiff } from '../api/queries';
import type { Divergence, ToolCallView } from '../api/types';
import { formatDuration, formatTime, prettyJson } from '../lib/format';
import { callMarks, MARK_LABELS, RunSpan } from '../lib/timeline-layout';

const span = (from: string | undefined, to: string | undefined): string =>
  from && to ? formatDuration(Date.parse(to) - Date.parse(from)) : '–';

/** What the call did to the files: one line per changed path, then the patch; nothing while loading, a note when no snapshot was taken. */
const FileDiff = ({ sessionId, callId }: { sessionId: string; callId: string }) => {
  const diff = useCallDiff(sessionId, callId);
  if (diff.isLoading) return null;
  if (!diff.data) return <p class="muted" data-testid="call-files">No file snapshots around this call.</p>;
  return (
    <section data-testid="call-files">
      <h3>Files</h3>
      {diff.data.files.length === 0 ? (
        <p class="muted">No file changed.</p>
      ) : (
        <>
          <ul class="changed-files">
            {diff.data.files.map((f) => (
              <li key={f.path}>
                <code>{f.path}</code> {f.status} <span class="additions">+{f.additions ?? '–'}</span> <span class="deletions">−{f.deletions ?? '–'}</span>
              </li>
            ))}
          </ul>
          <pre class="json diff" tabIndex={0} data-testid="call-patch">{diff.data.patch}{diff.data.truncated ? '\n(patch truncated)' : ''}</pre>
        </>
      )}
    </section>
  );
};

/** One tool call as stored (input and result redacted before they were appended): times, attempt, source, marks, and what it did to the files. */
export const CallDetail = ({ sessionId, call, divergences }: { sessionId: string; call: ToolCallView; divergences: readonly Divergence[] }) => {
  const marks = callMarks(call, divergences);
  const own = divergences.filter((d) => d.callId === call.callId);
  return (
    <article class="detail" aria-labelledby="detail-heading" data-testid="call-detail">
      <h2 id="detail-heading">
        {call.tool} <code>{call.callId}</code>
      </h2>
      <p>
        <span class={`badge status-${call.status}`}>{call.status}</span>{' '}
        {marks.filter((m) => m !== call.status).map((m) => <span key={m} class={`mark mark-${m}`}>{MARK_LABELS[m]}</span>)}
      </p>
      <dl class="facts">
        <dt>attempt</dt><dd>{call.attempt}</dd>
        <dt>mode</dt><dd>{call.mode}</dd>
        {call.source && <><dt>result from</dt><dd>{call.source === 'transcript' ? 'the agent\'s transcript (recovered after a restart)' : call.source}</dd></>}
        {call.runId && <><dt>run</dt><dd><code>{call.runId}</code></dd></>}
        <dt>dispatched</dt><dd>{formatTime(call.dispatchedAt)}{call.firstDispatchedAt !== call.dispatchedAt ? ` (first attempt ${formatTime(call.firstDispatchedAt)})` : ''}</dd>
        {call.completedAt && <><dt>finished</dt><dd>{formatTime(call.completedAt)} · {span(call.dispatchedAt, call.completedAt)}</dd></>}
        {call.interruption && <><dt>interrupted</dt><dd>{formatTime(call.interruption.at)} · {span(call.dispatchedAt, call.interruption.at)}: {call.interruption.reason}</dd></>}
        {call.result?.exitCode !== undefined && <><dt>exit code</dt><dd>{call.result.exitCode}</dd></>}
        {call.result?.error && <><dt>error</dt><dd class="error-text">{call.result.error}</dd></>}
      </dl>
      <h3>Input</h3>
      <pre class="json" tabIndex={0} data-testid="call-input">{prettyJson(call.input)}</pre>
      {call.result && (
        <>
          <h3>Result</h3>
          <pre class="json" tabIndex={0} data-testid="call-result">{prettyJson(call.result)}</pre>
        </>
      )}
      <FileDiff sessionId={sessionId} callId={call.callId} />
      {call.lateResults?.length ? (
        <>
          <h3>Late results (recorded, never merged)</h3>
          <pre class="json" tabIndex={0}>{prettyJson(call.lateResults)}</pre>
        </>
      ) : null}
      {own.length > 0 && (
        <>
          <h3>Divergences</h3>
          <ul>{own.map((d, i) => <li key={i}><strong>{d.kind}</strong> at {formatTime(d.at)}: {d.detail}</li>)}</ul>
        </>
      )}
    </article>
  );
};

/** One agent run: status, times, prompt, reason. */
export const RunDetail = ({ run }: { run: RunSpan }) => (
  <article class="detail" aria-labelledby="detail-heading">
    <h2 id="detail-heading">run <code>{run.runId}</code></h2>
    <p><span class={`badge status-${run.status}`}>{run.status}</span></p>
    <dl class="facts">
      <dt>started</dt><dd>{formatTime(run.startedAt)}</dd>
      {run.endedAt && <><dt>ended</dt><dd>{formatTime(run.endedAt)} · {span(run.startedAt, run.endedAt)}</dd></>}
      {run.parentRunId && <><dt>parent run</dt><dd><code>{run.parentRunId}</code></dd></>}
      {run.reason && <><dt>reason</dt><dd>{run.reason}</dd></>}
    </dl>
    {run.prompt && <><h3>Prompt</h3><pre class="json" tabIndex={0}>{run.prompt}</pre></>}
  </article>
);
