import { randomUUID } from 'node:crypto';
import { EventMetadata } from '@runledger/infra/event-store';

/** Who asked and why: copied into every event's metadata (docs/ARCHITECTURE.md §2) and the logs. */
export interface CommandContext {
  correlationId: string;
  causationId?: string;
  actor: string;
  idempotencyKey?: string;
}

/** A fresh context for work runledger starts itself (boot, reconcile, executor). */
export const systemContext = (actor: string, correlationId: string = randomUUID()): CommandContext => ({ correlationId, actor });

/** The metadata of events appended under `context`; `occurredAt` when the fact happened elsewhere earlier (imports). */
export const metadataOf = (context: CommandContext, occurredAt?: string): EventMetadata => ({
  correlationId: context.correlationId,
  ...(context.causationId ? { causationId: context.causationId } : {}),
  actor: context.actor,
  ...(context.idempotencyKey ? { idempotencyKey: context.idempotencyKey } : {}),
  ...(occurredAt ? { occurredAt } : {}),
});
