import { randomUUID } from 'node:crypto';
import { EventMetadata } from '@runledger/infra/event-store';

/**
 * Who asked and why: copied into every event's metadata (docs/ARCHITECTURE.md §2) and the logs. `actor` is who caused
 * the events (docs/ARCHITECTURE.md §8): `user:<name>` (a person's token; `user:admin` for the bootstrap admin token),
 * `session:<id>` (an agent's session credential) or `runledger` (work runledger starts itself); `via` says through what
 * (`claude-code-hook`, `import`, `reaper:<owner>`, …).
 */
export interface CommandContext {
  correlationId: string;
  causationId?: string;
  actor: string;
  via?: string;
  idempotencyKey?: string;
}

/** The actor of work runledger starts itself (reconcile, reaper, watchers, executor). */
export const RUNLEDGER_ACTOR = 'runledger';

/** A fresh context for work runledger starts itself: actor `runledger`, `via` the part of runledger doing it (`reaper:<owner>`). */
export const systemContext = (via: string, correlationId: string = randomUUID()): CommandContext => ({ correlationId, actor: RUNLEDGER_ACTOR, via });

/** The metadata of events appended under `context`; `occurredAt` when the fact happened elsewhere earlier (imports). */
export const metadataOf = (context: CommandContext, occurredAt?: string): EventMetadata => ({
  correlationId: context.correlationId,
  ...(context.causationId ? { causationId: context.causationId } : {}),
  actor: context.actor,
  ...(context.via ? { via: context.via } : {}),
  ...(context.idempotencyKey ? { idempotencyKey: context.idempotencyKey } : {}),
  ...(occurredAt ? { occurredAt } : {}),
});
