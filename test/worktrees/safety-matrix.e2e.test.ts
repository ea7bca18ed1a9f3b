import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, makeRepo } from '../support/git-repo';
import { killTmuxServer } from '../support/tmux';
import { describeEachServer, startWorktreeServer, TOKEN, WorktreeServer } from './worktree-servers';

/**
 * The worktree safety matrix (docs/ARCHITECTURE.md §4b, invariant 10): {kill, cleanup, reaper, Claude Code's
 * WorktreeRemove} × {clean, dirty, un-landed commits, live owner, path claimed by another project's live record, owner
 * dead within the grace window}. Every cell puts units of work in place, runs the operation for real (real git, real
 * processes, the real HTTP API), and asserts where each unit is afterwards: in the worktree, in a preserved ref, or on
 * its branch; and orchestrator replace × the same conditions.
 */
const SLEEP = ['sh', '-c', 'exec sleep 300'];
const EXITS = ['sh', '-c', 'exit 0'];
type Where = 'worktree' | 'ref' | 'branch';
type Condition = 'clean' | 'dirty' | 'unlanded' | 'live owner' | 'claimed by another project' | 'owner dead within grace';

/** A unit of work: an uncommitted file or a commit, and where it was found (null: lost). */
interface Unit {
  kind: 'file' | 'commit';
  name: string;
  content: string;
}

