/*
 * The Claude Code hook protocol as one typed, validated model, shared by the live handler (`POST /hooks/claude-code`),
 * the command hook (`runledger hook claude-code`) and the tests. Pure TypeScript with no imports: the command hook
 * loads it on every tool call and must start fast.
 *
 * Source of the shapes: the input schemas compiled into Claude Code 2.1.328 (the version pinned in package.json; its
 * union of hook inputs lists the 33 events of HOOK_EVENT_FIELDS) and the hooks reference (code.claude.com/docs/en/hooks).
 * Every input carries the common fields of COMMON_FIELDS; each event adds its own. Only the fields runledger reads are
 * checked; every other field is kept as sent, so a newer Claude Code that adds fields (or whole events) is accepted.
 */

/** A field rule: required or optional (`?`) string, boolean, number, array, object, or any JSON value. */
type FieldRule = 'string' | 'string?' | 'boolean?' | 'number?' | 'array' | 'array?' | 'object?' | 'any' | 'any?';

/** Fields every hook input has (Claude Code 2.1.328): `session_id`, `transcript_path` and `cwd` are always sent. */
export const COMMON_FIELDS = {
  session_id: 'string',
  transcript_path: 'string?',
  cwd: 'string?',
  prompt_id: 'string?',
  permission_mode: 'string?',
  /** Present when the hook fires inside a sub-agent. */
  agent_id: 'string?',
  agent_type: 'string?',
  effort: 'object?',
} as const satisfies Record<string, FieldRule>;

/** Field groups several events share (in the order Claude Code sends them; the first failing field is the one named). */
const TOOL = { tool_name: 'string', tool_input: 'any' } as const;
/** A tool call with its id: the events about one `tool_use` block. */
const TOOL_USE = { ...TOOL, tool_use_id: 'string' } as const;
/** The sub-agent an event is about (`agent_id` is required here, unlike the common field). */
const SUBAGENT = { agent_id: 'string', agent_type: 'string?' } as const;
const LAST_MESSAGE = { last_assistant_message: 'string?' } as const;
const MODEL_SWITCH = { from_model: 'string?', to_model: 'string?' } as const;
const TASK = { task_id: 'string?', task_subject: 'string?' } as const;
const MCP_SERVER = { mcp_server_name: 'string?' } as const;

/** The events of Claude Code 2.1.328 with the fields runledger checks (others are kept unchecked). */
export const HOOK_EVENT_FIELDS = {
  SessionStart: { source: 'string?', model: 'string?' },
  Setup: { trigger: 'string?' },
  SessionEnd: { reason: 'string?' },
  UserPromptSubmit: { prompt: 'string' },
  UserPromptExpansion: { command_name: 'string?', prompt: 'string?' },
  PreToolUse: TOOL_USE,
  PermissionRequest: { ...TOOL, permission_suggestions: 'array?' },
  PermissionDenied: { ...TOOL_USE, reason: 'string?' },
  PostToolUse: { ...TOOL_USE, tool_response: 'any?', duration_ms: 'number?' },
  PostToolUseFailure: { ...TOOL_USE, error: 'any?', is_interrupt: 'boolean?', duration_ms: 'number?' },
  PostToolBatch: { tool_calls: 'array' },
  Notification: { message: 'string?', title: 'string?', notification_type: 'string?' },
  Stop: { stop_hook_active: 'boolean?', ...LAST_MESSAGE },
  StopFailure: { error: 'string?', error_details: 'string?', ...LAST_MESSAGE },
  SubagentStart: SUBAGENT,
  SubagentStop: { ...SUBAGENT, agent_transcript_path: 'string?', ...LAST_MESSAGE },
  PreCompact: { trigger: 'string?', custom_instructions: 'any?' },
  PostCompact: { trigger: 'string?', compact_summary: 'string?' },
  PreModelSwitch: MODEL_SWITCH,
  PostModelSwitch: MODEL_SWITCH,
  Elicitation: { ...MCP_SERVER, message: 'string?' },
  ElicitationResult: { ...MCP_SERVER, action: 'string?' },
  TeammateIdle: { teammate_name: 'string?' },
  TaskCreated: TASK,
  TaskCompleted: TASK,
  InstructionsLoaded: { file_path: 'string?', load_reason: 'string?' },
  ConfigChange: { source: 'string?', file_path: 'string?' },
  CwdChanged: { old_cwd: 'string?', new_cwd: 'string?' },
  FileChanged: { file_path: 'string?', event: 'string?' },
  DirectoryAdded: { directory: 'string?', source: 'string?' },
  WorktreeCreate: { name: 'string?' },
  WorktreeRemove: { worktree_path: 'string?' },
  MessageDisplay: { turn_id: 'string?', message_id: 'string?', final: 'boolean?' },
} as const satisfies Record<string, Record<string, FieldRule>>;

