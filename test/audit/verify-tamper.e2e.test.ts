import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { makeRepo } from '../support/git-repo';
import { apiClient } from '../support/http-client';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'verify-tamper-token-012345';
const pg = chosenPostgres();
const describePg = 'skip' in pg ? describe.skip : describe;

describePg(`runledger verify finds a tampered event in PostgreSQL (${'skip' in pg ? pg.skip : pg.source})`, () => {
  let root: string;
  let url: string;
  let drop: () => Promise<void>;
  let server: ServerProcess;

  beforeAll(async () => {
    if ('skip' in pg) return;
    root = mkdtempSync(join(tmpdir(), 'rl-tamper-'));
    ({ url, drop } = await createTestDatabase(pg));
    server = await startServerProcess({ DATABASE_URL: url, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await server?.stop();
    await drop?.();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('passes on an intact log, then names the stream and revision of an edited event and exits 1', async () => {
    const api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'tamper', repoPath: makeRepo(join(root, 'repo')) })).status).toBe(201);
    const s = (await api.post('/sessions', { projectId: 'tamper', agent: 'command', command: ['true'] })).body;
    for (let i = 0; i < 3; i++) await api.post(`/sessions/${s.id}/tool-calls`, { callId: `c${i}`, tool: 'Read', input: { i }, mode: 'observed' });
    const env = { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN };
    expect((await runCli(['verify'], env)).code).toBe(0);

    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      // A direct edit, as an attacker with database access would make it (the append-only trigger disabled first).
      await client.query('ALTER TABLE rl_events DISABLE TRIGGER rl_events_append_only');
      await client.query(`UPDATE rl_events SET data = replace(data::text, '"i":1', '"i":7')::json WHERE stream_id = $1 AND type = 'ToolCallDispatched' AND data->>'callId' = 'c1'`, [`session-${s.id}`]);
      await client.query('ALTER TABLE rl_events ENABLE TRIGGER rl_events_append_only');
      const { rows } = await client.query(`SELECT revision FROM rl_events WHERE stream_id = $1 AND data->>'callId' = 'c1' AND type = 'ToolCallDispatched'`, [`session-${s.id}`]);
      const revision = Number(rows[0].revision);
      const all = await runCli(['verify'], env);
      expect(all.code).toBe(1);
      expect(all.stdout + all.stderr).toContain(`session-${s.id}`);
      expect(all.stdout + all.stderr).toMatch(new RegExp(`revision ${revision}\\b`));
      const one = await runCli(['verify', s.id, '--json'], env);
      expect(one.code).toBe(1);
      expect(JSON.parse(one.stdout)).toMatchObject({ results: [{ ok: false, streamId: `session-${s.id}`, brokenAt: revision }] });
    } finally {
      await client.end();
    }
  });
});
