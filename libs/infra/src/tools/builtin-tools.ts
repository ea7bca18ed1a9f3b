import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants as fsConstants, existsSync, promises as fsp, readlinkSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { listPidsWithEnv } from '../runtime/process-finder';

/** The tools runledger runs itself in `managed` mode. */
export const BUILTIN_TOOLS = ['shell', 'read_file', 'write_file'] as const;
/** Name of a built-in tool. */
export type BuiltinTool = (typeof BUILTIN_TOOLS)[number];

/** Limits of the built-in tools: shell timeout (ms) and output cap (bytes), file read cap (bytes), write size (bytes). */
export const TOOL_LIMITS = {
  shellDefaultTimeoutMs: 30_000,
  shellMaxTimeoutMs: 600_000,
  shellDefaultOutputBytes: 64 * 1024,
  shellMaxOutputBytes: 1024 * 1024,
  readDefaultBytes: 256 * 1024,
  readMaxBytes: 4 * 1024 * 1024,
  writeMaxBytes: 4 * 1024 * 1024,
} as const;

/** Bad input for a managed tool: names the field (400, invariant 13). */
export class ToolInputError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/** A validated managed call, ready to run. */
export type ToolInvocation =
  | { tool: 'shell'; command: string; timeoutMs: number; maxOutputBytes: number }
  | { tool: 'read_file'; path: string; maxBytes: number }
  | { tool: 'write_file'; path: string; content: string };

/** What a managed call produced: `completed` (exit 0) or `failed`, with its output and exit code. */
export interface ToolOutcome {
  status: 'completed' | 'failed';
  output: unknown;
  exitCode?: number;
  error?: string;
}

const record = (input: unknown): Record<string, unknown> => {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ToolInputError('input', 'input must be an object');
  return input as Record<string, unknown>;
};
const intIn = (value: unknown, field: string, fallback: number, min: number, max: number): number => {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ToolInputError(field, `${field} must be an integer in [${min}, ${max}]`);
  }
  return value;
};

/**
 * Resolves `given` inside `root` (relative to it, or absolute inside it); refuses (ToolInputError on `field`) a path that
 * leaves the worktree, also through a symlink of an existing ancestor.
 */
export const confinePath = (root: string, given: unknown, field: string): string => {
  if (typeof given !== 'string' || given.length === 0) throw new ToolInputError(field, `${field} must be a non-empty string`);
  const realRoot = realpathSync(root);
  const target = path.resolve(realRoot, given);
  const inside = (p: string) => p === realRoot || p.startsWith(realRoot + path.sep);
  if (!inside(target)) throw new ToolInputError(field, `${field} "${given}" is outside the session's worktree`);
  let ancestor = target;
  while (!existsSync(ancestor)) ancestor = path.dirname(ancestor);
  if (!inside(realpathSync(ancestor))) throw new ToolInputError(field, `${field} "${given}" leaves the session's worktree through a symlink`);
  return target;
};

/**
 * Opens `target` (a path confinePath accepted) inside `root` without following any symlink: every directory between
 * them is lstat-ed (a symlink is refused; for `write`, a missing one is created), the leaf is opened with O_NOFOLLOW
 * (a symlinked leaf, dangling or not, is refused), and the opened file's real path (/proc/self/fd) must still be inside
 * the worktree, which catches a directory swapped for a symlink between the walk and the open. `write` opens without
 * truncating (the caller truncates once the check passed). Throws ToolInputError on `input.path`, or the fs error.
 */
