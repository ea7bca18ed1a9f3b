import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { HookIo, HookOptions, parseHookArgs, runClaudeCodeHook } from './claude-code-hook';

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
  url: `http://127.0.0.1:${port}`, sessionId: 'rl-1', token: 'rls1.rl-1.mac', holdMs: 1500, failure: 'closed', ...over,
});

describe('runledger hook claude-code: held while runledger is away', () => {
  const allow = JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'allow', permissionDecisionReason: 'recorded' } });

  it('waits for a server that comes back within the hold, then answers as it does', async () => {
    const port = await freePort();
    const server = fakeRunledger(() => [200, allow]);
    const { out, io } = recordingIo();
    const restart = new Promise((r) => setTimeout(r, 400)).then(() => server.listen(port));
    const exit = await runClaudeCodeHook(pre, options(port), io);
    await restart;
    await server.close();
    expect(exit).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual(JSON.parse(allow));
    expect(server.received).toHaveLength(1);
    expect(server.received[0].headers).toMatchObject({ authorization: 'Bearer rls1.rl-1.mac', 'x-runledger-session': 'rl-1' });
    expect(server.received[0].body).toBe(pre);
  });

  it('retries 5xx answers (a server shutting down) until a 2xx', async () => {
    let n = 0;
    const server = fakeRunledger(() => (++n < 3 ? [503, '{"message":"shutting down"}'] : [200, '{}']));
    const port = await server.listen();
    const { io } = recordingIo();
    expect(await runClaudeCodeHook(stop, options(port), io)).toBe(0);
    await server.close();
    expect(n).toBe(3);
  });

  it('after the hold, blocks a PreToolUse (exit 2) with a reason the agent reads', async () => {
    const { out, io } = recordingIo();
    const started = Date.now();
    expect(await runClaudeCodeHook(pre, options(await freePort()), io)).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/this tool call is blocked: it could not be recorded before it runs \(runledger at http:\/\/127\.0\.0\.1:\d+ did not answer for 2 s \(ECONNREFUSED\)\)/);
  });

  it('with hookFailure open, lets the PreToolUse proceed (allow) after the hold', async () => {
    const { out, io } = recordingIo();
    expect(await runClaudeCodeHook(pre, options(await freePort(), { failure: 'open', holdMs: 200 }), io)).toBe(0);
    expect(JSON.parse(out.stdout).hookSpecificOutput).toMatchObject({ hookEventName: 'PreToolUse', permissionDecision: 'allow' });
    expect(out.stderr).toContain('hookFailure is open');
  });

  it('a non-blocking event that cannot be recorded exits 1 (never 2: a Stop hook exiting 2 would make the agent go on)', async () => {
    const { io } = recordingIo();
    expect(await runClaudeCodeHook(stop, options(await freePort(), { holdMs: 200 }), io)).toBe(1);
  });

  it('a refusal (403: revoked credential) is not retried and blocks the call whatever the failure mode', async () => {
    const server = fakeRunledger(() => [403, '{"message":"revoked"}']);
    const port = await server.listen();
    const { out, io } = recordingIo();
    expect(await runClaudeCodeHook(pre, options(port, { failure: 'open' }), io)).toBe(2);
    await server.close();
    expect(server.received).toHaveLength(1);
    expect(out.stderr).toContain('runledger refused the PreToolUse hook: 403');
  });

  it('blocks input it cannot read, and parses its options', async () => {
    const { io } = recordingIo();
    expect(await runClaudeCodeHook('not json', options(1), io)).toBe(2);
    expect(parseHookArgs(['--url', 'http://127.0.0.1:9/api/v1', '--session', 'rl-2', '--hold', '5', '--failure', 'open'], { RUNLEDGER_TOKEN: 't' })).toEqual({
      url: 'http://127.0.0.1:9', sessionId: 'rl-2', token: 't', holdMs: 5000, failure: 'open',
    });
    expect(() => parseHookArgs(['--failure', 'maybe'], {})).toThrow('--failure must be closed or open');
  });
});