/** One of the hook events Claude Code 2.1.328 sends. */
export type KnownHookEvent = keyof typeof HOOK_EVENT_FIELDS;

/** Every known hook event name, in the order of HOOK_EVENT_FIELDS (33 for Claude Code 2.1.328). */
export const KNOWN_HOOK_EVENTS = Object.keys(HOOK_EVENT_FIELDS) as KnownHookEvent[];

/** The hook events whose answer can block the agent's next step (a tool call or a permission). */
export const BLOCKING_HOOK_EVENTS: readonly KnownHookEvent[] = ['PreToolUse', 'PermissionRequest'];

type RuleType<R extends FieldRule> = R extends 'string' | 'string?'
  ? string
  : R extends 'boolean?'
    ? boolean
    : R extends 'number?'
      ? number
      : R extends 'array' | 'array?'
        ? unknown[]
        : R extends 'object?'
          ? Record<string, unknown>
          : unknown;
type Required<F> = { [K in keyof F as F[K] extends `${string}?` ? never : K]: F[K] extends FieldRule ? RuleType<F[K]> : never };
type Optional<F> = { [K in keyof F as F[K] extends `${string}?` ? K : never]?: F[K] extends FieldRule ? RuleType<F[K]> : never };
type Fields<F> = Required<F> & Optional<F>;

/** The fields of every hook input. */
export type CommonHookFields = Fields<typeof COMMON_FIELDS>;

/** The typed input of one known event (its checked fields; any other field is kept as `unknown`). */
export type HookInputOf<E extends KnownHookEvent> = CommonHookFields &
  Fields<(typeof HOOK_EVENT_FIELDS)[E]> & { hook_event_name: E; [field: string]: unknown };

/** A known event's input, a union on `hook_event_name`. */
export type KnownHookInput = { [E in KnownHookEvent]: HookInputOf<E> }[KnownHookEvent];

/** An event this version of runledger does not know (a newer Claude Code): accepted and kept as sent. */
export type UnknownHookInput = CommonHookFields & { hook_event_name: string; [field: string]: unknown };

/** A parsed hook input: `known` says whether its event-specific fields were checked. */
export type ParsedHookInput = { known: true; input: KnownHookInput } | { known: false; input: UnknownHookInput };

/** Why a hook input was refused: the offending field and a message naming the rule. */
export interface HookInputProblem {
  field: string;
  message: string;
}

/** Thrown by `parseHookInput` for an input that breaks the protocol (the live handler answers 400 naming the field). */
export class HookInputError extends Error {
  constructor(readonly problem: HookInputProblem) {
    super(problem.message);
    this.name = 'HookInputError';
  }
}

const isKnown = (event: string): event is KnownHookEvent => Object.prototype.hasOwnProperty.call(HOOK_EVENT_FIELDS, event);

const check = (value: unknown, rule: FieldRule): string | undefined => {
  const optional = rule.endsWith('?');
  if (value === undefined || (optional && value === null)) return optional || rule === 'any' ? undefined : 'is required';
  switch (rule.replace('?', '')) {
    case 'string':
      return typeof value === 'string' && (optional || value.length > 0) ? undefined : 'must be a non-empty string';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be a boolean';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a number';
    case 'array':
      return Array.isArray(value) ? undefined : 'must be an array';
    case 'object':
      return typeof value === 'object' && !Array.isArray(value) ? undefined : 'must be an object';
    default:
      return undefined;
  }
};

const checkFields = (input: Record<string, unknown>, rules: Record<string, FieldRule>, event: string): void => {
  for (const [field, rule] of Object.entries(rules)) {
    const problem = check(input[field], rule);
    if (problem) throw new HookInputError({ field, message: `${field} ${problem} for ${event}` });
  }
};

/**
 * Checks one hook input (the JSON Claude Code posts or writes on stdin): an object with a non-empty `hook_event_name`,
 * the common fields, and, for a known event, the fields runledger reads. Unknown events are accepted as they are.
 * Throws HookInputError naming the field.
 */
