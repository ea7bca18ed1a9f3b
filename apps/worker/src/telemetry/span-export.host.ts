import { ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { LOG_EXPORTER } from '@runledger/application';
import type { LogExporter } from '@runledger/domain';
import type { RunledgerConfig } from '@runledger/infra/config';
import { SqlDatabase } from '@runledger/infra/database';
import { EventStore } from '@runledger/infra/event-store';
import { EVENT_STORE, RUNLEDGER_CONFIG, SQL_DATABASE } from '@runledger/infra/tokens';
import { LogExportRunner } from './log-export.runner';

/** The span export's own process (built next to this file). */
export const LOG_EXPORT_MAIN = join(__dirname, 'log-export.main.js');
/** Restart delays of a span export process that exited on its own (ms): doubles from the first to the last. */
const RESTART_MS = { first: 1_000, max: 30_000 };
/** How long a stopping span export process may take to end its batch in flight before it is killed (ms). */
const STOP_GRACE_MS = 10_000;

/** Where the span export of this worker runs: `process`, its own low-priority process (PostgreSQL); `inline`, this process (the embedded store, which one process holds). */
export type SpanExportPlacement = 'process' | 'inline';

/**
 * Hosts the OTLP span export (docs/ARCHITECTURE.md §4g) where it costs the appends least. On PostgreSQL it is a process of
 * its own (log-export.main.js), forked in a session of its own at the least CPU share (nice 19, its autogroup too): it
 * takes only CPU the api and the database leave, so under a load that fills the machine it falls behind rather than slow
 * the appends, and catches up once there is CPU to spare (its checkpoint keeps its place). It is restarted with backoff
 * when it exits on its own, stopped with the worker, and stops itself when the worker dies. On the embedded store, which
 * only this process can open, it runs here (LogExportRunner). Nothing is started without an exporter configured.
 */
@Injectable()
export class SpanExportHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SpanExport');
  private inline: LogExportRunner | null = null;
  private child: ChildProcess | null = null;
  private stopping = false;
  private restartMs = RESTART_MS.first;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(SQL_DATABASE) private readonly db: SqlDatabase,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
    @Optional() @Inject(LOG_EXPORTER) private readonly exporter: LogExporter | null,
  ) {}

  /** Where the export runs, or null when no exporter is configured. */
  get placement(): SpanExportPlacement | null {
    if (!this.exporter) return null;
    return this.config.databaseUrl ? 'process' : 'inline';
  }

  /** The pid of the span export process while one runs (placement `process`). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Nest hook: starts the export in its placement. Throws when the span export process was not built (`npm run build`). */
  async onApplicationBootstrap(): Promise<void> {
    const placement = this.placement;
    if (placement === 'inline') {
      this.inline = new LogExportRunner(this.db, this.store, this.config, this.exporter);
      await this.inline.onApplicationBootstrap();
    } else if (placement === 'process') {
      if (!existsSync(LOG_EXPORT_MAIN)) throw new Error(`the span export process ${LOG_EXPORT_MAIN} is not built: run npm run build`);
      this.spawn();
    }
  }

  /** Nest hook: stops the export; a span export process gets SIGTERM, and SIGKILL after STOP_GRACE_MS. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.inline) await this.inline.beforeApplicationShutdown();
    else await this.exporter?.shutdown().catch(() => undefined); // the child has its own exporter; this one never sent
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(killer);
  }

  private spawn(): void {
    // detached: a session of its own, so its autogroup is its own and can be given the least weight (cpu-priority.ts).
    const child = fork(LOG_EXPORT_MAIN, [], {
      detached: true,
      env: { ...process.env, DATABASE_URL: this.config.databaseUrl },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    child.on('message', (message: { ready?: boolean }) => {
      if (message?.ready) this.restartMs = RESTART_MS.first;
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      if (this.stopping) return;
      this.logger.warn(`span export process ${child.pid} exited (${signal ?? `code ${code}`}); restarting in ${this.restartMs} ms`);
      this.restartTimer = setTimeout(() => this.spawn(), this.restartMs);
      this.restartMs = Math.min(this.restartMs * 2, RESTART_MS.max);
    });
    this.logger.log(`span export in its own process ${child.pid} (PostgreSQL), at the least CPU share`);
  }
}
