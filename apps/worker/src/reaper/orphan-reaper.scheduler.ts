import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { BootReconciler } from '../recovery/boot-reconciler';
import { OrphanReaper } from './orphan-reaper';

/** Runs the orphan reaper after the boot reconcile, then every RUNLEDGER_REAPER_INTERVAL_MS (docs/ARCHITECTURE.md §4b). */
@Injectable()
export class OrphanReaperScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('OrphanReaper');
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private current?: Promise<unknown>;

  constructor(private readonly reaper: OrphanReaper, private readonly reconciler: BootReconciler) {}

  onApplicationBootstrap(): void {
    void this.reconciler.done.then(() => {
      if (this.stopped) return;
      this.timer = setInterval(() => this.tick(), this.reaper.settings.intervalMs);
      this.timer.unref();
      this.tick();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.current?.catch(() => undefined);
  }

  private tick(): void {
    if (this.stopped) return;
    this.current = this.reaper.sweep().then(
      (report) => {
        if (report.skipped) this.logger.warn(`sweep skipped: ${report.skipped}`);
      },
      (error: Error) => this.logger.error(`sweep failed: ${error.message}`),
    );
  }
}
