/*
 * `runledger hook claude-code|codex`: the command a coding agent's hook runs where the shim (bin/runledger-hook) cannot. A standalone entry point (bin/runledger.js loads
 * it directly, without commander, Nest or a database) because it runs around every tool call and must start fast.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BLOCKING_HOOK_EVENTS, hookEventOf, preToolUseDecision } from '@runledger/infra/agents/claude-code/hook-protocol';
import { resolveClientConfig } from '../client/client-config';
import { CERTIFICATE_ERROR } from '../client/client-errors';

/** The agents `runledger hook` forwards for (docs/ARCHITECTURE.md §4d). */
export const HOOK_AGENTS = ['claude-code', 'codex', 'gemini-cli'] as const;

/** One of HOOK_AGENTS. */
export type HookAgent = (typeof HOOK_AGENTS)[number];

/** What the hook does when runledger does not answer within the hold: block the blocking events, or let them proceed. */
export type HookFailureMode = 'closed' | 'open';

/** Options of one hook run (from argv, then the agent's environment). */
export interface HookOptions {
  /** The agent whose hook this is (`claude-code`, `codex`): the route `POST /hooks/<agent>`. */
  agent: HookAgent;
  /** runledger origin, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** The runledger session (sent as `X-Runledger-Session`); absent for sessions runledger did not spawn. */
  sessionId?: string;
  /** Bearer credential: the agent's session credential (RUNLEDGER_TOKEN), else the data directory's token file. */
  token?: string;
  /** How long to keep retrying while runledger does not answer (ms). */
  holdMs: number;
  failure: HookFailureMode;
  /** The hook event this command is registered for (`--event`); absent: read from the input's `hook_event_name`. */
  event?: string;
  /** A private CA the https server's certificate is verified with (`--ca-file`, else RUNLEDGER_CA_FILE). */
  ca?: Buffer;
}

/** Exit codes Claude Code gives meaning to: 0 success (stdout JSON read), 2 blocking error (stderr shown to the agent), 1 non-blocking. */
export const HOOK_EXIT = { ok: 0, nonBlocking: 1, block: 2 } as const;

/** Thrown for bad hook arguments (exit 2: a hook that cannot run must not let a tool run unrecorded). */
export class HookUsageError extends Error {}

/** Parses `--event E --url U --session S --hold SECONDS --failure closed|open --ca-file PEM` (each optional; env RUNLEDGER_URL, RUNLEDGER_SESSION_ID, RUNLEDGER_CA_FILE); throws HookUsageError. */
export const parseHookArgs = (args: string[], env: NodeJS.ProcessEnv = process.env, agent: HookAgent = 'claude-code'): HookOptions => {
  const given = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const [name, value] = [args[i], args[i + 1]];
    if (!['--event', '--url', '--session', '--hold', '--failure', '--ca-file'].includes(name) || value === undefined) {
      throw new HookUsageError(`unexpected argument ${JSON.stringify(name)} (usage: runledger hook claude-code|codex|gemini-cli [--event NAME] [--url U] [--session ID] [--hold SECONDS] [--failure closed|open] [--ca-file PEM])`);
    }
    given.set(name, value);
  }
  const hold = Number(given.get('--hold') ?? 30);
  if (!Number.isFinite(hold) || hold < 0) throw new HookUsageError(`--hold must be a number of seconds >= 0, got ${given.get('--hold')}`);
  const failure = given.get('--failure') ?? 'closed';
  if (failure !== 'closed' && failure !== 'open') throw new HookUsageError(`--failure must be closed or open, got ${failure}`);
  const config = resolveClientConfig({ ...env, ...(given.has('--url') ? { RUNLEDGER_URL: given.get('--url') } : {}), ...(given.has('--ca-file') ? { RUNLEDGER_CA_FILE: given.get('--ca-file') } : {}) });
  const sessionId = given.get('--session') ?? env.RUNLEDGER_SESSION_ID;
  const event = given.get('--event');
  let ca: Buffer | undefined;
  try {
    ca = config.caFile && config.baseUrl.startsWith('https:') ? readFileSync(config.caFile) : undefined;
  } catch (error) {
    throw new HookUsageError(`cannot read the CA file ${config.caFile}: ${(error as Error).message}`);
  }
  return { agent, url: config.baseUrl, token: config.token, holdMs: hold * 1000, failure, ...(sessionId ? { sessionId } : {}), ...(event ? { event } : {}), ...(ca ? { ca } : {}) };
};

/** One answer of the server: its status and body, or `unreachable` with the network reason. */
type Attempt = { status: number; body: string } | { unreachable: string };

/**
 * A status worth waiting out: the server is restarting or overloaded (5xx), not refusing the input (4xx); a certificate
 * that does not verify is a refusal too (a wrong CA or another server: never held, never sent the input again).
 */
const retryable = (attempt: Attempt): boolean => ('unreachable' in attempt ? !CERTIFICATE_ERROR.test(attempt.unreachable) : attempt.status >= 500);

