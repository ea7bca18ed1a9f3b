import { Inject, Injectable } from '@nestjs/common';
import { RunledgerConfig } from '@runledger/infra/config';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';

/**
 * The URL agents use to reach this runledger (RUNLEDGER_URL given to runtimes and hooks; `https:` when it serves TLS);
 * set after listen. `caFile`: the private CA their hooks verify it with (RUNLEDGER_CA_FILE), when configured.
 */
@Injectable()
export class ServerAddress {
  url: string;
  readonly caFile?: string;

  constructor(@Inject(RUNLEDGER_CONFIG) config: RunledgerConfig) {
    this.url = process.env.RUNLEDGER_URL || `${config.tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
    this.caFile = config.tls?.caFile;
  }
}
