import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { diffStates } from '@runledger/domain/shared/json-diff';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';
import { killTmuxServer } from '../support/tmux';
import { killProcessGroups } from '../support/process-groups';

/** Debian's chromium (`apt-get install chromium`, done by .ci/run); RUNLEDGER_CHROMIUM overrides. */
const CHROMIUM = process.env.RUNLEDGER_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots of this run (gitignored); one of them is committed as docs/web-timeline.png. */
const ARTIFACTS = join(__dirname, '../../test-artifacts/web');
/** The visible deadline for a live update to reach the page, without a reload (ms). */
const LIVE_DEADLINE_MS = 2000;
const TOKEN = `web-e2e-${randomUUID()}`;

const missing = existsSync(CHROMIUM) ? undefined : `no chromium at ${CHROMIUM} (apt-get install -y chromium)`;
if (missing && process.env.CI === 'true') throw new Error(`${missing}: under CI the browser suite must run`);
const describeBrowser = missing ? describe.skip : describe;
if (missing) process.stdout.write(`\n[runledger tests] browser suite SKIPPED: ${missing}\n`);

/** Polls `check` in the page until it is true or `timeoutMs` passed; the deadline is the assertion. */
const within = async (page: Page, what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
    await page.waitForTimeout(25);
  }
};

/** axe-core's violations on the page as it is now: `rule (impact): first targets`. Evaluated over the DevTools protocol, which the page's CSP does not govern. */
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const axeViolations = (page: Page): Promise<string[]> =>
  page.evaluate<string[]>(`${AXE}\n;axe.run({ resultTypes: ['violations'] }).then((r) => r.violations.map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')))`);

const rowOf = (page: Page, callId: string) => page.locator(`[data-testid="timeline"] [data-call-id="${callId}"]`);

