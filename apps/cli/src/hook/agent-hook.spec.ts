import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hookEventOf } from '@runledger/infra/agents/claude-code/hook-protocol';
import { HookIo, HookOptions, parseHookArgs, runAgentHook } from './agent-hook';

/** The shim (bin/runledger-hook, run by bash): the default runner of command hooks. */
const SHIM = join(__dirname, '..', '..', '..', '..', 'bin', 'runledger-hook');

const pre = JSON.stringify({ hook_event_name: 'PreToolUse', session_id: 's', tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: 'toolu_1' });
const stop = JSON.stringify({ hook_event_name: 'Stop', session_id: 's' });

/** A real HTTP server on a fixed port that can be started late (a runledger restart) and records what it got. */
const fakeRunledger = (answer: (req: IncomingMessage, body: string) => [number, string]) => {
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  let server: Server | undefined;
  return {
    received,
    listen: (port = 0) =>
      new Promise<number>((resolve) => {
        server = createServer((req, res) => {
          let body = '';
          req.on('data', (c) => (body += c));
          req.on('end', () => {
            received.push({ headers: req.headers, body });
            const [status, text] = answer(req, body);
            res.writeHead(status, { 'content-type': 'application/json' }).end(text);
          });
        });
        server.listen(port, '127.0.0.1', () => resolve((server!.address() as AddressInfo).port));
      }),
    close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
};

/** A port with nothing listening on it (taken, then released). */
const freePort = async (): Promise<number> => {
  const probe = fakeRunledger(() => [200, '']);
  const port = await probe.listen();
  await probe.close();
  return port;
};

const recordingIo = () => {
  const out = { stdout: '', stderr: '' };
  const io: HookIo = {
    stdout: (t) => (out.stdout += t),
    stderr: (t) => (out.stderr += t),
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
  return { out, io };
};
const options = (port: number, over: Partial<HookOptions> = {}): HookOptions => ({
  agent: 'claude-code', url: `http://127.0.0.1:${port}`, sessionId: 'rl-1', token: 'rls1.rl-1.mac', holdMs: 1000, failure: 'closed', ...over,
});

/** A folder whose `curl` runs the real one with every request to runledger.test sent to 127.0.0.1 (same port). */
const CURL_SHIM_DIR = mkdtempSync(join(tmpdir(), 'rl-curl-'));
const REAL_CURL = execFileSync('/bin/sh', ['-c', 'command -v curl'], { encoding: 'utf8' }).trim();
const BASH = execFileSync('/bin/sh', ['-c', 'command -v bash'], { encoding: 'utf8' }).trim();
writeFileSync(join(CURL_SHIM_DIR, 'curl'), `#!/bin/sh\nexec '${REAL_CURL}' --connect-to runledger.test::127.0.0.1: "$@"\n`, { mode: 0o755 });
afterAll(() => rmSync(CURL_SHIM_DIR, { recursive: true, force: true }));

/** What one hook run ended with. */
interface HookRun {
  exit: number;
  stdout: string;
  stderr: string;
}

/** Runs the shim as Claude Code runs a command hook (`sh -c`, input on stdin); the event from the input unless given. */
const runShim = (input: string, o: HookOptions, env: Record<string, string> = {}, event = hookEventOf(input) ?? 'PreToolUse'): Promise<HookRun> =>
  new Promise((resolve, reject) => {
    const argv = [SHIM, 'claude-code', '--event', event, '--url', o.url, ...(o.sessionId ? ['--session', o.sessionId] : []), '--hold', String(o.holdMs / 1000), '--failure', o.failure];
    const child = spawn('/bin/sh', ['-c', [BASH, ...argv].map((a) => `'${a}'`).join(' ')], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(o.token ? { RUNLEDGER_TOKEN: o.token } : {}), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (c) => (out.stdout += c));
    child.stderr.on('data', (c) => (out.stderr += c));
    child.once('error', reject);
    child.once('close', (code) => resolve({ exit: code ?? -1, ...out }));
    child.stdin.on('error', () => {}); // a refused usage exits before it reads stdin
    child.stdin.end(input);
  });

/** Both runners of a command hook, behind one signature: the Node hook in process, the shim as a child process. */
const RUNNERS: [string, (input: string, o: HookOptions) => Promise<HookRun>][] = [
  ['runledger hook (node)', async (input, o) => {
    const { out, io } = recordingIo();
    return { exit: await runAgentHook(input, o, io), ...out };
  }],
  ['bin/runledger-hook (bash, /dev/tcp to loopback)', (input, o) => runShim(input, o)],
  // The same shim to a URL it reaches through curl: a stand-in `curl` on PATH that runs the real one against the
  // loopback server under a non-loopback name (curl's --connect-to keeps the rest of the request as sent).
  ['bin/runledger-hook (bash, curl)', (input, o) => runShim(input, { ...o, url: o.url.replace('127.0.0.1', 'runledger.test') }, { PATH: `${CURL_SHIM_DIR}:${process.env.PATH}` })],
];

describe.each(RUNNERS)('%s: held while runledger is away', (_name, run) => {
  const allow = JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'allow', permissionDecisionReason: 'recorded' } });

  it('waits for a server that comes back within the hold, then prints its answer', async () => {
    const port = await freePort();
    const server = fakeRunledger(() => [200, allow]);
    const restart = new Promise((r) => setTimeout(r, 400)).then(() => server.listen(port));
    const result = await run(pre, options(port, { holdMs: 5000 }));
    await restart;
    await server.close();
    expect(result.exit).toBe(0);
    expect(result.stdout).toBe(`${allow}\n`);
    expect(server.received).toHaveLength(1);
    expect(server.received[0].headers).toMatchObject({ authorization: 'Bearer rls1.rl-1.mac', 'x-runledger-session': 'rl-1', 'content-type': 'application/json' });
    expect(JSON.parse(server.received[0].body)).toEqual(JSON.parse(pre));
  });

  it('asks for the answer a command hook prints, and prints it as is (a WorktreeCreate path is not JSON)', async () => {
    const server = fakeRunledger((req) => [200, req.url === '/api/v1/hooks/claude-code?transport=command' ? '/repo/.claude/worktrees/w1' : 'wrong url']);
    const port = await server.listen();
    const result = await run(JSON.stringify({ hook_event_name: 'WorktreeCreate', session_id: 's', name: 'w1' }), options(port));
    await server.close();
    expect(result).toEqual({ exit: 0, stdout: '/repo/.claude/worktrees/w1\n', stderr: '' });
  });

  it('retries 5xx answers (a server shutting down) until a 2xx', async () => {
    let n = 0;
    const server = fakeRunledger(() => (++n < 3 ? [503, '{"message":"shutting down"}'] : [200, '{}']));
    const port = await server.listen();
    expect((await run(stop, options(port))).exit).toBe(0);
    await server.close();
    expect(n).toBe(3);
  });

  it('after the hold, blocks a PreToolUse (exit 2) with a reason the agent reads', async () => {
    const result = await run(pre, options(await freePort()));
    expect(result.exit).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/this tool call is blocked: it could not be recorded before it runs \(runledger at http:\/\/(127\.0\.0\.1|runledger\.test):\d+ did not answer for 1 s \((ECONNREFUSED|could not connect)\)\)/);
  });

  it('with hookFailure open, lets the PreToolUse proceed (allow) after the hold', async () => {
    const result = await run(pre, options(await freePort(), { failure: 'open', holdMs: 0 }));
    expect(result.exit).toBe(0);
    expect(JSON.parse(result.stdout).hookSpecificOutput).toMatchObject({ hookEventName: 'PreToolUse', permissionDecision: 'allow' });
    expect(result.stderr).toContain('hookFailure is open');
  });

  it('a non-blocking event that cannot be recorded exits 1 (never 2: a Stop hook exiting 2 would make the agent go on)', async () => {
    expect((await run(stop, options(await freePort(), { holdMs: 0 }))).exit).toBe(1);
  });

  it('a refusal (403: revoked credential) is not retried and blocks the call whatever the failure mode', async () => {
    const server = fakeRunledger(() => [403, '{"message":"revoked"}']);
    const port = await server.listen();
    const result = await run(pre, options(port, { failure: 'open' }));
    await server.close();
    expect(result.exit).toBe(2);
    expect(server.received).toHaveLength(1);
    expect(result.stderr).toContain('runledger refused the PreToolUse hook: 403 {"message":"revoked"}');
  });

  it('a refused non-blocking event exits 1 with the refusal', async () => {
    const server = fakeRunledger(() => [400, '{"message":"session_id must be a string"}']);
    const port = await server.listen();
    const result = await run(stop, options(port));
    await server.close();
    expect(result.exit).toBe(1);
    expect(result.stderr).toContain('runledger refused the Stop hook: 400 {"message":"session_id must be a string"}');
  });
});

