import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgliteDatabase } from '@runledger/infra/database';
import { PostgresEventStore } from '@runledger/infra/event-store';
import { runCli, startServerProcess } from '../support/server-process';

describe('runledger start on the embedded store', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rl-start-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves health, records each start in the system stream, and refuses a second owner of the data directory', async () => {
    const env = { RUNLEDGER_DATA_DIR: dataDir, DATABASE_URL: '', RUNLEDGER_TOKEN: '' };
    const first = await startServerProcess(env, 'start', { freshStore: true }); // the first start runs PGlite's initdb itself
    const health1 = (await (await fetch(`${first.url}/api/v1/health`)).json()) as { headPosition: number };
    expect(health1).toMatchObject({ status: 'ok', store: 'pglite', pid: first.pid, version: expect.any(String) });
    expect(health1.headPosition).toBeGreaterThanOrEqual(1);

    // The generated token is in <dataDir>/token with mode 0600, and a protected route needs it.
    const tokenFile = join(dataDir, 'token');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(tokenFile, 'utf8').trim().length).toBeGreaterThan(20);

    const second = await runCli(['start'], { ...env, PORT: '0' });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`pid ${first.pid}`);

    expect(await first.stop('SIGTERM')).toMatchObject({ code: 0 });
    const again = await startServerProcess(env);
    const health2 = (await (await fetch(`${again.url}/api/v1/health`)).json()) as { headPosition: number };
    expect(health2.headPosition).toBeGreaterThan(health1.headPosition);
    await again.stop('SIGTERM');

    const db = await PgliteDatabase.open(dataDir);
    try {
      const starts = [];
      for await (const e of new PostgresEventStore(db).readStream('system')) if (e.type === 'ServerStarted') starts.push(e);
      expect(starts.map((e) => e.type)).toEqual(['ServerStarted', 'ServerStarted']);
      expect(starts.map((e) => (e.data as { pid: number }).pid)).toEqual([first.pid, again.pid]);
    } finally {
      await db.close();
    }
  });
});
