import { open } from 'node:fs/promises';
import { hookResponse, itemFailed, TOOL_ITEMS } from './rollout-parser';

/*
 * How a Codex rollout records the end of a tool call: an `event_msg` line of type `item_completed` whose item's `id`
 * is the call's `call_id` (CommandExecution with `exit_code` and `aggregated_output`, FileChange, McpToolCall). Codex
 * 0.171 writes that line before it runs the call's PostToolUse hooks, whose payload has no exit code.
 */

/** A finished call as a rollout's `item_completed` says it: status (exec: exit code 0), output, exit code, error text. */
export interface RolloutToolResult {
  status: 'completed' | 'failed';
  output?: unknown;
  exitCode?: number;
  error?: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The result a completed tool item states, as the rollout parser reads it (itemFailed, hookResponse), plus the exit
 * code of a command; null for an item that is not a tool call's (a message, a prompt).
 */
export const completedItemResult = (item: unknown): RolloutToolResult | null => {
  if (!isObject(item) || !TOOL_ITEMS.has(String(item.type))) return null;
  const failed = itemFailed(item);
  const exitCode = item.type === 'CommandExecution' && typeof item.exit_code === 'number' ? item.exit_code : undefined;
  const output = hookResponse(item, undefined);
  const error = !failed ? undefined : exitCode !== undefined ? `exit code ${exitCode}` : `${String(item.type)} ${String(item.status ?? 'failed')}`;
  return { status: failed ? 'failed' : 'completed', ...(output !== undefined ? { output } : {}), ...(exitCode !== undefined ? { exitCode } : {}), ...(error ? { error } : {}) };
};

/** The item of an `item_completed` rollout line (parsed JSON), or null for any other line. */
export const completedItemOf = (line: unknown): Json | null =>
  isObject(line) && line.type === 'event_msg' && isObject(line.payload) && line.payload.type === 'item_completed' && isObject(line.payload.item) ? line.payload.item : null;

/** How far back from the end of a rollout the hook path looks for a call's `item_completed` line (bytes). */
export const ROLLOUT_TAIL_BYTES = 1024 * 1024;

/**
 * The result of `callId` from the last ROLLOUT_TAIL_BYTES of the rollout `file` (the hook path: the line was just
 * written, so it is near the end; the cost does not grow with the rollout). Undefined when the tail has no
 * `item_completed` for it, or the file cannot be read.
 */
export const rolloutToolResult = async (file: string, callId: string): Promise<RolloutToolResult | undefined> => {
  let text: string;
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const start = Math.max(0, size - ROLLOUT_TAIL_BYTES);
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      text = buffer.toString('utf8');
      if (start > 0) text = text.slice(text.indexOf('\n') + 1); // the first line may be cut
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i]!.includes(callId)) continue;
    try {
      const item = completedItemOf(JSON.parse(lines[i]!));
      if (item?.id === callId) return completedItemResult(item) ?? undefined;
    } catch {
      // a line being written, or not JSON: not the one
    }
  }
  return undefined;
};