/** POSTs the input (answer as a command hook prints it) over one fresh connection (node:http: it loads faster than fetch, and leaves no pooled socket behind). */
const post = (options: HookOptions, input: string, timeoutMs: number): Promise<Attempt> =>
  new Promise((resolve) => {
    const url = new URL(`${options.url}/api/v1/hooks/${options.agent}?transport=command`);
    const body = Buffer.from(input);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: 'POST',
        agent: false,
        timeout: timeoutMs,
        ...(options.ca ? { ca: options.ca } : {}),
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.sessionId ? { 'x-runledger-session': options.sessionId } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ unreachable: error.code ?? error.message }));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ unreachable: error.code ?? error.message }));
    req.end(body);
  });

/** What the hook writes and how it waits; real process streams and timers in production, recorded ones in tests. */
export interface HookIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

/** Longest wait for one answer (ms): a server that accepted the request but hangs is asked again. */
const ATTEMPT_TIMEOUT_MS = 20_000;

/**
 * Forwards one hook input (stdin text) to runledger and returns the exit code (docs/ARCHITECTURE.md §4a, invariant 15): the answer's
 * JSON goes to stdout (exit 0). While runledger does not answer (connection refused or reset, 5xx), it retries until
 * the hold expires, so the agent waits out a restart instead of running a tool unrecorded or having it denied. Then a
 * blocking event (PreToolUse, PermissionRequest, or input it cannot read) is blocked with exit 2 and a reason the agent
 * reads (`failure: closed`), or proceeds (`open`: PreToolUse answers allow; the transcript heals the log); other
 * events exit 1 (non-blocking). A 4xx refusal (bad input, revoked credential) is not retried.
 */
export const runAgentHook = async (input: string, options: HookOptions, io: HookIo): Promise<number> => {
  const event = options.event ?? hookEventOf(input);
  const blocking = event === undefined || (BLOCKING_HOOK_EVENTS as readonly string[]).includes(event) || event === 'BeforeTool'; // Gemini CLI's PreToolUse
  const deadline = io.now() + options.holdMs;
  let attempt: Attempt = { unreachable: 'not tried' };
  let delay = 100;
  for (;;) {
    if (event === undefined) break;
    attempt = await post(options, input, ATTEMPT_TIMEOUT_MS);
    if (!retryable(attempt) || io.now() >= deadline) break;
    await io.sleep(Math.min(delay, Math.max(0, deadline - io.now())));
    delay = Math.min(delay * 1.5, 1000);
  }
  if (!('unreachable' in attempt) && attempt.status >= 200 && attempt.status < 300) {
    // `?transport=command`: the body is what the hook prints (a WorktreeCreate answer is the bare path, commandHookStdout).
    if (attempt.body) io.stdout(attempt.body.endsWith('\n') ? attempt.body : `${attempt.body}\n`);
    return HOOK_EXIT.ok;
  }
  const reason =
    event === undefined
      ? 'the hook input on stdin is not a JSON object with hook_event_name'
      : 'unreachable' in attempt && CERTIFICATE_ERROR.test(attempt.unreachable)
        ? `the TLS certificate of ${options.url} was refused (${attempt.unreachable}): for a private CA pass --ca-file or set RUNLEDGER_CA_FILE`
        : 'unreachable' in attempt
        ? `runledger at ${options.url} did not answer for ${Math.round(options.holdMs / 1000)} s (${attempt.unreachable})`
        : `runledger refused the ${event} hook: ${attempt.status} ${attempt.body.slice(0, 500)}`;
  if (!blocking) {
    io.stderr(`runledger: ${reason}\n`);
    return HOOK_EXIT.nonBlocking;
  }
  if (options.failure === 'open' && retryable(attempt) && event !== undefined) {
    io.stderr(`runledger: ${reason}; hookFailure is open: the call proceeds unrecorded (the transcript will heal the log)\n`);
    if (event === 'PreToolUse') io.stdout(`${JSON.stringify(preToolUseDecision('allow', `runledger unreachable (${reason}); hookFailure: open`))}\n`);
    return HOOK_EXIT.ok;
  }
  io.stderr(
    `runledger: this tool call is blocked: it could not be recorded before it runs (${reason}). ` +
      'Nothing was executed; wait a moment and try the same step again.\n',
  );
  return HOOK_EXIT.block;
};

/** Reads all of stdin as UTF-8 text. */
const readStdin = async (): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
};

/** The process-level entry: `agent` and `args` (after `hook`), reads stdin, runs the hook, returns the exit code (2 for an unknown agent). */
export const agentHookMain = async (agent: string, args: string[]): Promise<number> => {
  const io: HookIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  const input = await readStdin();
  try {
    if (!(HOOK_AGENTS as readonly string[]).includes(agent)) throw new HookUsageError(`unknown agent ${JSON.stringify(agent)} (${HOOK_AGENTS.join(', ')})`);
    return await runAgentHook(input, parseHookArgs(args, process.env, agent as HookAgent), io);
  } catch (error) {
    io.stderr(`runledger: hook ${agent}: ${(error as Error).message}\n`);
    return HOOK_EXIT.block;
  }
};
