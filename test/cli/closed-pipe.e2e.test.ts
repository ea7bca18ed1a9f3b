import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'closed-pipe-token-0123456789abcdef';
const BIN = join(__dirname, '../../bin/runledger.js');
/** Tool calls of the imported session: its history (two events each) is far larger than a pipe's buffer (64 KiB). */
const CALLS = 1500;

/** What one `sh -c '{ runledger …; } | reader'` left: runledger's own exit status and stderr, the pipeline's stdout and the shell's stderr. */
interface PipeRun {
  status: number;
  stderr: string;
  stdout: string;
  shellStderr: string;
}

/**
 * `runledger <args>` in a shell pipeline whose reader closes early, like `runledger history <id> | head -1`: a command
 * whose reader is gone ends like other Unix tools, quietly (nothing on stderr, no EPIPE stack trace) with the status
 * it would have had otherwise (0 for output cut short). `stderrToPipe` sends runledger's stderr into the pipe too.
 */
describe('runledger in a pipe whose reader closes early', () => {
  let root: string;
  let server: ServerProcess;
  let env: Record<string, string>;
  let sessionId: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-pipe-'));
    const repo = makeRepo(join(root, 'repo'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
    const api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'p', id: 'p', repoPath: repo })).status).toBe(201);
    // One import appends the whole trail: a session with CALLS dispatched and completed calls.
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const toolCalls = Array.from({ length: CALLS }, (_, i) => ({
      callId: `call-${i}`, runId: 'r1', tool: 'Bash', input: { command: `echo ${i}` }, requestedAt: at(1), line: 2 + i,
      result: { status: 'completed', output: `${i}`, at: at(2), line: 2 + CALLS + i },
    }));
    const imported = await api.post('/imports/claude-code', {
      projectId: 'p', transcriptPath: join(root, 'main.jsonl'), subagents: [],
      transcript: { agentSessionId: 'agent-pipe-1', cwd: repo, runs: [{ runId: 'r1', prompt: 'go', startedAt: at(0), endedAt: at(3), line: 1 }], toolCalls, skippedLines: [] },
    });
    expect(imported.status).toBe(200);
    sessionId = imported.body.sessionId;
    env = { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN, RUNLEDGER_DATA_DIR: join(root, 'cli-data') };
  });
  afterAll(async () => {
    await server?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  let runs = 0;
  const inPipe = (args: string[], reader: string, options: { stderrToPipe?: boolean; url?: string } = {}): PipeRun => {
    const dir = join(root, `run-${++runs}`);
    const status = `${dir}.status`;
    const stderr = `${dir}.stderr`;
    const errTo = options.stderrToPipe ? '2>&1' : '2>"$ERR"';
    const quoted = args.map((a) => `'${a}'`).join(' ');
    const script = `{ "$NODE" "$BIN" ${quoted} ${errTo}; echo $? > "$STATUS"; } | ${reader}`;
    const shell = spawnSync('sh', ['-c', script], {
      env: { ...process.env, NO_COLOR: '1', ...env, ...(options.url ? { RUNLEDGER_URL: options.url } : {}), NODE: process.execPath, BIN, STATUS: status, ERR: stderr },
      encoding: 'utf8',
    });
    return {
      status: Number(readFileSync(status, 'utf8').trim()),
      stderr: options.stderrToPipe ? '' : readFileSync(stderr, 'utf8'),
      stdout: shell.stdout,
      shellStderr: shell.stderr,
    };
  };

  // [what, args, reader, the first line head prints (a pattern), options]
  const quiet: [string, string[], string, RegExp | null][] = [
    ['--help, cut by head -1', ['--help'], 'head -1', /^Usage: runledger/],
    ['--help, the reader gone before it', ['--help'], 'true', null],
    ['a subcommand --help', ['history', '--help'], 'true', null],
    ['sessions as a table', ['sessions'], 'head -1', /^┌|id/],
    ['sessions as a table, the reader gone before it', ['sessions'], 'true', null],
    ['sessions --json, the reader gone before it', ['sessions', '--json'], 'true', null],
    ['history (human lines)', ['history', '@SESSION'], 'head -1', /^\S/],
    ['history --json', ['history', '@SESSION', '--json'], 'head -1', /^\{"/],
    ['export (JSONL written with backpressure)', ['export', '@SESSION'], 'head -1', /^\{"/],
    ['tail --from 0 --json (a live feed)', ['tail', '--from', '0', '--json'], 'head -1', /^\{"/],
  ];

  it.each(quiet)('%s: ends with 0 and nothing on stderr', (_, args, reader, first) => {
    const run = inPipe(args.map((a) => (a === '@SESSION' ? sessionId : a)), reader);
    // `tail` announces what it follows on stderr before any event; that line is all it may write there.
    const stderr = args[0] === 'tail' ? run.stderr.replace(/^following the log after position \d+; Ctrl-C stops\n/, '') : run.stderr;
    expect({ status: run.status, stderr, shellStderr: run.shellStderr }).toEqual({ status: 0, stderr: '', shellStderr: '' });
    if (first) expect(run.stdout.split('\n')[0]).toMatch(first);
  });

  it('keeps the status of a usage error whose message meets a closed pipe (2, not a crash)', () => {
    const run = inPipe(['history'], 'true', { stderrToPipe: true });
    expect({ status: run.status, shellStderr: run.shellStderr }).toEqual({ status: 2, shellStderr: '' });
  });

  it('keeps the status of an unreachable server whose message meets a closed pipe (3, not a crash)', () => {
    const run = inPipe(['sessions'], 'true', { stderrToPipe: true, url: 'http://127.0.0.1:9' });
    expect({ status: run.status, shellStderr: run.shellStderr }).toEqual({ status: 3, shellStderr: '' });
  });
});