export const parseHookInput = (value: unknown): ParsedHookInput => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HookInputError({ field: 'body', message: 'the hook input must be a JSON object' });
  }
  const input = value as Record<string, unknown>;
  const event = input.hook_event_name;
  if (typeof event !== 'string' || event.length === 0) {
    throw new HookInputError({ field: 'hook_event_name', message: 'hook_event_name must be a non-empty string' });
  }
  checkFields(input, COMMON_FIELDS, event);
  if (!isKnown(event)) return { known: false, input: input as UnknownHookInput };
  checkFields(input, HOOK_EVENT_FIELDS[event], event);
  return { known: true, input: input as KnownHookInput };
};

/** `hook_event_name` of a hook input's text; `undefined` when the text is not a JSON object naming one (never throws). */
export const hookEventOf = (text: string): string | undefined => {
  try {
    const value = JSON.parse(text) as { hook_event_name?: unknown } | null;
    return typeof value?.hook_event_name === 'string' && value.hook_event_name ? value.hook_event_name : undefined;
  } catch {
    return undefined;
  }
};

/** A PreToolUse decision Claude Code reads from a hook's JSON output (`deny` reasons are shown to the agent, `ask` prompts). */
export interface PreToolUseOutput {
  hookSpecificOutput: { hookEventName: 'PreToolUse'; permissionDecision: 'allow' | 'deny' | 'ask'; permissionDecisionReason?: string };
}

/** A WorktreeCreate answer: where the worktree runledger created is (an HTTP hook's JSON; a command hook prints the path). */
export interface WorktreeCreateOutput {
  hookSpecificOutput: { hookEventName: 'WorktreeCreate'; worktreePath: string };
}

/** The hook output JSON runledger answers: a PreToolUse decision, a created worktree's path, or nothing for every other event. */
export type HookOutput = PreToolUseOutput | WorktreeCreateOutput | Record<string, never>;

/** The WorktreeCreate output naming the worktree's absolute path. */
export const worktreeCreated = (worktreePath: string): WorktreeCreateOutput => ({ hookSpecificOutput: { hookEventName: 'WorktreeCreate', worktreePath } });

/**
 * What a command hook prints on stdout for `output` (the body of `POST /hooks/<agent>?transport=command`): the worktree
 * path for a WorktreeCreate answer (Claude Code 2.1.328 reads a command WorktreeCreate hook's last stdout line as the
 * path, not JSON), the output JSON otherwise (`{}` for an event runledger has nothing to say to).
 */
export const commandHookStdout = (output: HookOutput): string => {
  const specific = (output as Partial<WorktreeCreateOutput>).hookSpecificOutput;
  if (specific?.hookEventName === 'WorktreeCreate') return specific.worktreePath;
  return JSON.stringify(output);
};

/** The PreToolUse output that lets the call run (`allow`, no permission prompt), blocks it (`deny`) or asks. */
export const preToolUseDecision = (permissionDecision: 'allow' | 'deny' | 'ask', reason?: string): PreToolUseOutput => ({
  hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision, ...(reason !== undefined ? { permissionDecisionReason: reason } : {}) },
});

/** The agent's activity a hook event reveals (docs/ARCHITECTURE.md §2): `undefined` when the event says nothing about it. */
export type AgentActivity = 'working' | 'waiting_input' | 'idle';

/** Notification types that mean the agent waits for a person (permission dialog, idle prompt, MCP elicitation). */
const WAITING_NOTIFICATIONS = new Set(['permission_prompt', 'idle_prompt', 'elicitation_dialog']);

/**
 * The activity after `input` (ao's model): a prompt, a tool call, a sub-agent or a compaction means working; a
 * permission request, an elicitation or a waiting notification means waiting for input; the end of a turn (Stop,
 * StopFailure) or of the session means idle. Sub-agent Stop-like events leave the main agent working.
 */
export const activityAfter = (input: KnownHookInput | UnknownHookInput): AgentActivity | undefined => {
  switch (input.hook_event_name) {
    case 'UserPromptSubmit':
    case 'UserPromptExpansion':
    case 'PreToolUse':
    case 'PostToolUse':
    case 'PostToolUseFailure':
    case 'PostToolBatch':
    case 'PermissionDenied':
    case 'SubagentStart':
    case 'SubagentStop':
    case 'PreCompact':
    case 'ElicitationResult':
      return 'working';
    case 'PermissionRequest':
    case 'Elicitation':
      return 'waiting_input';
    case 'Notification':
      return WAITING_NOTIFICATIONS.has(String(input.notification_type)) ? 'waiting_input' : undefined;
    case 'Stop':
    case 'StopFailure':
    case 'SessionEnd':
      return 'idle';
    default:
      return undefined;
  }
};
