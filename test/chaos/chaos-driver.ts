/**
 * The chaos driver: clients driving a real runledger (sessions, Claude Code hooks with session credentials, observed
 * tool calls and their results) while the PostgreSQL server under it is stopped for 0–2 s every 5–10 s. Every
 * acknowledged (2xx) write is noted so the log can be checked afterwards; every answer is tallied by status. A 503
 * must carry Retry-After and is retried after it (with the same ids, so a retry never duplicates); any other 5xx, or
 * no answer at all, is a violation.
 */
import { issueSessionCredential } from '@runledger/infra/auth/session-credential';
import { prng } from '../fuzz/openapi-fuzzer';

/** What the driver stops and starts: the private PostgreSQL server. */
export interface Outage {
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Settings of one chaos run. */
export interface ChaosOptions {
  baseUrl: string;
  token: string;
  projectId: string;
  clients: number;
  seconds: number;
  seed: number;
  outage: Outage;
  /** Pause between outages, drawn in [minGapMs, maxGapMs] (default 5–10 s). */
  minGapMs?: number;
  maxGapMs?: number;
  /** Longest outage (default 2 s), drawn in [0, maxDownMs]. */
  maxDownMs?: number;
}

/** A write the server acknowledged with a 2xx: it must be in the log afterwards. */
export interface Acknowledged {
  sessionId: string;
  /** `SessionStarted`, or a tool call's `ToolCallDispatched` / `ToolCallCompleted`. */
  type: 'SessionStarted' | 'ToolCallDispatched' | 'ToolCallCompleted';
  callId?: string;
  via: 'api' | 'hook';
}

/** What a run saw. */
export interface ChaosRun {
  requests: number;
  byStatus: Record<string, number>;
  /** 503 answers (each retried). */
  unavailable: number;
  /** 503 answers without a Retry-After header. */
  missingRetryAfter: string[];
  /** Answers ≥ 500 other than 503, and requests that got no answer: each a violation. */
  serverErrors: string[];
  /** 4xx answers (none expected: every request is well-formed and each client owns its session). */
  refused: string[];
  /** Requests given up after retrying for 60 s. */
  gaveUp: string[];
  acknowledged: Acknowledged[];
  outages: { count: number; downMs: number; longestMs: number };
  /** ms from the end of the last outage to the next 2xx answer. */
  recoveryMs: number | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the clients and the outage loop for `seconds`; resolves once every client has finished its last request. */
export const runChaos = async (options: ChaosOptions): Promise<ChaosRun> => {
  const random = prng(options.seed);
  const run: ChaosRun = {
    requests: 0, byStatus: {}, unavailable: 0, missingRetryAfter: [], serverErrors: [], refused: [], gaveUp: [], acknowledged: [],
    outages: { count: 0, downMs: 0, longestMs: 0 }, recoveryMs: null,
  };
  let endAt = Number.POSITIVE_INFINITY;
  let lastUpAt = 0;

  /** One request retried through 503s (after Retry-After) for up to 60 s; returns the final answer, or null. */
  const send = async (what: string, method: string, path: string, body: unknown, bearer: string, headers: Record<string, string> = {}) => {
    const deadline = Date.now() + 60_000;
    let answeredUnavailable = false;
    for (;;) {
      run.requests += 1;
      let response: Response;
      try {
        response = await fetch(`${options.baseUrl}/api/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(60_000),
        });
      } catch (error) {
        run.byStatus.none = (run.byStatus.none ?? 0) + 1;
        run.serverErrors.push(`${what}: no answer (${(error as Error).message})`);
        return null;
      }
      const text = await response.text();
      run.byStatus[response.status] = (run.byStatus[response.status] ?? 0) + 1;
      if (response.status === 503) {
        answeredUnavailable = true;
        run.unavailable += 1;
        const retryAfter = response.headers.get('retry-after');
        if (!retryAfter || !/^\d+$/.test(retryAfter)) run.missingRetryAfter.push(`${what}: ${text.slice(0, 200)}`);
        if (Date.now() > deadline) {
          run.gaveUp.push(what);
          return null;
        }
        await sleep(Math.min(Number(retryAfter ?? 1), 2) * 1000 * (0.5 + random.next() / 2));
        continue;
      }
      if (response.status >= 500) {
        run.serverErrors.push(`${what}: ${response.status} ${text.slice(0, 300)}`);
        return null;
      }
      // An attempt answered 503 may have committed before the store went away (the answer was lost, not the write): the
      // retry of a result then finds the call no longer in flight. Counted acknowledged, so the loss check below still
      // requires the result in the log.
      if (answeredUnavailable && response.status === 409 && text.includes('"TOOL_CALL.NOT_IN_FLIGHT"')) {
        return { status: response.status, body: JSON.parse(text) };
      }
      if (response.status >= 400) {
        run.refused.push(`${what}: ${response.status} ${text.slice(0, 300)}`);
        return null;
      }
      if (lastUpAt > 0 && run.recoveryMs === null) run.recoveryMs = Date.now() - lastUpAt;
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    }
  };

  const spawn = async (client: number, n: number): Promise<string | null> => {
    const answer = await send(`spawn c${client}#${n}`, 'POST', '/sessions',
      { projectId: options.projectId, agent: 'command', command: ['sh', '-c', 'exec sleep 3600'] }, options.token,
      { 'idempotency-key': `chaos-${options.seed}-${client}-${n}` });
    if (!answer) return null;
    const sessionId = answer.body.id as string;
    run.acknowledged.push({ sessionId, type: 'SessionStarted', via: 'api' });
    return sessionId;
  };

  /** One client: its own session (spawned before the clock starts); observed calls through the API and hook pairs with its session credential. */
  const client = async (c: number, first: string | null) => {
    let n = 0;
    let failuresSeen = 0;
    let sessionId = first;
    let agentSessionId = `cc-chaos-${c}-${n}`;
    let linked = false;
    for (let i = 0; sessionId && Date.now() < endAt; i++) {
      const credential = issueSessionCredential(options.token, sessionId);
      const roll = random.next();
      const refusals = run.refused.length + run.serverErrors.length;
      if (roll < 0.03 || refusals > failuresSeen) {
        // Now and then, or after a refusal (already counted as a violation), the client moves on to a new session.
        failuresSeen = refusals;
        await send(`kill ${sessionId}`, 'POST', `/sessions/${sessionId}/kill`, {}, options.token);
        n += 1;
        sessionId = await spawn(c, n);
        agentSessionId = `cc-chaos-${c}-${n}`;
        linked = false;
      } else if (roll < 0.5) {
        const callId = `call-${c}-${n}-${i}`;
        const dispatched = await send(`tool call ${sessionId}/${callId}`, 'POST', `/sessions/${sessionId}/tool-calls`,
          { callId, tool: 'Bash', input: { command: `echo ${i}` }, mode: 'observed' }, credential);
        if (!dispatched) continue;
        run.acknowledged.push({ sessionId, type: 'ToolCallDispatched', callId, via: 'api' });
        const done = await send(`result ${sessionId}/${callId}`, 'POST', `/sessions/${sessionId}/tool-calls/${callId}/result`,
          { status: 'completed', output: { stdout: `${i}\n` }, exitCode: 0 }, credential);
        if (done) run.acknowledged.push({ sessionId, type: 'ToolCallCompleted', callId, via: 'api' });
      } else {
        const hook = (body: Record<string, unknown>) =>
          send(`hook ${String(body.hook_event_name)} ${sessionId}`, 'POST', '/hooks/claude-code', { session_id: agentSessionId, cwd: '/', ...body }, credential);
        if (!linked) {
          if (!(await hook({ hook_event_name: 'SessionStart', source: 'startup' }))) continue;
          linked = true;
        }
        const toolUseId = `toolu_${c}_${n}_${i}`;
        const base = { tool_name: 'Bash', tool_use_id: toolUseId, tool_input: { command: `ls ${i}` } };
        if (!(await hook({ ...base, hook_event_name: 'PreToolUse' }))) continue;
        run.acknowledged.push({ sessionId, type: 'ToolCallDispatched', callId: toolUseId, via: 'hook' });
        if (await hook({ ...base, hook_event_name: 'PostToolUse', tool_response: { stdout: `${i}\n`, stderr: '', interrupted: false } })) {
          run.acknowledged.push({ sessionId, type: 'ToolCallCompleted', callId: toolUseId, via: 'hook' });
        }
      }
    }
  };

  const chaos = async () => {
    const [minGap, maxGap, maxDown] = [options.minGapMs ?? 5000, options.maxGapMs ?? 10_000, options.maxDownMs ?? 2000];
    for (;;) {
      const gap = minGap + random.next() * (maxGap - minGap);
      if (Date.now() + gap >= endAt) return;
      await sleep(gap);
      const down = random.next() * maxDown;
      const stoppedAt = Date.now();
      await options.outage.stop();
      await sleep(down);
      await options.outage.start();
      lastUpAt = Date.now();
      run.recoveryMs = null;
      const downMs = lastUpAt - stoppedAt; // the stop and the start (crash recovery) included
      run.outages.count += 1;
      run.outages.downMs += downMs;
      run.outages.longestMs = Math.max(run.outages.longestMs, downMs);
    }
  };

  const first = await Promise.all(Array.from({ length: options.clients }, (_, c) => spawn(c, 0)));
  endAt = Date.now() + options.seconds * 1000;
  await Promise.all([chaos(), ...first.map((sessionId, c) => client(c, sessionId))]);
  return run;
};