export const openConfined = async (root: string, target: string, mode: 'read' | 'write'): Promise<fsp.FileHandle> => {
  const realRoot = realpathSync(root);
  const inside = (p: string) => p === realRoot || p.startsWith(realRoot + path.sep);
  const relative = path.relative(realRoot, target);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) throw new ToolInputError('input.path', `input.path "${target}" is outside the session's worktree`);
  const parts = relative.split(path.sep);
  let current = realRoot;
  for (const part of parts.slice(0, -1)) {
    current = path.join(current, part);
    let stat;
    try {
      stat = await fsp.lstat(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || mode === 'read') throw error;
      await fsp.mkdir(current);
      stat = await fsp.lstat(current);
    }
    if (stat.isSymbolicLink()) throw new ToolInputError('input.path', `input.path "${relative}" goes through a symlink (${path.relative(realRoot, current)}): refused`);
    if (!stat.isDirectory()) throw new ToolInputError('input.path', `input.path "${relative}": ${path.relative(realRoot, current)} is not a directory`);
  }
  const flags = (mode === 'read' ? fsConstants.O_RDONLY : fsConstants.O_WRONLY | fsConstants.O_CREAT) | fsConstants.O_NOFOLLOW;
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(target, flags, 0o666);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new ToolInputError('input.path', `input.path "${relative}" is a symlink: refused`);
    throw error;
  }
  let opened: string | null = null;
  try {
    opened = readlinkSync(`/proc/self/fd/${handle.fd}`);
  } catch {
    opened = null; // no /proc: the component walk is the check
  }
  if (opened !== null && !inside(opened)) {
    await handle.close();
    throw new ToolInputError('input.path', `input.path "${relative}" resolved outside the session's worktree while it was opened: refused`);
  }
  return handle;
};

/** Validates a managed call's tool and input against the session's worktree; throws ToolInputError naming the field. */
export const validateToolCall = (tool: string, input: unknown, worktree: string): ToolInvocation => {
  const fields = record(input);
  switch (tool) {
    case 'shell':
      if (typeof fields.command !== 'string' || fields.command.length === 0) throw new ToolInputError('input.command', 'input.command must be a non-empty string');
      return {
        tool,
        command: fields.command,
        timeoutMs: intIn(fields.timeoutMs, 'input.timeoutMs', TOOL_LIMITS.shellDefaultTimeoutMs, 1, TOOL_LIMITS.shellMaxTimeoutMs),
        maxOutputBytes: intIn(fields.maxOutputBytes, 'input.maxOutputBytes', TOOL_LIMITS.shellDefaultOutputBytes, 1, TOOL_LIMITS.shellMaxOutputBytes),
      };
    case 'read_file':
      return { tool, path: confinePath(worktree, fields.path, 'input.path'), maxBytes: intIn(fields.maxBytes, 'input.maxBytes', TOOL_LIMITS.readDefaultBytes, 1, TOOL_LIMITS.readMaxBytes) };
    case 'write_file':
      if (typeof fields.content !== 'string') throw new ToolInputError('input.content', 'input.content must be a string');
      if (Buffer.byteLength(fields.content) > TOOL_LIMITS.writeMaxBytes) throw new ToolInputError('input.content', `input.content exceeds ${TOOL_LIMITS.writeMaxBytes} bytes`);
      return { tool, path: confinePath(worktree, fields.path, 'input.path'), content: fields.content };
    default:
      throw new ToolInputError('tool', `managed mode runs only the built-in tools ${BUILTIN_TOOLS.join(', ')} (got "${tool}")`);
  }
};

