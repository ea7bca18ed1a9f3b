import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AGENT_MARKER, findProcessesByEnv, isHookCommand } from './process-finder';

jest.setTimeout(30_000);

const children: ChildProcess[] = [];
/** A detached process (its own group's leader, like an agent or a Claude Code hook) with the agent marker in its environment. */
const start = (command: string, args: string[], sessionId: string): ChildProcess => {
  const child = spawn(command, args, { detached: true, stdio: 'ignore', env: { ...process.env, RUNLEDGER_RUNTIME: 'agent', RUNLEDGER_SESSION_ID: sessionId } });
  children.push(child);
  return child;
};
const commandLine = (pid: number | undefined): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
};
const waitFor = async (predicate: () => boolean): Promise<void> => {
  for (const deadline = Date.now() + 5_000; !predicate(); ) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

afterAll(() => {
  for (const child of children) if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
});

describe('the agent processes a reconcile may adopt (docs/ARCHITECTURE.md §4)', () => {
  it('tells a runledger hook command, run directly or by a shell, from an agent', () => {
    expect(isHookCommand(['/usr/bin/node', '/opt/rl/bin/runledger.js', 'hook', 'claude-code', '--url', 'http://127.0.0.1:1', '--hold', '30'])).toBe(true);
    // Claude Code runs a command hook as `/bin/sh -c <command>`, the shell leading the hook's own process group.
    expect(isHookCommand(['/bin/sh', '-c', '/usr/bin/node /opt/rl/bin/runledger.js hook claude-code --url http://127.0.0.1:1 --session rl-1 --hold 30 --failure closed'])).toBe(true);
    expect(isHookCommand(['/bin/sh', '-c', "/usr/bin/node '/opt/r l/bin/runledger.js' hook claude-code --url http://127.0.0.1:1 --hold 30"])).toBe(true);
    expect(isHookCommand(['runledger', 'hook', 'claude-code'])).toBe(true);
    // The shim: a shell script, so the kernel runs it as `/bin/sh <script> claude-code …`; or inside `sh -c`.
    expect(isHookCommand(['/bin/sh', '/opt/rl/bin/runledger-hook', 'claude-code', '--event', 'PreToolUse', '--hold', '30'])).toBe(true);
    expect(isHookCommand(['/opt/rl/bin/runledger-hook', 'claude-code', '--event', 'Stop'])).toBe(true);
    expect(isHookCommand(['/bin/sh', '-c', "'/opt/r l/bin/runledger-hook' claude-code --event PreToolUse --url http://127.0.0.1:1 --hold 30"])).toBe(true);
    expect(isHookCommand(['/usr/bin/python3', '/opt/rl/bin/runledger-hook', 'claude-code'])).toBe(false);
    expect(isHookCommand(['claude', '-p', 'runledger-hook claude-code'])).toBe(false);
    expect(isHookCommand(['claude', '--resume', 'cc-1', '-p', 'fix the runledger.js hook claude-code flag'])).toBe(false);
    expect(isHookCommand(['claude', '-p', 'hook claude-code'])).toBe(false);
    expect(isHookCommand(['sh', '-c', 'exec sleep 600'])).toBe(false);
    // Codex's hooks: the same runners, agent `codex`.
    expect(isHookCommand(['/bin/bash', '/opt/rl/bin/runledger-hook', 'codex', '--event', 'PreToolUse'])).toBe(true);
    expect(isHookCommand(['/bin/sh', '-c', '/usr/bin/node /opt/rl/bin/runledger.js hook codex --event Stop'])).toBe(true);
    expect(isHookCommand(['codex', 'exec', 'runledger-hook codex'])).toBe(false);
  });

  it('finds a live agent of the session by its environment, never a hook process that outlived it', async () => {
    const sessionId = `finder-${randomUUID()}`;
    const agent = start('sleep', ['600'], sessionId);
    // Shaped like the hooks Claude Code runs: `runledger hook claude-code …` directly, or inside `sh -c`.
    const direct = start(process.execPath, ['-e', 'setTimeout(() => {}, 600_000)', '/opt/rl/bin/runledger.js', 'hook', 'claude-code', '--hold', '30'], sessionId);
    const shell = start('/bin/sh', ['-c', 'sleep 600; : /opt/rl/bin/runledger.js hook claude-code --hold 30'], sessionId);
    const pids = () => findProcessesByEnv([`RUNLEDGER_SESSION_ID=${sessionId}`, AGENT_MARKER]).map((p) => p.pid);
    await waitFor(() => pids().includes(agent.pid!));
    // The hook processes run (their command lines are in place) and stay out.
    await waitFor(() => [direct.pid, shell.pid].every((pid) => commandLine(pid).includes('claude-code')));
    expect(pids()).toEqual([agent.pid]);
  });
});
