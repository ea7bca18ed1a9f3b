import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AgentLauncher, SessionReconciler, systemContext } from '@runledger/application';
import { RuntimeView, SessionRuntime } from '@runledger/domain';
import { RunledgerConfig } from '@runledger/infra/config';
import { ReadModels } from '@runledger/infra/read-models';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { BootReconciler } from './boot-reconciler';

/**
 * The identity to probe of a snapshot's runtime: a process (pid and start time), or a tmux pane (its server's socket,
 * session name, pid and start time); null when the snapshot lacks one of them (nothing to probe).
 */
export const probeOf = (runtime: RuntimeView | null | undefined): SessionRuntime | null => {
  if (!runtime || runtime.pid === null || runtime.startTime === null) return null;
  const { pid, startTime } = runtime;
  if (runtime.type === 'process') return { type: 'process', pid, startTime, command: [], logPath: '' };
  if (!runtime.sessionName || !runtime.socket) return null;
  return { type: 'tmux', socket: runtime.socket, sessionName: runtime.sessionName, pid, startTime, command: [] };
};

/**
 * Watches the runtimes of running sessions while runledger runs (docs/ARCHITECTURE.md §4, last paragraph): every
 * `watchIntervalMs` (default 1 s) each running session's runtime is probed (the same process, or the same tmux pane
 * process: pid and start time); one that ended
 * is reconciled at once (`exited` with its exit code or signal, or `interrupted` and restored when its work was cut
 * short and its exit was not observed), its transcript reconciled too. Starts after the boot reconcile.
 */
@Injectable()
export class RuntimeWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RuntimeWatcher');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly readModels: ReadModels,
    private readonly launcher: AgentLauncher,
    private readonly reconciler: SessionReconciler,
    private readonly boot: BootReconciler,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.boot.done.then(() => {
      if (this.stopped) return;
      this.timer = setInterval(() => void this.sweep(), this.config.watchIntervalMs);
      this.timer.unref();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One probe of every running session's runtime; returns the ids of those found dead and reconciled. */
  async sweep(): Promise<string[]> {
    if (this.running || this.stopped) return [];
    const dead: string[] = [];
    this.running = (async () => {
      for (const view of await this.readModels.listSessions({ status: 'running' })) {
        if (this.stopped) break;
        const runtime = probeOf(view.runtime);
        if (!runtime || this.launcher.isAlive(runtime)) continue;
        try {
          const result = await this.reconciler.reconcile(view.id, 'watch', systemContext('runtime-watcher'));
          if (result.outcome !== 'skipped') dead.push(view.id);
        } catch (error) {
          this.logger.warn(`${view.id}: reconcile after its runtime ended failed: ${(error as Error).message}`);
        }
      }
    })()
      .catch((error: Error) => this.logger.warn(`runtime watch failed: ${error.message}`))
      .finally(() => (this.running = undefined));
    await this.running;
    return dead;
  }
}
