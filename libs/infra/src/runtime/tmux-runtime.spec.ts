import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readStartTime } from './process-runtime';
import { TmuxPane, TmuxRuntime } from './tmux-runtime';

const HOME = '/data/home';
let dir: string;
let calls: string;
let tmux: TmuxRuntime;

/** A stand-in tmux that counts its calls and lists one live pane of this test process, tagged with HOME. */
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rl-tmux-spec-'));
  calls = path.join(dir, 'calls');
  const bin = path.join(dir, 'tmux');
  writeFileSync(bin, `#!/bin/sh\necho call >> '${calls}'\nprintf 'rl-s-1\\t${process.pid}\\t0\\t\\t\\t${HOME}\\n'\n`);
  chmodSync(bin, 0o755);
  tmux = new TmuxRuntime(path.join(dir, 'sock'), HOME, bin);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const tmuxCalls = (): number => {
  try {
    return readFileSync(calls, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};

describe('TmuxRuntime with panes listed once', () => {
  it('lists the panes itself when none are given', () => {
    expect(tmux.findLive('rl-s-1')?.pid).toBe(process.pid);
    expect(tmuxCalls()).toBe(1);
  });

  it('finds a live pane in the given list without calling tmux', () => {
    const panes = tmux.panes();
    expect(tmuxCalls()).toBe(1);
    expect(tmux.findLive('rl-s-1', panes)?.pid).toBe(process.pid);
    expect(tmux.findLive('rl-s-2', panes)).toBeNull();
    const identity = { type: 'tmux' as const, socket: tmux.socket, sessionName: 'rl-s-1', pid: process.pid, pgid: process.pid, startTime: readStartTime(process.pid)!, command: [], cwd: dir, logPath: path.join(dir, 'log'), startedAt: '' };
    expect(tmux.isAlive(identity, panes)).toBe(true);
    expect(tmux.isAlive({ ...identity, startTime: '1' }, panes)).toBe(false);
    expect(tmuxCalls()).toBe(1);
  });

  it('takes a dead or foreign pane in the given list for no live pane', () => {
    const panes: TmuxPane[] = [
      { sessionName: 'rl-s-1', pid: process.pid, dead: true, exitCode: 0, signal: null, home: HOME },
      { sessionName: 'rl-s-2', pid: process.pid, dead: false, exitCode: null, signal: null, home: '/another/home' },
    ];
    expect(tmux.findLive('rl-s-1', panes)).toBeNull();
    expect(tmux.findLive('rl-s-2', panes)).toBeNull();
    expect(tmuxCalls()).toBe(0);
  });
});
