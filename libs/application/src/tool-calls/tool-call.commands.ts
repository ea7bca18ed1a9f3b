import { CommandContext } from '../event-sourcing/command-context';

/** Body of `POST /sessions/:id/tool-calls` (docs/ARCHITECTURE.md §5). */
export interface RequestToolCallInput {
  callId?: string;
  tool: string;
  input: unknown;
  mode: 'observed' | 'managed';
  runId?: string;
  idempotent?: boolean;
}

/** Checkpoint a tool call (`ToolCallDispatched` committed) before it runs (managed) or is allowed (observed). */
export class RequestToolCallCommand {
  constructor(readonly sessionId: string, readonly request: RequestToolCallInput, readonly context: CommandContext) {}
}

/** Body of `POST /sessions/:id/tool-calls/:callId/result`. */
export interface ToolCallResultInput {
  status: 'completed' | 'failed';
  output?: unknown;
  exitCode?: number;
  error?: string;
  attempt?: number;
  source?: 'agent' | 'executor' | 'hook' | 'transcript' | 'import';
  occurredAt?: string;
}

/** Record a tool call's result as soon as it arrives (invariant 5). */
export class RecordToolCallResultCommand {
  constructor(readonly sessionId: string, readonly callId: string, readonly result: ToolCallResultInput, readonly context: CommandContext) {}
}

/** Dispatch an interrupted call again as a new attempt. */
export class RetryToolCallCommand {
  constructor(readonly sessionId: string, readonly callId: string, readonly context: CommandContext) {}
}
