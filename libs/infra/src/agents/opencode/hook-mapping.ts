import { opencodeToolResult } from './event-parser';

/*
 * What runledger's OpenCode plugin posts to `POST /hooks/opencode` (plugin-source.ts writes it; opencode-ai 1.18.33),
 * and its mapping into the hook input shape every agent's hooks share (Claude Code's: `hook_event_name`, `session_id`,
 * `tool_use_id`, …), so one mapping (`hookCommands`) records all agents. Pure.
 *
 * Payload: `{event, sessionID, directory?, databasePath?, …}` with per event
 * - `tool.execute.before`: `callID`, `tool`, `args` → PreToolUse (a throw in the plugin blocks the tool);
 * - `tool.execute.after`: `callID`, `tool`, `args`, `title`, `output`, `metadata` → PostToolUse, with the result as
 *   OpenCode's record will hold it (a bash call with a non-zero `metadata.exit` is `failed` with that exit code, though
 *   OpenCode says `completed`);
 * - `chat.message`: `messageID`, `text` → UserPromptSubmit (`prompt_id` = the user message id = the run id the event
 *   parser gives the same run);
 * - `session.idle` → Stop; `session.error` (`error`) → StopFailure;
 * - any other `event` is kept as the hook `opencode.<event>` (accepted, never refused, so a newer plugin never breaks intake).
 * `databasePath` (`$XDG_DATA_HOME/opencode/opencode.db`) is the session's record, sent as `transcript_path`.
 */

/** The `event` values the plugin sends that map onto a known hook event. */
export const OPENCODE_HOOK_EVENTS = {
  'tool.execute.before': 'PreToolUse',
  'tool.execute.after': 'PostToolUse',
  'chat.message': 'UserPromptSubmit',
  'session.idle': 'Stop',
  'session.error': 'StopFailure',
} as const;

/** A plugin payload that cannot be mapped: the field at fault and why (the handler answers 400 naming it). */
export class OpencodeHookError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/** A call's result as the plugin's `tool.execute.after` states it (the hook records it instead of the raw payload). */
export interface OpencodeHookResult {
  status: 'completed' | 'failed';
  output?: unknown;
  exitCode?: number;
  error?: string;
}

/** The mapped hook: the shared hook input shape, and for PostToolUse the call's result. */
export interface MappedOpencodeHook {
  input: Record<string, unknown>;
  toolResult?: OpencodeHookResult;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const stringField = (body: Json, field: string, required: boolean): string | undefined => {
  const value = body[field];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value === '') throw new OpencodeHookError(field, `${field} must be a non-empty string`);
  return value;
};

/**
 * Maps one plugin payload into the shared hook input (see the header); throws OpencodeHookError naming the field when
 * the body is not an object, `event` or `sessionID` is missing, or a tool event lacks `callID`/`tool`.
 */
export const mapOpencodeHook = (body: unknown): MappedOpencodeHook => {
  if (!isObject(body)) throw new OpencodeHookError('body', 'the OpenCode hook body must be a JSON object');
  const event = stringField(body, 'event', true)!;
  const common: Json = {
    session_id: stringField(body, 'sessionID', true),
    ...(typeof body.directory === 'string' ? { cwd: body.directory } : {}),
    ...(typeof body.databasePath === 'string' ? { transcript_path: body.databasePath } : {}),
  };
  switch (event) {
    case 'tool.execute.before':
      return { input: { ...common, hook_event_name: 'PreToolUse', tool_use_id: stringField(body, 'callID', true), tool_name: stringField(body, 'tool', true), tool_input: body.args ?? null } };
    case 'tool.execute.after': {
      const callId = stringField(body, 'callID', true);
      const response = { title: body.title ?? null, output: body.output ?? null, metadata: body.metadata ?? null };
      const result = opencodeToolResult({ status: 'completed', output: body.output ?? null, metadata: body.metadata }, '', 0)!;
      return {
        input: { ...common, hook_event_name: 'PostToolUse', tool_use_id: callId, tool_name: stringField(body, 'tool', true), tool_input: body.args ?? null, tool_response: response },
        toolResult: {
          status: result.status, output: result.output,
          ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}), ...(result.status === 'failed' ? { error: `exit code ${result.exitCode}` } : {}),
        },
      };
    }
    case 'chat.message':
      return { input: { ...common, hook_event_name: 'UserPromptSubmit', prompt: typeof body.text === 'string' ? body.text : '', ...(typeof body.messageID === 'string' ? { prompt_id: body.messageID } : {}) } };
    case 'session.idle':
      return { input: { ...common, hook_event_name: 'Stop' } };
    case 'session.error':
      return { input: { ...common, hook_event_name: 'StopFailure', error: typeof body.error === 'string' ? body.error : JSON.stringify(body.error ?? 'unknown') } };
    default:
      return { input: { ...common, hook_event_name: `opencode.${event}`, detail: body.properties ?? null } };
  }
};