/** Where the unit is now: the directory (file on disk, or commit in its HEAD), a ref's tree, or the branch. Null if lost. */
const whereIs = (repo: string, unit: Unit, at: { dir: string; branch: string; ref?: string }): Where | null => {
  if (unit.kind === 'file') {
    if (existsSync(join(at.dir, unit.name)) && readFileSync(join(at.dir, unit.name), 'utf8') === unit.content) return 'worktree';
    if (at.ref) {
      try {
        const shown = execFileSync('git', ['show', `${at.ref}:${unit.name}`], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        if (shown.trim() === unit.content.trim()) return 'ref';
      } catch {
        /* not in the ref */
      }
    }
    return null;
  }
  const subjects = (cwd: string, ...rev: string[]): string[] => {
    try {
      return execFileSync('git', ['log', '--format=%s', ...rev], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n');
    } catch {
      return []; // no such ref or directory
    }
  };
  if (existsSync(at.dir) && subjects(at.dir).includes(unit.name)) return 'worktree';
  if (at.ref && subjects(repo, at.ref).includes(unit.name)) return 'ref';
  if (subjects(repo, at.branch).includes(unit.name)) return 'branch';
  return null;
};

/** Puts the condition's units of work into the worktree at `dir`. */
const putWork = (dir: string, condition: Condition, tag: string): Unit[] => {
  if (condition === 'clean') return [];
  if (condition === 'unlanded') {
    writeFileSync(join(dir, `${tag}.c.txt`), `${tag} committed\n`);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', `${tag} unlanded`);
    return [{ kind: 'commit', name: `${tag} unlanded`, content: '' }];
  }
  const unit: Unit = { kind: 'file', name: `${tag}.u.txt`, content: `${tag} uncommitted\n` };
  writeFileSync(join(dir, unit.name), unit.content);
  return [unit];
};

const CONDITIONS: Condition[] = ['clean', 'dirty', 'unlanded', 'live owner', 'claimed by another project', 'owner dead within grace'];

describeEachServer('worktree safety matrix: 0 units of work lost', (engine) => {
  let s: WorktreeServer;
  let repo: string;
  let n = 0;
  const tag = () => `w${++n}`;
  const spawn = async (projectId: string, command = SLEEP) => {
    const res = await s.api.post('/sessions', { projectId, agent: 'command', command });
    expect(res.status).toBe(201);
    return res.body as { id: string; worktrees: { path: string; branch: string }[] };
  };
  const waitExited = async (id: string) => {
    // the runtime of `exit 0` is gone once its pid no longer answers
    const pid = (await s.api.get(`/sessions/${id}`)).body.runtime?.pid as number;
    for (let i = 0; i < 200; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  beforeAll(async () => {
    s = await startWorktreeServer(engine, { RUNLEDGER_ORPHAN_GRACE_MS: String(10 * 60_000) });
    repo = makeRepo(join(s.root, 'repo'));
    for (const id of ['a', 'b']) expect((await s.api.post('/projects', { id, name: id, repoPath: repo, sessionPrefix: id })).status).toBe(201);
  });
  afterAll(async () => {
    if (s) killTmuxServer(join(s.dataDir, 'tmux.sock')); // orchestrators run in tmux; a graceful stop leaves them alive
    await s?.stop();
  });

  describe.each(['kill', 'cleanup'] as const)('%s', (op) => {
    const expected: Record<Condition, Where> = op === 'kill'
      ? { clean: 'branch', dirty: 'worktree', unlanded: 'branch', 'live owner': 'worktree', 'claimed by another project': 'worktree', 'owner dead within grace': 'worktree' }
      : { clean: 'branch', dirty: 'ref', unlanded: 'branch', 'live owner': 'ref', 'claimed by another project': 'ref', 'owner dead within grace': 'ref' };
    it.each(CONDITIONS)('%s', async (condition) => {
      const target = await spawn('a', condition === 'owner dead within grace' ? EXITS : SLEEP);
      if (condition === 'owner dead within grace') await waitExited(target.id);
      const dir = target.worktrees[0].path;
      const units = putWork(dir, condition, tag());
      let neighbour: { dir: string; branch: string; units: Unit[] } | undefined;
      if (condition === 'claimed by another project') {
        const other = await spawn('b'); // another project's live record over the same repository
        neighbour = { dir: other.worktrees[0].path, branch: other.worktrees[0].branch, units: putWork(other.worktrees[0].path, 'dirty', tag()) };
      }
      const res = await s.api.post(`/sessions/${target.id}/${op}`);
      expect(res.status).toBe(200);
      const ref = `refs/runledger/preserved/${target.id}`;
      for (const unit of units) expect([condition, unit.name, whereIs(repo, unit, { dir, branch: target.worktrees[0].branch, ref })]).toEqual([condition, unit.name, expected[condition]]);
      if (condition === 'clean') expect(existsSync(dir)).toBe(false);
      if (neighbour) for (const unit of neighbour.units) expect(whereIs(repo, unit, neighbour)).toBe('worktree');
    });
  });

  describe('orchestrator replace', () => {
    // Each cell replaces the project's current orchestrator (the owner) after putting the condition's work in its
    // worktree; the replacement takes the canonical branch, so un-landed commits must survive on it or in the ref.
    const replace = async (command: string[]) => {
      const res = await s.api.post('/projects/a/orchestrator', { clean: true, agent: 'command', command });
      expect([res.status, res.body.message]).toEqual([201, undefined]);
      return res.body as { id: string; branch: string; worktrees: { path: string }[] };
    };
    const expected: Record<Condition, Where> = {
      clean: 'branch', dirty: 'ref', unlanded: 'branch', 'live owner': 'ref', 'claimed by another project': 'ref', 'owner dead within grace': 'ref',
    };
    let current: { id: string; branch: string; worktrees: { path: string }[] } | undefined;

    it.each(CONDITIONS)('%s', async (condition) => {
      const dies = condition === 'owner dead within grace';
      const owner = await replace(dies ? ['sh', '-c', 'sleep 2; exit 0'] : SLEEP); // the owner of this cell's work
      if (dies) await waitExited(owner.id);
      if (current) expect((await s.api.get(`/sessions/${current.id}`)).body.status).toBe('terminated');
      const dir = owner.worktrees[0].path;
      const units = putWork(dir, condition === 'live owner' || dies || condition === 'claimed by another project' ? 'dirty' : condition, tag());
      let neighbour: { dir: string; branch: string; units: Unit[] } | undefined;
      if (condition === 'claimed by another project') {
        const other = await spawn('b'); // another project's live record over the same repository
        neighbour = { dir: other.worktrees[0].path, branch: other.worktrees[0].branch, units: putWork(other.worktrees[0].path, 'dirty', tag()) };
      }
      current = await replace(SLEEP);
      expect(current.branch).toBe(owner.branch); // the canonical branch, freed by the owner and taken by the replacement
      const ref = `refs/runledger/preserved/${owner.id}`;
      const hasRef = (() => {
        try {
          git(repo, 'rev-parse', '--verify', '-q', ref);
          return true;
        } catch {
          return false;
        }
      })();
      for (const unit of units) {
        expect([condition, unit.name, whereIs(repo, unit, { dir, branch: owner.branch, ref: hasRef ? ref : undefined })]).toEqual([condition, unit.name, expected[condition]]);
      }
      if (neighbour) for (const unit of neighbour.units) expect(whereIs(repo, unit, neighbour)).toBe('worktree');
    });
  });

  describe("Claude Code's WorktreeRemove", () => {
    const hook = (sessionId: string, body: Record<string, unknown>) =>
      fetch(`${s.server.url}/api/v1/hooks/claude-code`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'x-runledger-session': sessionId },
        body: JSON.stringify({ session_id: `claude-${sessionId}`, ...body }),
      });
    const expected: Record<Condition, { status: number; where: Where }> = {
      clean: { status: 200, where: 'ref' },
      dirty: { status: 200, where: 'ref' },
      unlanded: { status: 200, where: 'ref' },
      'live owner': { status: 409, where: 'worktree' },
      'claimed by another project': { status: 404, where: 'worktree' },
      'owner dead within grace': { status: 409, where: 'worktree' },
    };
    it.each(CONDITIONS)('%s', async (condition) => {
      const owner = await spawn('a', condition === 'owner dead within grace' ? EXITS : SLEEP);
      const name = tag();
      const created = await hook(owner.id, { hook_event_name: 'WorktreeCreate', name, cwd: owner.worktrees[0].path });
      expect(created.status).toBe(200);
      const { worktreePath } = ((await created.json()) as { hookSpecificOutput: { worktreePath: string } }).hookSpecificOutput;
      const branch = `runledger/${owner.id}.claude/${name}`;
      if (condition === 'owner dead within grace') await waitExited(owner.id);
      let dir = worktreePath;
      let units = putWork(worktreePath, condition === 'clean' ? 'unlanded' : condition, name); // clean: its HEAD commit is the work
      if (condition === 'clean') units = [];
      let requester = owner.id;
      if (condition === 'live owner' || condition === 'owner dead within grace') requester = (await spawn('b')).id;
      if (condition === 'claimed by another project') {
        const other = await spawn('b');
        dir = other.worktrees[0].path;
        units = putWork(dir, 'dirty', tag());
      }
      const removed = await hook(requester, { hook_event_name: 'WorktreeRemove', worktree_path: dir });
      expect([condition, removed.status]).toEqual([condition, expected[condition].status]);
      const ref = `refs/runledger/preserved/${owner.id}.claude/${name}`;
      for (const unit of units) expect([condition, whereIs(repo, unit, { dir, branch, ref })]).toEqual([condition, expected[condition].where]);
      if (condition === 'clean') expect(git(repo, 'rev-parse', ref)).toBe(git(repo, 'rev-parse', branch));
    });
  });

  describe('reaper', () => {
    /** An orphan worktree in the root, named after its owner session (`<root>/a/<id>.extra`), with the condition's work. */
    const orphan = async (condition: Condition) => {
      const owner = await spawn('a', condition === 'live owner' ? SLEEP : EXITS);
      if (condition !== 'live owner') await waitExited(owner.id);
      if (condition !== 'live owner' && condition !== 'owner dead within grace') await s.api.post(`/sessions/${owner.id}/kill`);
      const name = tag();
      mkdirSync(join(s.worktreeRoot, 'a'), { recursive: true });
      const branch = `runledger/extra-${name}`;
      git(repo, 'worktree', 'add', '-q', '-b', branch, join(s.worktreeRoot, 'a', `${owner.id}.extra`), 'main');
      const dir = realpathSync(join(s.worktreeRoot, 'a', `${owner.id}.extra`));
      return { owner, dir, branch, units: putWork(dir, condition === 'live owner' ? 'unlanded' : condition === 'owner dead within grace' ? 'clean' : condition, name) };
    };

    it('decides every condition, keeping all work, and removes only a clean, landed, unused worktree after the window', async () => {
      const cells = new Map<Condition, Awaited<ReturnType<typeof orphan>>>();
      for (const condition of CONDITIONS.filter((c) => c !== 'claimed by another project')) cells.set(condition, await orphan(condition));
      // Claimed by another project's live record: project b's live session sits on a worktree of the same repository.
      const other = await spawn('b');
      const claimed = { dir: realpathSync(other.worktrees[0].path), branch: other.worktrees[0].branch, units: putWork(other.worktrees[0].path, 'unlanded', tag()) };

      const within = await s.sweep(); // a 10-minute window: nobody's worktree is old enough
      const verdict = (dir: string) => within.decisions.find((d) => d.path === dir);
      expect(verdict(cells.get('clean')!.dir)).toMatchObject({ action: 'keep', rule: 'owner-dead-within-grace' });
      expect(verdict(cells.get('owner dead within grace')!.dir)).toMatchObject({ action: 'keep', rule: 'owner-dead-within-grace' });
      expect(verdict(cells.get('dirty')!.dir)).toMatchObject({ action: 'strand', rule: 'dirty' });
      expect(verdict(cells.get('unlanded')!.dir)).toMatchObject({ action: 'strand', rule: 'unlanded-commits' });
      expect(verdict(cells.get('live owner')!.dir)).toMatchObject({ action: 'keep', rule: 'owner-alive' });
      expect(verdict(claimed.dir)).toBeUndefined();

      await s.restart({ RUNLEDGER_ORPHAN_GRACE_MS: '0' }); // the window has passed for everyone
      await s.sweep();
      const list = (await s.api.get('/worktrees')).body.worktrees as { path: string; state: string; preservedRef?: string }[];
      const state = (dir: string) => list.find((w) => w.path === dir);
      for (const condition of ['clean', 'owner dead within grace'] as const) { // nothing to lose and nobody left: removed, HEAD kept in a ref
        const cell = cells.get(condition)!;
        expect([condition, state(cell.dir)?.state]).toEqual([condition, 'removed']);
        expect(existsSync(cell.dir)).toBe(false);
        expect(git(repo, 'rev-parse', state(cell.dir)!.preservedRef!)).toBe(git(repo, 'rev-parse', 'main'));
        expect(git(repo, 'rev-parse', cell.branch)).toBe(git(repo, 'rev-parse', 'main'));
      }
      const expectations: [Condition, Where][] = [['dirty', 'worktree'], ['unlanded', 'worktree'], ['live owner', 'worktree']];
      for (const [condition, where] of expectations) {
        const cell = cells.get(condition)!;
        expect([condition, state(cell.dir)?.state]).toEqual([condition, condition === 'live owner' ? 'orphan' : 'stranded']);
        for (const unit of cell.units) expect([condition, whereIs(repo, unit, cell)]).toEqual([condition, where]);
      }
      for (const unit of claimed.units) expect(whereIs(repo, unit, claimed)).toBe('worktree');
      expect(state(claimed.dir)).toMatchObject({ source: 'record', state: 'active' });
    });
  });
});
