// runledger's OpenCode plugin (docs/ARCHITECTURE.md §4d; checked with opencode-ai 1.18.33).
//
// OpenCode loads it in-process: in a session runledger launched it is named by OPENCODE_CONFIG_CONTENT's `plugin`
// list and configured by the environment runledger gives the agent (RUNLEDGER_URL, RUNLEDGER_SESSION_ID, RUNLEDGER_TOKEN
// (the session's own credential), RUNLEDGER_HOOK_HOLD_SECONDS, RUNLEDGER_HOOK_FAILURE, RUNLEDGER_CA_FILE); installed
// for runs started by hand (`runledger opencode install-hooks`) it is a copy whose INSTALLED line holds its settings.
//
// It posts OpenCode's own payload ({event, sessionID, …}; libs/infra/src/agents/opencode/hook-mapping.ts maps it) to
// <url>/api/v1/hooks/opencode for tool.execute.before/after, chat.message, session.idle and session.error, and waits
// for the answer. While runledger is away it retries for the hold (default 30 s); then, for tool.execute.before only,
// it fails closed (hookFailure "closed", the default): a throw there blocks the tool and OpenCode tells the model why.
// A 4xx is not retried. A deny answer blocks the tool whatever the failure mode. No import but Node's built-ins, so
// OpenCode loads it as is.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Settings baked in by install-hooks ({url, dataDir?, roots, hookHoldSeconds, hookFailure}); null when launched by runledger. */
const INSTALLED = null;

const DEFAULT_HOLD_SECONDS = 30;
const RETRY_MS = 250;

const readToken = (dataDir) => {
  try {
    return readFileSync(join(dataDir || process.env.RUNLEDGER_DATA_DIR || '.runledger', 'token'), 'utf8').split('\n')[0].trim();
  } catch {
    return '';
  }
};

/** This process's settings, or null when the plugin must stay silent (not configured, outside the recorded folders, or a launched session's own plugin is there). */
const settingsFor = (directory) => {
  const env = process.env;
  if (INSTALLED) {
    if (env.RUNLEDGER_SESSION_ID) return null; // a session runledger launched has its own plugin
    const inside = (INSTALLED.roots || []).some((root) => directory === root || directory.startsWith(root.replace(/\/+$/, '') + '/'));
    if (!inside) return null;
    return { url: INSTALLED.url, sessionId: '', token: env.RUNLEDGER_TOKEN || readToken(INSTALLED.dataDir), hold: INSTALLED.hookHoldSeconds ?? DEFAULT_HOLD_SECONDS, failure: INSTALLED.hookFailure || 'closed' };
  }
  if (!env.RUNLEDGER_URL || !env.RUNLEDGER_SESSION_ID) return null;
  const hold = Number(env.RUNLEDGER_HOOK_HOLD_SECONDS);
  return {
    url: env.RUNLEDGER_URL, sessionId: env.RUNLEDGER_SESSION_ID, token: env.RUNLEDGER_TOKEN || '',
    hold: Number.isFinite(hold) && hold >= 0 ? hold : DEFAULT_HOLD_SECONDS, failure: env.RUNLEDGER_HOOK_FAILURE === 'open' ? 'open' : 'closed',
  };
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Posts one payload, retrying connection failures and 5xx/408/429 answers for the hold: {answer} | {refused} | {unreachable}. */
const post = async (settings, payload) => {
  const target = `${settings.url.replace(/\/+$/, '').replace(/\/api\/v1$/, '')}/api/v1/hooks/opencode`;
  const headers = { 'content-type': 'application/json' };
  if (settings.token) headers.authorization = `Bearer ${settings.token}`;
  if (settings.sessionId) headers['x-runledger-session'] = settings.sessionId;
  const ca = process.env.RUNLEDGER_CA_FILE;
  const tls = ca ? { tls: { ca: readFileSync(ca, 'utf8') } } : {};
  const deadline = Date.now() + settings.hold * 1000;
  let last = 'not tried';
  for (;;) {
    try {
      const response = await fetch(target, { method: 'POST', headers, body: JSON.stringify(payload), ...tls });
      const text = await response.text();
      if (response.ok) {
        try {
          return { answer: JSON.parse(text || '{}') };
        } catch {
          return { answer: {} };
        }
      }
      if (response.status < 500 && response.status !== 408 && response.status !== 429) return { refused: `${response.status} ${text.slice(0, 300)}` };
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error && error.message ? error.message : String(error);
    }
    if (Date.now() >= deadline) return { unreachable: last };
    await sleep(RETRY_MS);
  }
};

export const RunledgerPlugin = async ({ directory }) => {
  const settings = settingsFor(directory || process.cwd());
  if (!settings) return {};
  const dataHome = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  const common = { directory, databasePath: join(dataHome, 'opencode', 'opencode.db') };
  const report = (outcome, what) => {
    if (outcome.refused) console.error(`runledger: ${what} refused: ${outcome.refused}`);
    if (outcome.unreachable) console.error(`runledger: ${what} not recorded, runledger unreachable for ${settings.hold} s (${outcome.unreachable})`);
  };
  return {
    'tool.execute.before': async (input, output) => {
      const outcome = await post(settings, { event: 'tool.execute.before', sessionID: input.sessionID, callID: input.callID, tool: input.tool, args: output.args, ...common });
      const decision = outcome.answer && outcome.answer.hookSpecificOutput;
      if (decision && decision.permissionDecision === 'deny') throw new Error(`runledger blocked this call: ${decision.permissionDecisionReason || 'denied'}`);
      if (!outcome.answer && settings.failure === 'closed') {
        throw new Error(outcome.refused ? `runledger refused to record this call (${outcome.refused}): blocked` : `runledger was unreachable for ${settings.hold} s (${outcome.unreachable}): this call is blocked until it is back`);
      }
      report(outcome, `tool ${input.tool} ${input.callID}`);
    },
    'tool.execute.after': async (input, output) => {
      const outcome = await post(settings, {
        event: 'tool.execute.after', sessionID: input.sessionID, callID: input.callID, tool: input.tool, args: input.args,
        title: output.title, output: output.output, metadata: output.metadata, ...common,
      });
      report(outcome, `result of ${input.callID}`);
    },
    'chat.message': async (input, output) => {
      const text = (output.parts || []).filter((p) => p.type === 'text' && !p.synthetic).map((p) => p.text).join('\n');
      const outcome = await post(settings, { event: 'chat.message', sessionID: input.sessionID, messageID: output.message && output.message.id, text, ...common });
      report(outcome, 'prompt');
    },
    event: async ({ event }) => {
      if (event.type !== 'session.idle' && event.type !== 'session.error') return;
      const properties = event.properties || {};
      if (!properties.sessionID) return;
      const error = properties.error ? `${properties.error.name || 'error'}: ${(properties.error.data && properties.error.data.message) || ''}` : undefined;
      report(await post(settings, { event: event.type, sessionID: properties.sessionID, ...(error ? { error } : {}), ...common }), event.type);
    },
  };
};
