import { createHash, createHmac } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { NotificationDraft, notificationKey, NotificationSource, ProjectWebhook, RegisteredProject } from '@runledger/domain';
import { RunledgerConfig } from '@runledger/infra/config';
import { NotificationOutbox } from '@runledger/infra/notifications';
import { SecretVault } from '@runledger/infra/secrets';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { CommandContext } from '../event-sourcing/command-context';
import { SessionStreams } from '../sessions/session-streams';

/** The JSON body POSTed to a webhook (docs/ARCHITECTURE.md §4i). */
export interface NotificationPayload {
  notificationId: string;
  kind: NotificationDraft['kind'];
  projectId: string;
  sessionId: string | null;
  summary: string;
  source: NotificationSource;
  raisedAt: string;
  runledgerVersion: string;
}

/** A project's webhooks as `PUT /projects/:id/webhooks` answers them: with the secret that signs their notifications. */
export interface WebhooksView {
  projectId: string;
  webhooks: ProjectWebhook[];
  /** HMAC-SHA256 key of the `x-runledger-signature` header (derived from the master key per project; shown to writers only). */
  signingSecret?: string;
}

/**
 * Notifications (docs/ARCHITECTURE.md §4i): raises one per source (the outbox's id is the gate), appends
 * `NotificationRaised` on the project stream and queues a delivery per matching webhook in the same outbox transaction;
 * delivery is the worker's (`WebhookDeliverer`), never the raiser's, so no hook waits on a webhook.
 */
@Injectable()
export class Notifications {
  private readonly logger = new Logger('Notifications');
  private readonly signingKey: Buffer;
  /** Called after a notification is queued, so an in-process deliverer sends it without waiting for its next poll. */
  onQueued: (() => void) | null = null;

  constructor(
    private readonly sessions: SessionStreams,
    private readonly outbox: NotificationOutbox,
    vault: SecretVault,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
  ) {
    this.signingKey = vault.cipher.deriveKey('webhook signing');
  }

  /** The secret signing `projectId`'s notifications: hex HMAC of the project id under a subkey of the master key. */
  signingSecret(projectId: string): string {
    return createHmac('sha256', this.signingKey).update(projectId, 'utf8').digest('hex');
  }

  /** Sets the project's webhooks (PROJECT.INVALID 400 naming the field, PROJECT.NOT_FOUND 404); answers them with the signing secret. */
  async setWebhooks(projectId: string, webhooks: ProjectWebhook[], context: CommandContext): Promise<WebhooksView> {
    await this.sessions.project(projectId, 'id');
    const { state } = await this.sessions.decideProject(projectId, () => ({ type: 'SetProjectWebhooks', data: { webhooks, at: new Date().toISOString() } }), context);
    return { projectId, webhooks: (state as RegisteredProject).webhooks ?? [], signingSecret: this.signingSecret(projectId) };
  }

  /** The project's webhooks (no secret); PROJECT.NOT_FOUND 404. */
  async webhooks(projectId: string): Promise<WebhooksView> {
    const { state } = await this.sessions.project(projectId, 'id');
    return { projectId, webhooks: state.webhooks ?? [] };
  }

  /**
   * Raises `draft` for `source` once: stores it with a delivery per webhook whose kinds match, then appends
   * `NotificationRaised`. Returns false when it was raised before, or when no project can be named (a custody event of
   * a worktree no session claims: logged).
   */
  async raise(draft: NotificationDraft, source: NotificationSource, context: CommandContext): Promise<boolean> {
    const projectId = draft.projectId ?? (draft.sessionId ? (await this.sessions.known(draft.sessionId).catch(() => null))?.state.projectId : undefined);
    if (!projectId) {
      this.logger.warn(`${draft.kind} not raised: no project for it (${draft.summary})`);
      return false;
    }
    const { state: project } = await this.sessions.project(projectId);
    const notificationId = createHash('sha256').update(notificationKey(draft.kind, source)).digest('hex').slice(0, 32);
    const raisedAt = new Date().toISOString();
    const payload: NotificationPayload = {
      notificationId, kind: draft.kind, projectId, sessionId: draft.sessionId ?? null, summary: draft.summary, source, raisedAt, runledgerVersion: this.config.version,
    };
    const body = JSON.stringify(payload);
    const targets = (project.webhooks ?? []).filter((w) => !w.kinds || w.kinds.includes(draft.kind));
    const added = await this.outbox.add(
      { notificationId, projectId, sessionId: draft.sessionId ?? null, kind: draft.kind, summary: draft.summary, source, raisedAt },
      targets.map((w) => ({ url: w.url, payload: body })),
    );
    if (!added) return false;
    await this.sessions.decideProject(projectId, () => ({
      type: 'RaiseNotification',
      data: { notificationId, kind: draft.kind, ...(draft.sessionId ? { sessionId: draft.sessionId } : {}), summary: draft.summary, source, at: raisedAt },
    }), context);
    if (targets.length > 0) this.onQueued?.();
    return true;
  }
}
