import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Notifications, systemContext } from '@runledger/application';
import { notificationOf } from '@runledger/domain';
import { loadCheckpoint, RecordedEvent, saveCheckpoint, START, Subscription } from '@runledger/infra/event-store';
import { WorkerLedger } from '../worker-ledger';

/** The checkpoint name of the notifier's subscription. */
export const NOTIFIER_SUBSCRIPTION = 'notifier';

/**
 * Turns the events that mean a session needs a person into notifications (docs/ARCHITECTURE.md §4i): a checkpointed
 * subscription to the whole log (invariant 9), the pure `notificationOf` per event, `Notifications.raise` (once per
 * source: a batch replayed after a crash raises nothing twice). Its first start begins at the log's head: events from
 * before notifications existed notify nobody. A raise that fails is logged and the batch retried by the subscription.
 */
@Injectable()
export class NotificationSubscriber implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('NotificationSubscriber');
  private subscription?: Subscription;
  private stopped = false;

  constructor(private readonly ledger: WorkerLedger, private readonly notifications: Notifications) {}

  onApplicationBootstrap(): void {
    void this.start().catch((error: Error) => this.logger.error(`start: ${error.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.subscription?.stop();
  }

  private async start(): Promise<void> {
    let from = await loadCheckpoint(this.ledger.db, NOTIFIER_SUBSCRIPTION);
    if (from === START || from.globalPosition === 0) {
      from = await this.ledger.store.headCheckpoint();
      await this.ledger.db.transaction((tx) => saveCheckpoint(tx, NOTIFIER_SUBSCRIPTION, from));
    }
    if (this.stopped) return;
    this.subscription = this.ledger.store.subscribeToAll({
      from,
      onEvents: (events) => this.handle(events),
      onError: (error) => this.logger.error(`subscription: ${(error as Error).message}`),
    });
  }

  private async handle(events: RecordedEvent[]): Promise<void> {
    const context = systemContext('notifier');
    for (const event of events) {
      const draft = notificationOf({ streamId: event.streamId, revision: event.revision, type: event.type, data: event.data });
      if (draft) await this.notifications.raise(draft, { streamId: event.streamId, revision: event.revision, type: event.type }, context);
    }
    const last = events[events.length - 1];
    await this.ledger.db.transaction((tx) => saveCheckpoint(tx, NOTIFIER_SUBSCRIPTION, { transactionId: last.transactionId, globalPosition: last.globalPosition }));
  }
}
