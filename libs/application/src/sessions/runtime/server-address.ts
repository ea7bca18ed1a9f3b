import { Inject, Injectable } from '@nestjs/common';
import { RunledgerConfig } from '@runledger/infra/config';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';

/** The URL agents use to reach this runledger (RUNLEDGER_URL given to runtimes and hooks); set after listen. */
@Injectable()
export class ServerAddress {
  url: string;

  constructor(@Inject(RUNLEDGER_CONFIG) config: RunledgerConfig) {
    this.url = process.env.RUNLEDGER_URL || `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  }
}