describe('runledger hook (node): input and options', () => {
  it('blocks input it cannot read, and parses its options', async () => {
    const { io } = recordingIo();
    expect(await runAgentHook('not json', options(1), io)).toBe(2);
    expect(parseHookArgs(['--event', 'Stop', '--url', 'http://127.0.0.1:9/api/v1', '--session', 'rl-2', '--hold', '5', '--failure', 'open'], { RUNLEDGER_TOKEN: 't' })).toEqual({
      agent: 'claude-code', url: 'http://127.0.0.1:9', sessionId: 'rl-2', token: 't', holdMs: 5000, failure: 'open', event: 'Stop',
    });
    expect(() => parseHookArgs(['--failure', 'maybe'], {})).toThrow('--failure must be closed or open');
  });
});

describe('bin/runledger-hook: credential and usage', () => {
  it('reads the token file of RUNLEDGER_DATA_DIR when RUNLEDGER_TOKEN is unset (an installed hook), and never passes it in argv', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-shim-'));
    writeFileSync(join(dir, 'token'), '  admin-token-from-file  \n');
    let seenInArgv = true;
    const server = fakeRunledger(() => {
      // While the request is in flight, no process's command line may hold the credential.
      seenInArgv = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).some((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('admin-token-from-file');
        } catch {
          return false;
        }
      });
      return [200, '{}'];
    });
    const port = await server.listen();
    const result = await runShim(stop, options(port, { token: undefined }), { RUNLEDGER_DATA_DIR: dir });
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    expect(result).toEqual({ exit: 0, stdout: '{}\n', stderr: '' });
    expect(server.received[0].headers.authorization).toBe('Bearer admin-token-from-file');
    expect(seenInArgv).toBe(false);
  });

  it('refuses bad arguments with exit 2 and says which (a hook that cannot run must not let a tool run unrecorded)', async () => {
    expect(await runShim(pre, options(1, { holdMs: 1500 }))).toMatchObject({ exit: 2, stderr: expect.stringContaining("--hold must be a whole number of seconds >= 0, got '1.5'") });
    expect(await runShim(pre, options(1, { failure: 'maybe' as 'open' }))).toMatchObject({ exit: 2, stderr: expect.stringContaining("--failure must be closed or open, got 'maybe'") });
    expect(await runShim(pre, options(1), {}, '')).toMatchObject({ exit: 2, stderr: expect.stringContaining('--event must name the hook event') });
    expect(await runShim(pre, { ...options(1), url: 'https://runledger.example' }, { PATH: '/nonexistent' })).toMatchObject({ exit: 2, stderr: expect.stringContaining('curl is not on PATH') });
    expect(await runShim(pre, options(1, { sessionId: 'rl-1\r\nX-Evil: 1' }))).toMatchObject({ exit: 2, stderr: expect.stringContaining('--session must be a session id') });
    expect(await runShim(pre, options(1, { token: 'a\r\nX-Evil: 1' }))).toMatchObject({ exit: 2, stderr: expect.stringContaining('holds a space or a control character') });
  });
});
