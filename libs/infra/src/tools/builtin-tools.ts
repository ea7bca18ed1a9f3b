import { spawn } from 'node:child_process';
import { existsSync, promises as fsp, realpathSync } from 'node:fs';
import * as path from 'node:path';

/** The tools runledger runs itself in `managed` mode (issue 4). */
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

/** Bad input for a managed tool: names the field (400, DESIGN invariant 13). */
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
        const handle = await fsp.open(call.path, 'r');
        try {
          const { size } = await handle.stat();
          const buffer = Buffer.alloc(Math.min(size, call.maxBytes));
          await handle.read(buffer, 0, buffer.length, 0);
          return { status: 'completed', output: { content: buffer.toString('utf8'), bytes: size, truncated: size > call.maxBytes } };
        } finally {
          await handle.close();
        }
      }
      case 'write_file':
        await fsp.mkdir(path.dirname(call.path), { recursive: true });
        await fsp.writeFile(call.path, call.content);
        return { status: 'completed', output: { bytes: Buffer.byteLength(call.content) } };
    }
  } catch (error) {
    return { status: 'failed', output: null, error: (error as Error).message };
  }
};

const runShell = (call: Extract<ToolInvocation, { tool: 'shell' }>, cwd: string, env: Record<string, string>): Promise<ToolOutcome> =>
  new Promise((resolve) => {
    const child = spawn('sh', ['-c', call.command], { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout = capped(call.maxOutputBytes);
    const stderr = capped(call.maxOutputBytes);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, call.timeoutMs);
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ status: 'failed', output: null, error: error.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const output = { stdout: stdout.text(), stderr: stderr.text(), truncated: stdout.truncated || stderr.truncated };
      if (timedOut) return resolve({ status: 'failed', output, error: `timed out after ${call.timeoutMs} ms` });
      if (code === null) return resolve({ status: 'failed', output, error: `killed by ${signal}` });
      resolve({ status: code === 0 ? 'completed' : 'failed', output, exitCode: code, ...(code === 0 ? {} : { error: `exit code ${code}` }) });
    });
  });
