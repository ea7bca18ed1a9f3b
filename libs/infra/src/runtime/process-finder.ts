import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { readProcStat, RuntimeIdentity } from './process-runtime';

/** Env marker every agent runtime gets, so an agent launched but never recorded (a crash in between) can be found. */
export const AGENT_MARKER = 'RUNLEDGER_RUNTIME=agent';

/**
 * True for the command line of a runledger agent hook (`runledger hook claude-code|codex …` or the shim
 * `runledger-hook claude-code|codex …`, run directly, as a script by a shell, or by a shell `-c`). Claude Code and Codex run their hook commands in their own process group with their environment, so a held hook looks like
 * an agent and can outlive its agent: it is never one (docs/ARCHITECTURE.md §4).
 */
export const isHookCommand = (command: readonly string[]): boolean => {
  const hookAt = command.findIndex((arg, i) => arg === 'hook' && HOOK_AGENTS.has(command[i + 1] ?? ''));
  if (hookAt > 0 && RUNLEDGER_BIN.test(command[hookAt - 1])) return true;
  const shimAt = command.findIndex((arg, i) => i <= 1 && SHIM_BIN.test(arg));
  if (shimAt >= 0 && HOOK_AGENTS.has(command[shimAt + 1] ?? '') && (shimAt === 0 || SHELLS.has(path.basename(command[0])))) return true;
  return command.length === 3 && SHELLS.has(path.basename(command[0])) && command[1] === '-c' && hookCommandKind(command[2]) !== undefined;
};
/** The agents a runledger hook command forwards for. */
const HOOK_AGENTS = new Set(['claude-code', 'codex', 'gemini-cli']);
/** `runledger` or its `bin/runledger.js`, as the hook command names it. */
const RUNLEDGER_BIN = /(^|\/)runledger(\.js)?$/;
/** The shim bin/runledger-hook, as argv[0] (run directly) or argv[1] (run as a script by a shell). */
const SHIM_BIN = /(^|\/)runledger-hook$/;
/** The Node hook (`…runledger(.js) hook claude-code|codex`) inside a command string, its arguments shell-quoted. */
const NODE_HOOK_IN_TEXT = /(^|\/)runledger(\.js)?'?\s+hook\s+(claude-code|codex|gemini-cli)(\s|$)/;
/** The shim (`…runledger-hook claude-code|codex`) inside a command string, its arguments shell-quoted. */
const SHIM_HOOK_IN_TEXT = /(^|\/)runledger-hook'?\s+(claude-code|codex|gemini-cli)(\s|$)/;

/** Which runledger hook a command string (a shell's `-c`, a settings file's command) runs: `shim`, `node`, or undefined for neither. */
export const hookCommandKind = (text: string): 'shim' | 'node' | undefined =>
  SHIM_HOOK_IN_TEXT.test(text) ? 'shim' : NODE_HOOK_IN_TEXT.test(text) ? 'node' : undefined;
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh']);

/**
 * Live processes whose environment holds every one of `entries` (`NAME=value`), read from /proc (Linux; [] elsewhere),
 * each with its process group (`pgid`; a launched agent leads its own: `pgid === pid`). Zombies, runledger hook
 * processes (isHookCommand) and processes whose environ cannot be read (another user) are left out. `logPath` is
 * empty: the caller knows where the log goes.
 */
export const findProcessesByEnv = (entries: string[]): RuntimeIdentity[] => scanProcesses(entries).map((p) => p.identity);

/**
 * Agent processes (AGENT_MARKER and every one of `scope` in their env, e.g. the installation's home) by the
 * `RUNLEDGER_SESSION_ID` they were launched for: one /proc scan.
 */
export const listAgentProcesses = (scope: string[] = []): Map<string, RuntimeIdentity[]> => {
  const bySession = new Map<string, RuntimeIdentity[]>();
  for (const { identity, environ } of scanProcesses([AGENT_MARKER, ...scope])) {
    const entry = environ.find((e) => e.startsWith('RUNLEDGER_SESSION_ID='));
    if (!entry) continue;
    const sessionId = entry.slice('RUNLEDGER_SESSION_ID='.length);
    bySession.set(sessionId, [...(bySession.get(sessionId) ?? []), identity]);
  }
  return bySession;
};

const scanProcesses = (entries: string[]): { identity: RuntimeIdentity; environ: string[] }[] => {
  let pids: number[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
  } catch {
    return [];
  }
  const found: { identity: RuntimeIdentity; environ: string[] }[] = [];
  for (const pid of pids) {
    if (pid === process.pid) continue;
    let environ: string[];
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!entries.every((entry) => environ.includes(entry))) continue;
    const stat = readProcStat(pid);
    if (!stat || stat.state === 'Z') continue;
    let cwd = '';
    let command: string[] = [];
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    found.push({ identity: { type: 'process', pid, pgid: stat.pgrp, startTime: stat.startTime, command, cwd, logPath: '', startedAt: '' }, environ });
  }
  // A hook process and everything in its process group (what `sh -c <hook>` started) belong to the hook, not the agent.
  const hookGroups = new Set(found.filter((p) => isHookCommand(p.identity.command)).map((p) => p.identity.pgid));
  return found.filter((p) => !hookGroups.has(p.identity.pgid) && !isHookCommand(p.identity.command));
};

/**
 * Every live process (any group, any session: `setsid` children and orphans re-parented to init included) whose
 * environment holds `entry` (`NAME=value`), read from /proc; [] where there is none. Zombies are left out.
 */
export const listPidsWithEnv = (entry: string): number[] => {
  let pids: number[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
  } catch {
    return [];
  }
  return pids.filter((pid) => {
    if (pid === process.pid) return false;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(entry)) return false;
      const state = readProcStat(pid)?.state;
      return state !== undefined && state !== 'Z';
    } catch {
      return false;
    }
  });
};
