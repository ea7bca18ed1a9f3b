import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient } from '../support/http-client';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'signed-bundle-token-0123456';

describe('signed audit bundles through the CLI: export --sign on a server, verify --public-key offline (PGlite)', () => {
  let root: string;
  let server: ServerProcess;
  let sessionId: string;
  const env = () => ({ RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN });
  // Offline: no server answers here, no data directory, no database.
  const offline = { RUNLEDGER_URL: 'http://127.0.0.1:9', RUNLEDGER_TOKEN: 'none', DATABASE_URL: '', RUNLEDGER_DATA_DIR: '/nonexistent' };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-bundle-'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
    const api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'bundle', id: 'bd', repoPath: makeRepo(join(root, 'repo')) })).status).toBe(201);
    sessionId = (await api.post('/sessions', { projectId: 'bd', agent: 'command', command: ['true'] })).body.id;
    for (let i = 0; i < 3; i++) await api.post(`/sessions/${sessionId}/tool-calls`, { callId: `c${i}`, tool: 'Bash', input: { command: `echo ${i}` }, mode: 'observed' });
  });
  afterAll(async () => {
    await server?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('keys generate writes an openssl-compatible pair; a session bundle and an --all bundle verify offline; one changed byte is refused with its place', async () => {
    const keys = await runCli(['keys', 'generate', '--private', join(root, 'a.key'), '--public', join(root, 'a.pub'), '--json'], offline);
    expect(keys.code).toBe(0);
    expect(statSync(join(root, 'a.key')).mode & 0o777).toBe(0o600);
    // openssl reads what runledger wrote: the same public key comes out of the private one.
    expect(execFileSync('openssl', ['pkey', '-in', join(root, 'a.key'), '-pubout']).toString()).toBe(readFileSync(join(root, 'a.pub'), 'utf8'));
    expect((await runCli(['keys', 'generate', '--private', join(root, 'a.key'), '--public', join(root, 'b.pub')], offline)).code).toBe(2); // never overwrites

    const one = join(root, 'one.bundle');
    const exported = await runCli(['export', sessionId, '--sign', join(root, 'a.key'), '-o', one], env());
    expect(exported).toMatchObject({ code: 0, stderr: expect.stringMatching(/signed bundle of session .*: \d+ events in 1 stream/) });
    const all = join(root, 'all.bundle');
    expect((await runCli(['export', '--all', '--sign', join(root, 'a.key'), '-o', all], env())).code).toBe(0);
    // Signed with a key made by the real openssl.
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(root, 'o.key')]);
    execFileSync('openssl', ['pkey', '-in', join(root, 'o.key'), '-pubout', '-out', join(root, 'o.pub')]);
    expect((await runCli(['export', sessionId, '--sign', join(root, 'o.key'), '-o', join(root, 'o.bundle')], env())).code).toBe(0);
    // A bad key changes nothing: no output file.
    expect((await runCli(['export', sessionId, '--sign', join(root, 'a.pub'), '-o', join(root, 'x.bundle')], env()))).toMatchObject({ code: 2, stderr: expect.stringMatching(/a\.pub is not a PEM private key/) });
    expect(() => statSync(join(root, 'x.bundle'))).toThrow();
    await server.stop();

    const ok = await runCli(['verify', '--file', one, '--public-key', join(root, 'a.pub'), '--json'], offline);
    expect(ok.code).toBe(0);
    const verdict = JSON.parse(ok.stdout);
    expect(verdict).toMatchObject({ ok: true, problems: [], manifest: { runledgerVersion: JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')).version, scope: { sessionId }, totals: { streams: 1 }, streams: [{ streamId: `session-${sessionId}` }] } });
    const allVerdict = JSON.parse((await runCli(['verify', '--file', all, '--public-key', join(root, 'a.pub'), '--json'], offline)).stdout);
    expect(allVerdict.ok).toBe(true);
    expect(allVerdict.manifest.streams.map((s: { streamId: string }) => s.streamId)).toEqual(expect.arrayContaining(['project-bd', `session-${sessionId}`, 'system']));

    // One byte of the third event (the 5th line) changed: refused, naming the stream and revision.
    const bytes = readFileSync(one);
    const lines = bytes.toString('utf8').split('\n');
    const offset = Buffer.byteLength(lines.slice(0, 4).join('\n') + '\n') + lines[4].indexOf('"type":"') + 9;
    bytes[offset] ^= 0x01;
    writeFileSync(join(root, 'bad.bundle'), bytes);
    const bad = await runCli(['verify', '--file', join(root, 'bad.bundle'), '--public-key', join(root, 'a.pub')], offline);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(new RegExp(`TAMPERED  event session-${sessionId} revision 2 \\(line 5\\) field content`));

    // The openssl-signed bundle verifies with its public half, and is refused with another public key.
    expect((await runCli(['verify', '--file', join(root, 'o.bundle'), '--public-key', join(root, 'o.pub')], offline)).code).toBe(0);
    const other = await runCli(['verify', '--file', join(root, 'o.bundle'), '--public-key', join(root, 'a.pub')], offline);
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/TAMPERED  signature \(line 1\) field publicKeyFingerprint: signed with another key/);
    // Without --public-key a bundle is not taken for a plain export.
    expect((await runCli(['verify', '--file', join(root, 'o.bundle')], offline))).toMatchObject({ code: 2, stderr: expect.stringMatching(/signed audit bundle/) });
  });
});
