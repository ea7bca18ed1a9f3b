import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { eventually } from '../support/http-client';
import { runCli, runWithInput, ServerProcess, startServerProcess } from '../support/server-process';

// docs/ARCHITECTURE.md §8: HTTPS served directly (RUNLEDGER_TLS_CERT/KEY) with a private CA made here with openssl:
// the CLI, both hook runners (the sh shim over curl, the Node hook) and the web page verify it; a wrong CA is refused.

const ADMIN = 'tls-e2e-admin-token-0123456789';
const ROOT_DIR = join(__dirname, '../..');
const BIN = join(ROOT_DIR, 'bin/runledger.js');
const SHIM = join(ROOT_DIR, 'bin/runledger-hook');

/** A self-signed CA in `dir`: `<name>.pem` and `<name>.key`. */
const makeCa = (dir: string, name: string): void => {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`);
};

/** One HTTPS request trusting only `ca`; status, headers and body. */
const https = (url: string, ca: Buffer, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, ca }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });

describe('HTTPS with a private CA', () => {
  let root: string;
  let repo: string;
  let server: ServerProcess;
  let ca: Buffer;
  const pem = (name: string) => join(root, `${name}.pem`);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-tls-'));
    repo = makeRepo(join(root, 'repo'));
    makeCa(root, 'ca');
    makeCa(root, 'other');
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: root, stdio: 'ignore' });
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(root, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
    ca = readFileSync(pem('ca'));
    server = await startServerProcess({
      RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: ADMIN, DATABASE_URL: '',
      RUNLEDGER_TLS_CERT: pem('server'), RUNLEDGER_TLS_KEY: join(root, 'server.key'), RUNLEDGER_TLS_CA: pem('ca'),
    });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves https; the CLI verifies it with --ca-file or RUNLEDGER_CA_FILE and refuses a wrong or missing CA', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const env = { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: ADMIN, RUNLEDGER_CA_FILE: '' };
    const ok = await runCli(['--ca-file', pem('ca'), 'project', 'add', repo, '--json'], env);
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
    expect((await runCli(['status'], { ...env, RUNLEDGER_CA_FILE: pem('ca') })).code).toBe(0);
    for (const refused of [await runCli(['--ca-file', pem('other'), 'status'], env), await runCli(['status'], env)]) {
      expect({ code: refused.code, message: /refused the TLS certificate/.test(refused.stderr) }).toEqual({ code: 1, message: true });
    }
  });

  it("records an agent's hooks over https through the sh shim (curl) and the Node hook, with the CA runledger hands it", async () => {
    const hook = (id: string) => JSON.stringify({ hook_event_name: 'PreToolUse', session_id: 'tls-agent', tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: id, cwd: repo });
    const script = join(root, 'agent.sh');
    writeFileSync(script, [
      `printf '%s' '${hook('shim-call')}' | bash ${SHIM} claude-code --event PreToolUse > ${join(root, 'shim.out')} 2>&1 || exit 3`,
      `printf '%s' '${hook('node-call')}' | ${process.execPath} ${BIN} hook claude-code --event PreToolUse > ${join(root, 'node.out')} 2>&1 || exit 4`,
    ].join('\n') + '\n');
    const spawned = await https(`${server.url}/api/v1/sessions`, ca, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ projectId: 'repo', agent: 'command', command: ['bash', script] }),
    });
    expect(spawned.status).toBe(201);
    const id = JSON.parse(spawned.body).id as string;
    const events = await eventually(async () => {
      const trail = JSON.parse((await https(`${server.url}/api/v1/sessions/${id}/events`, ca, { headers: { authorization: `Bearer ${ADMIN}` } })).body).events as { type: string; data: Record<string, unknown>; metadata: Record<string, string> }[];
      return trail.some((e) => e.type === 'SessionExited') ? trail : null;
    }, 'the agent to end', 30_000);
    expect(events.find((e) => e.type === 'SessionExited')?.data).toMatchObject({ exitCode: 0 });
    const calls = events.filter((e) => e.type === 'ToolCallDispatched').map((e) => `${e.data.callId} ${e.metadata.actor}`);
    expect(calls).toEqual([`shim-call session:${id}`, `node-call session:${id}`]);
  });

  it('refuses a server whose certificate a hook cannot verify, at once and fail-closed (both runners)', async () => {
    const input = JSON.stringify({ hook_event_name: 'PreToolUse', session_id: 'x', tool_name: 'Bash', tool_input: {}, tool_use_id: 'refused', cwd: repo });
    const env = { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: ADMIN, RUNLEDGER_CA_FILE: pem('other') };
    const shim = await runWithInput('bash', [SHIM, 'claude-code', '--event', 'PreToolUse', '--hold', '300'], input, env);
    const node = await runWithInput(process.execPath, [BIN, 'hook', 'claude-code', '--event', 'PreToolUse', '--hold', '300'], input, env);
    for (const [runner, result] of [['shim', shim], ['node', node]] as const) {
      expect({ runner, code: result.code, stdout: result.stdout, refused: /TLS certificate .* was refused/.test(result.stderr) }).toEqual({ runner, code: 2, stdout: '', refused: true });
    }
  });

  it('serves the web page over https and logs it in with a Secure cookie', async () => {
    const page = await https(`${server.url}/`, ca);
    expect({ status: page.status, html: page.body.includes('<html') }).toEqual({ status: 200, html: true });
    const login = await https(`${server.url}/api/v1/ui/session`, ca, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: ADMIN }) });
    expect(login.status).toBe(200);
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/; Secure/);
    const who = await https(`${server.url}/api/v1/ui/session`, ca, { headers: { cookie: cookie.split(';')[0] } });
    expect(JSON.parse(who.body)).toEqual({ via: 'cookie', actor: 'user:admin', role: 'admin' });
  });

  it('warns, naming the risk, when it binds to a non-loopback address without TLS', async () => {
    const plain = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'plain'), RUNLEDGER_TOKEN: ADMIN, DATABASE_URL: '', HOST: '0.0.0.0' }, 'api');
    try {
      // Written before the listening line, but on stderr: read once it has arrived.
      await eventually(() => /WARNING: listening on 0\.0\.0\.0 without TLS/.test(plain.output()), 'the warning');
      expect(plain.output()).toMatch(/without TLS: tokens, login cookies and agents' hook payloads travel in clear text to anyone on the network path/);
    } finally {
      await plain.stop('SIGKILL'); // a throwaway store: no graceful shutdown to wait for
    }
    expect(server.output()).not.toMatch(/without TLS/);
  });
});
