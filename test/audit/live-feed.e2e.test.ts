import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'live-feed-token-0123456789';
/** The server's RUNLEDGER_MAX_LIVE_TAILS here. */
const MAX_TAILS = 5;
const pg = chosenPostgres();
const describePg = 'skip' in pg ? describe.skip : describe;

interface Received {
  id: number;
  type: string;
  data: { globalPosition: number; streamId: string; revision: number; eventId: string };
}

/** A live SSE client: parses `id:`/`event:`/`data:` frames as they arrive. */
const openFeed = async (url: string, from: number) => {
  const controller = new AbortController();
  const response = await fetch(`${url}/api/v1/events?from=${from}`, {
    headers: { authorization: `Bearer ${TOKEN}`, accept: 'text/event-stream' },
    signal: controller.signal,
  });
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(frame.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
          if (fields.data) received.push({ id: Number(fields.id), type: fields.event, data: JSON.parse(fields.data) });
        }
        waiters.splice(0).forEach((w) => w());
      }
    } catch {
      /* aborted */
    }
  })();
  return {
    response,
    received,
    until: (check: () => boolean) => new Promise<void>((resolve) => {
      const test = () => (check() ? resolve() : waiters.push(test));
      test();
    }),
    close: () => controller.abort(),
  };
};

describePg(`the live feed on a real PostgreSQL (${'skip' in pg ? pg.skip : pg.source})`, () => {
  let root: string;
  let drop: () => Promise<void>;
  let databaseUrl: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    if ('skip' in pg) return;
    root = mkdtempSync(join(tmpdir(), 'rl-feed-'));
    const repo = makeRepo(join(root, 'repo'));
    const db = await createTestDatabase(pg);
    drop = db.drop;
    databaseUrl = db.url;
    server = await startServerProcess({ DATABASE_URL: db.url, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, RUNLEDGER_MAX_LIVE_TAILS: String(MAX_TAILS) });
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'feed', repoPath: repo })).status).toBe(201);
  });
  afterAll(async () => {
    for (const s of (await api?.get('/sessions'))?.body.sessions ?? []) await api.post(`/sessions/${s.id}/kill`);
    await server?.stop();
    await drop?.();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('delivers, in order and without a gap, the events of 4 concurrent writers while a client is connected', async () => {
    const sessions: string[] = [];
    for (let i = 0; i < 4; i++) sessions.push((await api.post('/sessions', { projectId: 'feed', agent: 'command', command: ['sh', '-c', 'exec sleep 120'] })).body.id);
    const start = (await api.get('/health')).body.headPosition;
    const feed = await openFeed(server.url, start);
    expect(feed.response.headers.get('content-type')).toContain('text/event-stream');
    const PER_WRITER = 25;
    await Promise.all(
      sessions.map(async (id, w) => {
        for (let k = 0; k < PER_WRITER; k++) {
          const r = await api.post(`/sessions/${id}/tool-calls`, { callId: `w${w}-${k}`, tool: 'Bash', input: { k }, mode: 'observed' });
          expect(r.status).toBe(201);
        }
      }),
    );
    const writes = sessions.length * PER_WRITER;
    await feed.until(() => feed.received.filter((e) => e.type === 'ToolCallDispatched').length >= writes);
    feed.close();

    // Exactly the log after `start`, each event once, in the order a reader of the log sees it.
    const page = (await api.get(`/events?from=${start}&limit=1000`)).body.events.map((e: { globalPosition: number }) => e.globalPosition);
    const live = feed.received.map((e) => e.id);
    expect(live.slice(0, page.length)).toEqual(page);
    expect(new Set(live).size).toBe(live.length);
    for (const id of sessions) {
      const revisions = feed.received.filter((e) => e.data.streamId === `session-${id}`).map((e) => e.data.revision);
      expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
      expect(revisions.length).toBeGreaterThanOrEqual(PER_WRITER);
      expect(revisions.every((r, i) => i === 0 || r === revisions[i - 1] + 1)).toBe(true); // no gap within a stream
    }
  });

  it('serves idle tails from one shared watcher (no LISTEN connection or poll of their own) and refuses one over the limit with 503 and Retry-After', async () => {
    const listeners = async (): Promise<number> => {
      const client = new Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'runledger-listen'`);
        return rows[0].n as number;
      } finally {
        await client.end();
      }
    };
    const start = (await api.get('/health')).body.headPosition;
    const first = await openFeed(server.url, start);
    await eventually(async () => (await listeners()) >= 1, 'the projection and the tails\' watcher to listen');
    const withOne = await listeners();
    const feeds = [first];
    for (let i = 1; i < MAX_TAILS; i++) feeds.push(await openFeed(server.url, start));
    expect(feeds.map((f) => f.response.status)).toEqual(Array(MAX_TAILS).fill(200));
    expect(await listeners()).toBe(withOne); // one tail or five: the same connections

    const over = await fetch(`${server.url}/api/v1/events`, { headers: { authorization: `Bearer ${TOKEN}`, accept: 'text/event-stream' } });
    expect(over.status).toBe(503);
    expect(over.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await over.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable', code: 'EVENTS.TOO_MANY_TAILS' });

    // Every tail is woken by the one watcher when an event commits.
    const session = (await api.get('/sessions')).body.sessions.find((s: { status: string }) => s.status === 'running');
    expect((await api.post(`/sessions/${session.id}/tool-calls`, { callId: 'shared-watcher-1', tool: 'Bash', input: {}, mode: 'observed' })).status).toBe(201);
    await Promise.all(feeds.map((f) => f.until(() => f.received.some((e) => e.type === 'ToolCallDispatched' && e.data.streamId === `session-${session.id}`))));

    // A closed tail gives its place back.
    feeds.pop()!.close();
    const again = await eventually(async () => {
      const response = await fetch(`${server.url}/api/v1/events?limit=1`, { headers: { authorization: `Bearer ${TOKEN}`, accept: 'text/event-stream' } });
      if (response.status === 200) return response;
      await response.text();
      return null;
    }, 'a place for a new tail');
    await again.body?.cancel();
    for (const f of feeds) f.close();
  });

  it('pages the feed as JSON with a `next` cursor', async () => {
    const first = await api.get('/events?from=0&limit=5');
    expect(first.body.events).toHaveLength(5);
    const second = await api.get(`/events?from=${first.body.next}&limit=5`);
    expect(second.body.events[0].globalPosition).not.toBe(first.body.events[4].globalPosition);
    expect((await api.get('/events?limit=0')).status).toBe(400);
  });
});
