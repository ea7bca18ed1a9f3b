import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, makeRepo } from '../support/git-repo';
import { runCli } from '../support/server-process';
import { describeEachServer, startWorktreeServer, WorktreeServer } from './worktree-servers';

const GRACE_MS = 10 * 60_000; // first phase: every dead owner is within the window; the second restarts with 0
const SLEEP = ['sh', '-c', 'exec sleep 300'];

/** Adds a worktree on `branch` at `path` of `repo` and commits `commits` files on it. */
const addWorktree = (repo: string, path: string, branch: string, commits = 0): string => {
  git(repo, 'worktree', 'add', '-q', '-b', branch, path, 'main');
  for (let i = 0; i < commits; i++) {
    writeFileSync(join(path, `commit-${i}.txt`), `work ${i}\n`);
    git(path, 'add', '-A');
    git(path, 'commit', '-q', '-m', `unlanded ${i}`);
  }
  return realpathSync(path);
};

describeEachServer('a root seeded with a dozen orphan and live worktrees (docs/ARCHITECTURE.md §4b)', (engine) => {
  let s: WorktreeServer;
  beforeAll(async () => {
    s = await startWorktreeServer(engine, { RUNLEDGER_ORPHAN_GRACE_MS: String(GRACE_MS) });
  });
  afterAll(async () => s?.stop());

  it('decides each one by its rule, changes nothing on a second sweep, and removes only what loses nothing once the grace window passed', async () => {
    const repo = makeRepo(join(s.root, 'repo'));
    const user = addWorktree(repo, join(s.root, 'user-wt'), 'feature'); // a user's own worktree: never ours
    expect((await s.api.post('/projects', { id: 'a', name: 'a', repoPath: repo, sessionPrefix: 'a' })).status).toBe(201);
    expect((await s.api.post('/projects', { id: 'b', name: 'b', repoPath: repo, sessionPrefix: 'b' })).status).toBe(201);
    const spawn = async (projectId: string, command = SLEEP) => (await s.api.post('/sessions', { projectId, agent: 'command', command })).body;
    const root = join(s.worktreeRoot, 'a');
    mkdirSync(root, { recursive: true });

    const live = await spawn('a'); // 1. a live session: its record claims its path
    const otherProject = await spawn('b'); // 2. another project's live record over the same repository
    const ghost = addWorktree(repo, join(root, 'ghost-1'), 'runledger/ghost-1'); // 3. clean, landed, nobody known
    const dirty = addWorktree(repo, join(root, 'ghost-2'), 'runledger/ghost-2'); // 4. dirty
    writeFileSync(join(dirty, 'unsaved.txt'), 'not committed\n');
    const unlanded = addWorktree(repo, join(root, 'ghost-3'), 'runledger/ghost-3', 2); // 5. un-landed commits
    const liveOwned = addWorktree(repo, join(root, `${live.id}.extra`), `runledger/extra-${live.id}`); // 6. owner alive
    const exitedOwner = await spawn('a', ['true']); // 7. owner whose runtime ended
    const exitedExtra = addWorktree(repo, join(root, `${exitedOwner.id}.extra`), `runledger/extra-${exitedOwner.id}`);
    const vanishing = await spawn('a'); // 8. a record whose directory vanishes
    const strayNotes = join(root, 'notes'); // 9. a directory that is not a worktree
    mkdirSync(strayNotes);
    writeFileSync(join(strayNotes, 'todo.txt'), 'keep me\n');
    mkdirSync(join(root, 'empty')); // 10. an empty directory
    const empty = realpathSync(join(root, 'empty'));
    const keptDirty = await spawn('a'); // 11. killed with uncommitted work: kill keeps it, its owner is terminated
    writeFileSync(join(keptDirty.worktrees[0].path, 'wip.txt'), 'wip\n');
    expect((await s.api.post(`/sessions/${keptDirty.id}/kill`)).body.freed).toBe(false);
    const recentlyKilled = await spawn('a'); // 12. owner terminated within the grace window
    const recentExtra = addWorktree(repo, join(root, `${recentlyKilled.id}.extra`), `runledger/extra-${recentlyKilled.id}`);
    await s.api.post(`/sessions/${recentlyKilled.id}/kill`);
    git(repo, 'worktree', 'remove', '--force', vanishing.worktrees[0].path);

    const first = await s.sweep();
    expect(first.skipped).toBeUndefined();
    const rule = (path: string) => first.decisions.find((d) => d.path === path);
    expect(rule(ghost)).toMatchObject({ action: 'keep', rule: 'owner-dead-within-grace', recorded: true });
    expect(rule(dirty)).toMatchObject({ action: 'strand', rule: 'dirty' });
    expect(rule(unlanded)).toMatchObject({ action: 'strand', rule: 'unlanded-commits' });
    expect(rule(liveOwned)).toMatchObject({ action: 'keep', rule: 'owner-alive' });
    expect(rule(exitedExtra)).toMatchObject({ action: 'keep', rule: 'owner-dead-within-grace' });
    expect(rule(realpathSync(strayNotes))).toMatchObject({ action: 'strand', rule: 'not-a-worktree' });
    expect(rule(empty)).toMatchObject({ action: 'keep', rule: 'owner-dead-within-grace' });
    expect(rule(realpathSync(keptDirty.worktrees[0].path))).toMatchObject({ action: 'strand', rule: 'dirty', sessionId: keptDirty.id });
    expect(rule(recentExtra)).toMatchObject({ action: 'keep', rule: 'owner-dead-within-grace', sessionId: recentlyKilled.id });
    expect(first.decisions.find((d) => d.action === 'vanished')).toMatchObject({ rule: 'directory-vanished', recorded: true });
    for (const claimed of [live.worktrees[0].path, otherProject.worktrees[0].path, user]) expect(rule(realpathSync(claimed))).toBeUndefined();

    const second = await s.sweep();
    expect(second.decisions.filter((d) => d.recorded)).toEqual([]); // a second sweep changes nothing

    const vanished = (await s.api.get(`/sessions/${vanishing.id}`)).body.worktrees[0];
    expect(vanished).toMatchObject({ state: 'unavailable' });
    const listed = await runCli(['worktrees', '--stranded', '--json'], s.env);
    expect(listed.code).toBe(0);
    const stranded = JSON.parse(listed.stdout).worktrees.map((w: { path: string }) => w.path).sort();
    expect(stranded).toEqual([dirty, unlanded, realpathSync(strayNotes), realpathSync(keptDirty.worktrees[0].path)].sort());
    const metrics = await fetch(`${s.server.url}/api/v1/metrics`, { headers: { authorization: `Bearer ${s.env.RUNLEDGER_TOKEN}` } }).then((r) => r.text());
    expect(metrics).toMatch(/^runledger_worktrees_stranded 4$/m);

    // Past the grace window (restarted with a window of 0: the decisions so far are in the log and survive it): exactly
    // what loses nothing and nobody uses goes, its HEAD kept in a ref.
    await s.restart({ RUNLEDGER_ORPHAN_GRACE_MS: '0' });
    await s.sweep(); // the boot sweep may have done it already: what counts is the state after
    const after = (await s.api.get('/worktrees')).body.worktrees as { path: string; source: string; state: string; rule?: string; preservedRef?: string }[];
    const removed = after.filter((w) => w.source === 'custody' && w.state === 'removed');
    expect(removed.map((w) => w.path).sort()).toEqual([ghost, exitedExtra, empty, recentExtra].sort());
    for (const w of removed) {
      expect(w.rule).toBe('nothing-lost-and-unused');
      expect(existsSync(w.path)).toBe(false);
      if (w.path === empty) continue;
      expect(w.preservedRef).toMatch(/^refs\/runledger\/reaped\//);
      expect(git(repo, 'rev-parse', w.preservedRef!)).toBe(git(repo, 'rev-parse', 'main'));
    }
    expect(git(repo, 'branch', '--list', 'runledger/ghost-1')).toContain('runledger/ghost-1'); // branches are kept
    expect((await s.sweep()).changed).toBe(0);

    // Nothing else lost: every other directory and its work is where it was.
    expect(readFileSync(join(dirty, 'unsaved.txt'), 'utf8')).toBe('not committed\n');
    expect(git(unlanded, 'rev-list', '--count', 'main..HEAD')).toBe('2');
    expect(readFileSync(join(strayNotes, 'todo.txt'), 'utf8')).toBe('keep me\n');
    expect(readFileSync(join(keptDirty.worktrees[0].path, 'wip.txt'), 'utf8')).toBe('wip\n');
    for (const kept of [liveOwned, live.worktrees[0].path, otherProject.worktrees[0].path, user]) expect(existsSync(kept)).toBe(true);
    const list = (await s.api.get('/worktrees')).body.worktrees as { path: string; state: string; rule?: string }[];
    expect(list.find((w) => w.path === ghost)).toMatchObject({ state: 'removed', rule: 'nothing-lost-and-unused' });
    expect(list.find((w) => w.path === liveOwned)).toMatchObject({ state: 'orphan', rule: 'owner-alive' });

    // Restore repairs the record whose directory vanished.
    await s.api.post(`/sessions/${vanishing.id}/kill`);
    const restored = await s.api.post(`/sessions/${vanishing.id}/restore`);
    expect(restored.status).toBe(200);
    expect(existsSync(vanishing.worktrees[0].path)).toBe(true);
    expect((await s.api.get(`/sessions/${vanishing.id}`)).body.worktrees[0]).toMatchObject({ state: 'active' });
  });
});
