import { Injectable } from '@nestjs/common';
import { RedactionDoor } from '@runledger/infra/redaction/redaction-door';
import { Redactor } from '@runledger/infra/redaction/redactor';

/**
 * Redaction before a decision (invariant 12), for the values a decision compares (a hook joined to its call by the
 * redacted input): every configured secret (RUNLEDGER_SECRETS, the API token, the secret store's values) and the
 * well-known token patterns. The event store's door redacts every appended event with the same redactor, so what is
 * compared here is what the log holds.
 */
@Injectable()
export class SecretRedaction {
  constructor(private readonly door: RedactionDoor) {}

  /** The redactor for a session of a project; `legacyEnv` are values an old log still holds (secret too). */
  forProject(legacyEnv: Record<string, string> | undefined): Redactor {
    return this.door.withExtra(Object.values(legacyEnv ?? {}));
  }

  /** Throws a 400 naming `field` when `text` holds a configured secret or a token (an id must be refused, not rewritten). */
  assertNoSecret(text: string, field: string): void {
    this.door.assertNoSecret(text, field);
  }
}
