import { DomainError } from '@runledger/domain';
import type { AppendResult, EventStore, ExpectedRevision, NewEvent } from '../event-store/event-store.port';
import { Redactor } from './redactor';

/** The live source of configured secret values the door redacts besides its fixed ones (the secret store). */
export interface SecretSource {
  /** Bumped whenever `knownValues` changes. */
  readonly generation: number;
  knownValues(): string[];
}

/**
 * Fields holding an identifier or a path something is looked up by (a call id, a run id, a tool name, a session id, an
 * idempotency or correlation key, a transcript path): rewriting one would break the lookup, so an event whose identifier
 * holds a secret is refused instead (docs/ARCHITECTURE.md §3 invariant 12). Checked on the top level of `data` and `metadata`.
 */
const IDENTIFIER = /^(?:id|tool|tool_name|branch|idempotencyKey|correlationId|causationId|.*(?:Id|_id|Ids|_ids|Path|_path))$/;

/** The request field a refused event field came from, when its name differs (the headers). */
const REQUEST_FIELD: Readonly<Record<string, string>> = {
  'metadata.idempotencyKey': 'Idempotency-Key',
  'metadata.correlationId': 'X-Correlation-Id',
  'metadata.causationId': 'X-Causation-Id',
};

/** An event whose identifier field holds a configured secret or a token: 400 naming the field, nothing appended. */
export const secretInIdentifier = (field: string): DomainError =>
  new DomainError('REQUEST.SECRET_IN_IDENTIFIER', 'invalid', `${field} contains a secret value or token; identifiers are stored as given, so it is refused`, { field });

/** AppendResult plus the events as they were stored (redacted), so a caller folds exactly what the log holds. */
export interface RedactedAppendResult extends AppendResult {
  stored: NewEvent[];
}

/**
 * The one door secrets cannot pass (docs/ARCHITECTURE.md §3 invariant 12): every event appended through the store it wraps
 * is redacted whole, data and metadata, strings and object keys, by a Redactor over the fixed secrets (RUNLEDGER_SECRETS,
 * the API token, the database URL's password) and the secret store's values (rebuilt only when those change). An
 * identifier that would change is refused (secretInIdentifier) rather than rewritten.
 */
export class RedactionDoor {
  private cached: { generation: number; redactor: Redactor } | null = null;

  constructor(private readonly fixed: readonly string[], private readonly source?: SecretSource) {}

  /** The redactor for every configured secret known now. */
  redactor(): Redactor {
    const generation = this.source?.generation ?? 0;
    if (this.cached?.generation !== generation) {
      this.cached = { generation, redactor: new Redactor({ secrets: [...this.fixed, ...(this.source?.knownValues() ?? [])] }) };
    }
    return this.cached.redactor;
  }

  /** The redactor with `extra` values too (a project env still held in an old log); the shared one when none. */
  withExtra(extra: readonly string[]): Redactor {
    return extra.length === 0 ? this.redactor() : new Redactor({ secrets: [...this.fixed, ...(this.source?.knownValues() ?? []), ...extra] });
  }

  /** Throws secretInIdentifier(field) when `text` holds a secret or token (for a request id checked before it is used). */
  assertNoSecret(text: string, field: string): void {
    if (this.redactor().redactString(text) !== text) throw secretInIdentifier(field);
  }

  /** Redacted copies of `events`; throws secretInIdentifier naming the first identifier field a redaction would change. */
  redactEvents(events: readonly NewEvent[]): NewEvent[] {
    const redactor = this.redactor();
    return events.map((event) => {
      this.refuseIdentifiers(redactor, event.data, 'data');
      this.refuseIdentifiers(redactor, event.metadata, 'metadata');
      return { ...event, data: redactor.redact(event.data), ...(event.metadata !== undefined ? { metadata: redactor.redact(event.metadata) } : {}) };
    });
  }

  private refuseIdentifiers(redactor: Redactor, value: unknown, prefix: string): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    for (const [key, item] of Object.entries(value)) {
      if (!IDENTIFIER.test(key)) continue;
      const texts = typeof item === 'string' ? [item] : Array.isArray(item) ? item.filter((x): x is string => typeof x === 'string') : [];
      if (texts.some((text) => redactor.redactString(text) !== text)) {
        const field = `${prefix}.${key}`;
        throw secretInIdentifier(REQUEST_FIELD[field] ?? key);
      }
    }
  }
}

/**
 * Wraps an EventStore so that `appendToStream` passes the RedactionDoor: the wrapped store only ever sees redacted events,
 * and the result carries them (`stored`). Every other member is the store's own (a Proxy, as for the metrics decorator).
 */
export const redactingEventStore = <S extends EventStore>(store: S, door: RedactionDoor): S => {
  const appendToStream = async (streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<RedactedAppendResult> => {
    const stored = door.redactEvents(events);
    return { ...(await store.appendToStream(streamId, stored, expected)), stored };
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'appendToStream') return appendToStream;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
};
