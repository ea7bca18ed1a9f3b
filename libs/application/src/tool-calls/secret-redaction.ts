import { Inject, Injectable } from '@nestjs/common';
import { RunledgerConfig } from '@runledger/infra/config';
import { Redactor } from '@runledger/infra/redaction/redactor';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';

/**
 * Redaction before append (invariant 12): configured secrets (RUNLEDGER_SECRETS), the project's env values, and
 * well-known token patterns are replaced by `[REDACTED:<kind>]` in tool inputs, outputs and errors.
 */
@Injectable()
export class SecretRedaction {
  private readonly secrets: string[];
  private readonly base: Redactor;

  constructor(@Inject(RUNLEDGER_CONFIG) config: RunledgerConfig) {
    this.secrets = config.secrets;
    this.base = new Redactor({ secrets: this.secrets });
  }

  /** The redactor for a session of a project whose env values are secret too. */
  forProject(env: Record<string, string> | undefined): Redactor {
    const extra = Object.values(env ?? {});
    return extra.length === 0 ? this.base : new Redactor({ secrets: [...this.secrets, ...extra] });
  }
}
