import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Notifications } from '@runledger/application';
import { MAX_DELIVERY_ATTEMPTS, retryDelayMs } from '@runledger/domain';
import { ClaimedDelivery, NotificationOutbox, postWebhook } from '@runledger/infra/notifications';
import { WorkerLedger } from '../worker-ledger';

/** How often the deliverer looks for due deliveries (ms) when nothing woke it. */
export const DELIVERY_POLL_MS = 250;
/** How long one POST may take before it counts as failed (ms). */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** How long a claimed delivery is this worker's (ms): past it, another worker may send it again. */
const CLAIM_MS = DELIVERY_TIMEOUT_MS + 5_000;
/** Deliveries sent at once: a slow receiver holds its own POST, never the others, nor any hook. */
const CONCURRENCY = 8;

/**
 * Sends queued notifications to their webhooks (docs/ARCHITECTURE.md §4i): claims due deliveries, POSTs each signed
 * (HMAC-SHA256, `x-runledger-signature`), records every attempt, and retries a failure with backoff (1 s doubling to 5
 * min) up to MAX_DELIVERY_ATTEMPTS. Runs apart from every request: a webhook that takes its time delays only itself.
 */
@Injectable()
export class WebhookDeliverer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WebhookDeliverer');
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();
  private polling = false;
  private stopped = false;

  constructor(private readonly ledger: WorkerLedger, private readonly outbox: NotificationOutbox, private readonly notifications: Notifications) {}

  onApplicationBootstrap(): void {
    this.notifications.onQueued = () => void this.poll();
    this.timer = setInterval(() => void this.poll(), DELIVERY_POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.notifications.onQueued = null;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Claims what is due (up to the free slots) and sends each without waiting for the others. */
  async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const free = CONCURRENCY - this.inFlight.size;
      if (free <= 0) return;
      const due = await this.outbox.claimDue(new Date(), free, CLAIM_MS);
      for (const delivery of due) {
        const sending = this.send(delivery).catch((error: Error) => this.logger.error(`${delivery.deliveryId}: ${error.message}`));
        this.inFlight.add(sending);
        void sending.finally(() => this.inFlight.delete(sending));
      }
    } catch (error) {
      this.logger.warn(`claiming deliveries failed: ${(error as Error).message}`);
    } finally {
      this.polling = false;
    }
  }

  private async send(d: ClaimedDelivery): Promise<void> {
    const result = await postWebhook(d.url, d.payload, {
      'user-agent': `runledger/${this.ledger.config.version}`,
      'x-runledger-delivery': d.deliveryId,
      'x-runledger-attempt': String(d.attempt),
      'x-runledger-event': d.kind,
    }, this.notifications.signingSecret(d.projectId), DELIVERY_TIMEOUT_MS);
    const at = new Date();
    const delivered = result.error === null;
    const gaveUp = !delivered && d.attempt >= MAX_DELIVERY_ATTEMPTS;
    await this.outbox.recordAttempt(d, { at, ...result }, delivered ? { status: 'delivered' } : gaveUp ? { status: 'failed' } : { status: 'pending', retryAt: new Date(at.getTime() + retryDelayMs(d.attempt)) });
    if (!delivered) this.logger.warn(`${d.url}: attempt ${d.attempt} of ${d.notificationId} failed (${result.error})${gaveUp ? ': given up' : ''}`);
  }
}