/** Collects a stream up to `cap` bytes and says whether more was dropped. */
const capped = (cap: number) => {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  return {
    push(chunk: Buffer) {
      if (size >= cap) return void (truncated = true);
      const part = chunk.subarray(0, cap - size);
      if (part.length < chunk.length) truncated = true;
      chunks.push(part);
      size += part.length;
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
    get truncated() {
      return truncated;
    },
  };
};

/**
 * Runs a validated call in `worktree`: `shell` through `sh -c` in its own process group (killed with SIGKILL at the
 * timeout; stdout and stderr each capped), `read_file`, `write_file` (parents created). Never throws for a tool failure:
 * it returns a `failed` outcome with the error.
 */
export const runTool = async (call: ToolInvocation, worktree: string, env: Record<string, string> = {}): Promise<ToolOutcome> => {
  try {
    switch (call.tool) {
      case 'shell':
        return await runShell(call, worktree, env);
      case 'read_file': {
        const handle = await openConfined(worktree, call.path, 'read');
        try {
          const { size } = await handle.stat();
          const buffer = Buffer.alloc(Math.min(size, call.maxBytes));
          await handle.read(buffer, 0, buffer.length, 0);
          return { status: 'completed', output: { content: buffer.toString('utf8'), bytes: size, truncated: size > call.maxBytes } };
        } finally {
          await handle.close();
        }
      }
      case 'write_file': {
        const handle = await openConfined(worktree, call.path, 'write');
        try {
          await handle.truncate(0);
          await handle.writeFile(call.content);
        } finally {
          await handle.close();
        }
        return { status: 'completed', output: { bytes: Buffer.byteLength(call.content) } };
      }
    }
  } catch (error) {
    return { status: 'failed', output: null, error: (error as Error).message };
  }
};

/** Variables of the server's environment a tool may see; everything else (RUNLEDGER_TOKEN, DATABASE_URL, …) stays out. */
export const TOOL_ENV_PASSTHROUGH = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TERM'] as const;
/** Names never given to a tool, whatever the caller passes: the admin credential and the store's address. */
export const TOOL_ENV_FORBIDDEN = ['RUNLEDGER_TOKEN', 'DATABASE_URL', 'RUNLEDGER_SECRET_KEY'] as const;
/** Env variable every process a shell call starts inherits, `RUNLEDGER_TOOL_CALL=<uuid>`: how escaped children are found. */
export const TOOL_CALL_MARKER = 'RUNLEDGER_TOOL_CALL';
/** How long a shell call's pipes may stay open after `sh` exited before what holds them is killed (ms). */
export const SHELL_DRAIN_MS = 250;

/**
 * The environment of a managed tool: TOOL_ENV_PASSTHROUGH and LC_* from the server's, then `extra` (the project env,
 * the session's variables), never a TOOL_ENV_FORBIDDEN name.
 */
export const toolEnvironment = (extra: Record<string, string>, base: NodeJS.ProcessEnv = process.env): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && ((TOOL_ENV_PASSTHROUGH as readonly string[]).includes(name) || name.startsWith('LC_'))) env[name] = value;
  }
  Object.assign(env, extra);
  for (const name of TOOL_ENV_FORBIDDEN) delete env[name];
  return env;
};

/** SIGKILLs the call's process group and every process carrying its marker (setsid and background children included). */
const killEverything = (groupLeader: number | undefined, marker: string): void => {
  const kill = (pid: number) => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  if (groupLeader) kill(-groupLeader);
  for (const pid of listPidsWithEnv(marker)) kill(pid);
};

/**
 * `sh -c` in its own process group with a minimal environment (toolEnvironment) and a per-call marker. The timeout is
 * enforced on the call, not on pipe closure: at `timeoutMs` everything the call started is killed (group and marked
 * processes, so `setsid` and background children too) and the call fails at once; when `sh` exits, what it left
 * behind is killed after SHELL_DRAIN_MS so an escaped child holding stdout cannot keep the call open.
 */
const runShell = (call: Extract<ToolInvocation, { tool: 'shell' }>, cwd: string, env: Record<string, string>): Promise<ToolOutcome> =>
  new Promise((resolve) => {
    const marker = `${TOOL_CALL_MARKER}=${randomUUID()}`;
    const child = spawn('sh', ['-c', call.command], {
      cwd, env: { ...toolEnvironment(env), [TOOL_CALL_MARKER]: marker.slice(TOOL_CALL_MARKER.length + 1) }, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout = capped(call.maxOutputBytes);
    const stderr = capped(call.maxOutputBytes);
    let settled = false;
    let drain: NodeJS.Timeout | undefined;
    const finish = (outcome: (output: { stdout: string; stderr: string; truncated: boolean }) => ToolOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drain);
      killEverything(child.pid, marker);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve(outcome({ stdout: stdout.text(), stderr: stderr.text(), truncated: stdout.truncated || stderr.truncated }));
    };
    const timer = setTimeout(() => finish((output) => ({ status: 'failed', output, error: `timed out after ${call.timeoutMs} ms` })), call.timeoutMs);
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.once('error', (error) => finish(() => ({ status: 'failed', output: null, error: error.message })));
    const exited = (code: number | null, signal: NodeJS.Signals | null) => (output: { stdout: string; stderr: string; truncated: boolean }): ToolOutcome => {
      if (code === null) return { status: 'failed', output, error: `killed by ${signal}` };
      return { status: code === 0 ? 'completed' : 'failed', output, exitCode: code, ...(code === 0 ? {} : { error: `exit code ${code}` }) };
    };
    child.once('exit', (code, signal) => {
      // The pipes normally close right after; a child that escaped with them open is killed after a short drain.
      drain = setTimeout(() => finish(exited(code, signal)), SHELL_DRAIN_MS);
      child.once('close', () => finish(exited(code, signal)));
    });
  });
