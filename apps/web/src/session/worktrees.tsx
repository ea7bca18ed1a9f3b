import type { WorktreeView } from '../api/types';

/** The session's worktrees: repo, path, branch, state, the ref preserving uncommitted work, and any flag. */
export const Worktrees = ({ worktrees }: { worktrees: readonly WorktreeView[] }) => {
  if (worktrees.length === 0) return <p class="muted">No worktree.</p>;
  return (
    <table class="worktrees">
      <thead>
        <tr><th scope="col">Repo</th><th scope="col">State</th><th scope="col">Branch</th><th scope="col">Path</th><th scope="col">Preserved ref</th><th scope="col">Notes</th></tr>
      </thead>
      <tbody>
        {worktrees.map((w) => (
          <tr key={w.repo} data-repo={w.repo}>
            <th scope="row" data-label="Repo">{w.repo}</th>
            <td data-label="State"><span class={`badge wt-${w.state}`}>{w.state.replace(/_/g, ' ')}</span>{w.stranded && <span class="badge health">stranded</span>}</td>
            <td data-label="Branch"><code>{w.branch}</code></td>
            <td data-label="Path" class="path"><code>{w.path}</code></td>
            <td data-label="Preserved ref">{w.preservedRef ? <code>{w.preservedRef}</code> : <span class="muted">–</span>}</td>
            <td data-label="Notes">{[w.strandedReason, w.removalError && `removal failed: ${w.removalError}`, w.restoreConflict && `restore conflict: ${w.restoreConflict}`].filter(Boolean).join('; ') || <span class="muted">–</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
};