describeBrowser(`the web timeline in a real browser (${missing ?? CHROMIUM})`, () => {
  let root: string;
  let repo: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  let context: BrowserContext;
  let page: Page;
  let sessionId: string;
  let orchestratorId: string;
  const agents: number[] = [];
  const env = () => ({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', RUNLEDGER_KILL_GRACE_MS: '500' });
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

  beforeAll(async () => {
    if (!existsSync(join(__dirname, '../../dist/web/index.html'))) throw new Error('the web timeline is not built: run `npm run build` (npm test does; `nest build cli` alone removes dist/web)');
    root = mkdtempSync(join(tmpdir(), 'rl-web-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    repo = makeRepo(join(root, 'repo'));
    server = await startServerProcess(env());
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { id: 'web', name: 'web demo', repoPath: repo })).status).toBe(201);
    const spawned = await api.post('/sessions', { projectId: 'web', agent: 'command', command: ['sh', '-c', 'exec sleep 600'], prompt: 'tidy the README' });
    expect(spawned.status).toBe(201);
    sessionId = spawned.body.id;
    agents.push(spawned.body.runtime.pid);
    const orchestrator = await api.post('/sessions', { projectId: 'web', kind: 'orchestrator', agent: 'command', command: ['sh', '-c', 'exec sleep 600'] });
    expect(orchestrator.status).toBe(201);
    orchestratorId = orchestrator.body.id;
    agents.push(orchestrator.body.runtime.pid);
    const calls = `/sessions/${sessionId}/tool-calls`;
    expect((await api.post(calls, { callId: 'ls-1', tool: 'Bash', input: { command: 'ls -la' }, mode: 'observed' })).status).toBe(201);
    expect((await api.post(`${calls}/ls-1/result`, { status: 'completed', exitCode: 0, output: 'README.md' })).status).toBe(200);
    expect((await api.post(calls, { callId: 'cat-1', tool: 'Read', input: { file_path: '/nonexistent' }, mode: 'observed' })).status).toBe(201);
    expect((await api.post(`${calls}/cat-1/result`, { status: 'failed', exitCode: 1, error: 'no such file' })).status).toBe(200);
    // Running when runledger dies: a managed shell call (interrupted by the next start's reconcile) ...
    expect((await api.post(calls, { callId: 'long-1', tool: 'shell', input: { command: 'sleep 20' }, mode: 'managed' })).status).toBe(201);
    // ... and a Claude Code call whose result only reached the transcript (healed from it by the reconcile).
    const transcript = join(root, `${randomUUID()}.jsonl`);
    const claude = randomUUID();
    const hook = (body: Record<string, unknown>) =>
      api.post('/hooks/claude-code', { session_id: claude, transcript_path: transcript, cwd: repo, ...body }, { 'x-runledger-session': sessionId });
    expect((await hook({ hook_event_name: 'SessionStart' })).status).toBe(200);
    // Two agent runs: one completed with its call, one cut short with its call's result only in the transcript.
    expect((await hook({ hook_event_name: 'UserPromptSubmit', prompt: 'read the README' })).status).toBe(200);
    expect((await hook({ hook_event_name: 'PreToolUse', tool_name: 'Read', tool_input: { file_path: 'README.md' }, tool_use_id: 'toolu_read' })).status).toBe(200);
    writeFileSync(join(repo, 'notes.md'), 'read notes\n'); // what the call did to the files (its diff in the call detail)
    expect((await hook({ hook_event_name: 'PostToolUse', tool_name: 'Read', tool_input: { file_path: 'README.md' }, tool_use_id: 'toolu_read', tool_response: '# test repo' })).status).toBe(200);
    expect((await hook({ hook_event_name: 'Stop' })).status).toBe(200);
    expect((await hook({ hook_event_name: 'UserPromptSubmit', prompt: 'find the TODOs' })).status).toBe(200);
    expect((await hook({ hook_event_name: 'PreToolUse', tool_name: 'Grep', tool_input: { pattern: 'TODO' }, tool_use_id: 'toolu_heal' })).status).toBe(200);
    const at = new Date().toISOString();
    writeFileSync(
      transcript,
      [
        { type: 'assistant', sessionId: claude, uuid: 'a1', timestamp: at, message: { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_heal', name: 'Grep', input: { pattern: 'TODO' } }] } },
        { type: 'user', sessionId: claude, uuid: 'u1', timestamp: at, message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_heal', content: 'README.md:1: TODO', is_error: false }] } },
      ].map((l) => JSON.stringify(l)).join('\n') + '\n',
    );
    await server.stop('SIGKILL');
    server = await startServerProcess(env());
    api = apiClient(server.url, TOKEN);
    await eventually(async () => {
      const listed: { callId: string; status: string; source?: string }[] = (await api.get(`${calls}`)).body.toolCalls ?? [];
      return listed.some((c) => c.callId === 'long-1' && c.status === 'interrupted') && listed.some((c) => c.callId === 'toolu_heal' && c.source === 'transcript');
    }, 'the reconcile to interrupt long-1 and heal toolu_heal from the transcript', 60000);
    // The interrupted attempt's result arrives after all: kept as a late result, never merged.
    expect((await api.post(`${calls}/long-1/result`, { status: 'completed', attempt: 1, output: 'slept' })).status).toBe(200);

    const userDataDir = mkdtempSync(join(root, 'chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await context.newPage();
  }, 240000);

  afterAll(async () => {
    await context?.close();
    killProcessGroups(agents);
    if (root) killTmuxServer(join(root, 'data', 'tmux.sock')); // sessions spawned without a prompt may run in tmux
    await server?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('logs in with the one-time code of `runledger ui`, which works once and leaves no token in the URL or the log', async () => {
    const ui = await runCli(['ui', sessionId, '--no-open'], { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN });
    expect(ui.code).toBe(0);
    const url = ui.stdout.trim();
    expect(url).toMatch(new RegExp(`^${server.url}/sessions/${sessionId}#login=[\\w-]+$`));
    await page.goto(url);
    await page.locator('[data-testid="timeline"]').waitFor();
    expect(page.url()).toBe(`${server.url}/sessions/${sessionId}`); // the code left the address bar
    const cookie = (await context.cookies(server.url)).find((c) => c.name === 'runledger_ui')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(cookie.value).not.toContain(TOKEN);
    expect(await page.evaluate<string>('document.cookie')).not.toContain('runledger_ui'); // no script can read it

    const code = new URL(url).hash.slice('#login='.length);
    const again = await fetch(`${server.url}/api/v1/ui/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
    expect(again.status).toBe(401);
    // A write authenticated by the cookie alone (what another site's form could send) is refused.
    const forged = await context.request.post(`${server.url}/api/v1/sessions/${sessionId}/tool-calls`, { data: { tool: 'Bash', input: {}, mode: 'observed' } });
    expect(forged.status()).toBe(403);
    // The page is served with a strict CSP; API paths never fall back to it.
    const index = await fetch(`${server.url}/sessions/${sessionId}`);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    const unknownApi = await fetch(`${server.url}/api/v1/no-such-route`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect({ status: unknownApi.status, type: unknownApi.headers.get('content-type') }).toEqual({ status: 404, type: expect.stringMatching(/^application\/json/) });

    // Refusals name what is wrong, and change nothing.
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${server.url}/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const neither = await post('/ui/session', {});
    expect(neither.status).toBe(400);
    expect(((await neither.json()) as { details: unknown }).details).toEqual({ field: 'token' });
    expect((await post('/ui/session', { token: 'not-the-token' })).status).toBe(401);
    const altered = await fetch(`${server.url}/api/v1/sessions`, { headers: { cookie: `runledger_ui=${cookie.value.slice(0, -2)}xx` } });
    expect({ status: altered.status, code: ((await altered.json()) as { code: string }).code }).toEqual({ status: 401, code: 'UI_SESSION.BAD_SIGNATURE' });
    const viaCookie = await post('/ui/login-codes', {}, { cookie: `runledger_ui=${cookie.value}`, 'x-runledger-ui': '1' });
    expect(viaCookie.status).toBe(403); // only the bearer token mints login codes
    for (const secret of [TOKEN, code, cookie.value]) expect(server.output()).not.toContain(secret);
  });

  it('shows each call with its status; the interrupted call and the call healed from the transcript are marked', async () => {
    const calls: { callId: string; status: string; source?: string }[] = (await api.get(`/sessions/${sessionId}/tool-calls`)).body.toolCalls;
    expect(calls.map((c) => c.callId).sort()).toEqual(['cat-1', 'long-1', 'ls-1', 'toolu_heal', 'toolu_read']);
    // Runs are rows too, each followed by its calls.
    const rows = await page.locator('[data-testid="timeline"] [role="option"]').evaluateAll((items) => items.map((i) => `${i.getAttribute('data-kind')}:${i.getAttribute('data-call-id') ?? ''}`));
    expect(rows.filter((r) => r.startsWith('run:'))).toHaveLength(2);
    expect(rows.indexOf('call:toolu_read')).toBe(rows.indexOf('run:') + 1);
    expect(rows.indexOf('call:toolu_heal')).toBe(rows.lastIndexOf('run:') + 1);
    for (const call of calls) {
      await expect(rowOf(page, call.callId).getAttribute('data-status')).resolves.toBe(call.status);
      await expect(rowOf(page, call.callId).textContent()).resolves.toContain(call.status);
    }
    await expect(rowOf(page, 'long-1').getAttribute('data-marks')).resolves.toBe('interrupted late');
    await expect(rowOf(page, 'long-1').textContent()).resolves.toContain('late result');
    await expect(rowOf(page, 'toolu_heal').getAttribute('data-marks')).resolves.toContain('healed');
    await expect(rowOf(page, 'toolu_heal').textContent()).resolves.toContain('healed from transcript');
    await expect(rowOf(page, 'cat-1').textContent()).resolves.toContain('failed');
    await expect(page.locator('.divergences').textContent()).resolves.toContain('toolu_heal');

    // The call's input and result as stored.
    await rowOf(page, 'toolu_heal').click();
    const stored = calls.find((c) => c.callId === 'toolu_heal') as unknown as { input: unknown; result: unknown };
    await expect(page.getByTestId('call-input').textContent()).resolves.toBe(JSON.stringify(stored.input, null, 2));
    await expect(page.getByTestId('call-result').textContent()).resolves.toBe(JSON.stringify(stored.result, null, 2));
    await shot('timeline-1280x800');

    // What a call did to the files: its changed paths and patch, from the snapshots taken around it.
    await rowOf(page, 'toolu_read').click();
    await expect(page.getByTestId('call-files').textContent()).resolves.toContain('notes.md added +1 −0');
    await expect(page.getByTestId('call-patch').textContent()).resolves.toContain('+read notes');
    await rowOf(page, 'toolu_heal').click();
    await expect(page.getByTestId('call-files').textContent()).resolves.toBe('No file snapshots around this call.');
  });

  it('moves through the timeline with the keyboard', async () => {
    const options = page.locator('[data-testid="timeline"] [role="option"]');
    const count = await options.count();
    await options.first().click();
    await page.keyboard.press('ArrowDown');
    await expect(options.nth(1).getAttribute('aria-selected')).resolves.toBe('true');
    await expect(page.evaluate<string | null>("document.activeElement?.getAttribute('aria-selected')")).resolves.toBe('true');
    await page.keyboard.press('End');
    await expect(options.nth(count - 1).getAttribute('aria-selected')).resolves.toBe('true');
    const lastCall = await options.nth(count - 1).getAttribute('data-call-id');
    await expect(page.getByTestId('call-detail').textContent()).resolves.toContain(lastCall!);
    await page.keyboard.press('Home');
    await expect(options.first().getAttribute('aria-selected')).resolves.toBe('true');
    // + zooms the axis around the selected span, 0 fits everything again.
    const zoomState = page.locator('.zoom [aria-live]');
    await page.keyboard.press('+');
    await expect(zoomState.textContent()).resolves.toMatch(/^showing /);
    await page.keyboard.press('0');
    await expect(zoomState.textContent()).resolves.toMatch(/^all /);
  });

  it('the replay slider at N shows what GET state?at=N returns, and the change from N-1', async () => {
    await page.locator('#tab-replay').click();
    const head: number = (await api.get(`/sessions/${sessionId}/state`)).body.head;
    for (const n of [0, Math.floor(head / 2), head - 1, head]) {
      await page.locator('#replay-slider').fill(String(n));
      const state = page.locator(`[data-testid="replay-state"][data-revision="${n}"]`);
      await state.waitFor();
      const served = (await api.get(`/sessions/${sessionId}/state?at=${n}`)).body;
      await expect(state.textContent()).resolves.toBe(JSON.stringify(served.state, null, 2));
      await expect(page.getByTestId('replay-revision').textContent()).resolves.toBe(String(n));
      const before = n === 0 ? {} : (await api.get(`/sessions/${sessionId}/state?at=${n - 1}`)).body.state;
      const expected = diffStates(before, served.state).map((c) => c.path);
      const shown = await page.locator('[data-testid="replay-changes"] .change code:first-of-type').allTextContents();
      expect(shown).toEqual(expected);
    }
    await page.locator('#replay-slider').fill(String(Math.floor(head / 2)));
    await page.locator(`[data-testid="replay-state"][data-revision="${Math.floor(head / 2)}"]`).waitFor();
    await shot('replay-1280x800');
  });

  it('lists the raw events with their hashes, verifies the chain, and shows the worktrees', async () => {
    await page.locator('#tab-events').click();
    const events: { revision: number; hash: string }[] = (await api.get(`/sessions/${sessionId}/events?limit=1000`)).body.events;
    await expect(page.locator('table.events tbody tr').count()).resolves.toBe(events.length);
    await expect(page.locator(`table.events tr[data-revision="${events.length - 1}"] code[title="${events.at(-1)!.hash}"]`).count()).resolves.toBe(1);
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await expect(page.getByTestId('verify-result').textContent()).resolves.toContain(`Chain intact: ${events.length} events`);
    await shot('events-1280x800');

    await page.locator('#tab-worktrees').click();
    const [worktree] = (await api.get(`/sessions/${sessionId}`)).body.worktrees;
    const row = page.locator(`table.worktrees tr[data-repo="${worktree.repo}"]`);
    await expect(row.textContent()).resolves.toContain(worktree.state);
    await expect(row.textContent()).resolves.toContain(worktree.branch);
  });

  it('a tool call posted now appears within 2 s without a reload, then its result', async () => {
    await page.locator('#tab-timeline').click();
    await page.locator('[data-testid="timeline"]').waitFor();
    await page.evaluate('window.__sameDocument = true'); // a reload would forget it
    const calls = `/sessions/${sessionId}/tool-calls`;
    expect((await api.post(calls, { callId: 'live-1', tool: 'Edit', input: { file_path: 'README.md', old_string: 'a', new_string: 'b' }, mode: 'observed' })).status).toBe(201);
    await within(page, 'the posted call', LIVE_DEADLINE_MS, async () => (await rowOf(page, 'live-1').count()) === 1);
    await expect(rowOf(page, 'live-1').getAttribute('data-status')).resolves.toBe('dispatched');
    expect((await api.post(`${calls}/live-1/result`, { status: 'completed', output: 'edited' })).status).toBe(200);
    await within(page, 'the posted result', LIVE_DEADLINE_MS, async () => (await rowOf(page, 'live-1').getAttribute('data-status')) === 'completed');
    await expect(page.evaluate<boolean | undefined>('window.__sameDocument')).resolves.toBe(true); // no reload
  });

  it('has no accessibility violations (axe-core) on any view, at 1280×800 and at phone width', async () => {
    for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
      await page.setViewportSize(viewport);
      const loaded = { timeline: '[data-testid="timeline"]', replay: '[data-testid="replay-state"]', events: 'table.events', worktrees: 'table.worktrees' };
      for (const [view, content] of Object.entries(loaded)) {
        await page.goto(`${server.url}/sessions/${sessionId}?view=${view}`);
        await page.locator(`#panel-${view} ${content}`).waitFor();
        await page.locator('[aria-busy="true"]').waitFor({ state: 'detached' });
        expect({ view, viewport, violations: await axeViolations(page) }).toEqual({ view, viewport, violations: [] });
      }
      await page.goto(`${server.url}/`);
      await page.locator('table.sessions').waitFor();
      expect({ view: 'sessions', viewport, violations: await axeViolations(page) }).toEqual({ view: 'sessions', viewport, violations: [] });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('lists projects and sessions with filters, and is usable at phone width after a token login', async () => {
    await page.goto(`${server.url}/`);
    const row = page.locator(`tr[data-session="${sessionId}"]`);
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('running');
    const { activity } = (await api.get(`/sessions/${sessionId}`)).body; // from the agent's hooks
    expect(activity).toEqual(expect.any(String));
    await expect(row.textContent()).resolves.toContain(activity.replace(/_/g, ' '));
    await expect(page.locator(`tr[data-session="${orchestratorId}"]`).textContent()).resolves.toContain('orchestrator');
    await page.getByLabel('Kind').selectOption('orchestrator');
    await expect(row.count()).resolves.toBe(0);
    await page.getByLabel('Kind').selectOption('');
    await page.getByLabel('Status').selectOption('terminated');
    await expect(row.count()).resolves.toBe(0);
    await page.getByLabel('Status').selectOption('');
    await row.waitFor();
    await shot('sessions-1280x800');

    // A session spawned now appears in the list without a reload.
    const spawned = await api.post('/sessions', { projectId: 'web', agent: 'command', command: ['sh', '-c', 'exec sleep 600'] });
    expect(spawned.status).toBe(201);
    agents.push(spawned.body.runtime.pid);
    await within(page, 'the spawned session in the list', LIVE_DEADLINE_MS, async () => (await page.locator(`tr[data-session="${spawned.body.id}"]`).count()) === 1);

    // Logged out (the cookie gone), at phone width, logged in again by typing the token once.
    await context.clearCookies();
    const small = await context.newPage();
    await small.setViewportSize({ width: 390, height: 844 });
    await small.goto(`${server.url}/sessions/${sessionId}`);
    await small.getByLabel('API token').fill(TOKEN);
    await small.getByRole('button', { name: 'Log in' }).click();
    await small.locator('[data-testid="timeline"]').waitFor();
    const overflow = await small.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0); // nothing wider than the screen
    await small.screenshot({ path: join(ARTIFACTS, 'timeline-390x844.png') });
    expect(await small.evaluate<string>('JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage })')).not.toContain(TOKEN);
    await small.close();
  });
});
