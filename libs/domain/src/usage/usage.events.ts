/** Token counts of one model call (or a sum of them), by kind, as the agent's own record gives them (docs/ARCHITECTURE.md §4g). */
export interface TokenCounts {
  /** Input tokens billed at the input rate (Claude `input_tokens`; Codex `input_tokens` less its cached part). */
  inputTokens: number;
  /** Output tokens (reasoning included where the agent counts it there). */
  outputTokens: number;
  /** Input tokens read from the prompt cache. */
  cacheReadTokens: number;
  /** Input tokens written to the prompt cache. */
  cacheCreationTokens: number;
}

/**
 * One model call's usage recorded from the agent's own record (transcript or rollout), on the session stream. `key` is
 * the call's own id (Claude Code `message.id`; Codex: thread and cumulative token total), the idempotency key: a second
 * reconcile or import of the same record appends nothing. `runId` is the run it belongs to (a sub-agent's own run),
 * `subagent` the sub-agent transcript's file name; `model` null when the record does not name it.
 */
export interface UsageRecorded {
  type: 'UsageRecorded';
  data: TokenCounts & {
    key: string;
    model: string | null;
    runId?: string;
    subagent?: string;
    /** Where it was read: a reconcile of the live transcript, or an import. */
    source: 'transcript' | 'import';
    at: string;
  };
}

/** Record one model call's usage; `[]` when its key is already recorded (docs/ARCHITECTURE.md §4g). */
export interface RecordUsage {
  type: 'RecordUsage';
  data: UsageRecorded['data'];
}
