/** Why a session needs a person (docs/ARCHITECTURE.md §4i). */
export type NotificationKind = 'permission_request' | 'waiting_input' | 'budget_crossed' | 'not_resumable' | 'worktree_stranded' | 'no_signal';

/** Every notification kind, in a stable order. */
export const NOTIFICATION_KINDS: readonly NotificationKind[] = ['permission_request', 'waiting_input', 'budget_crossed', 'not_resumable', 'worktree_stranded', 'no_signal'];

/** A URL runledger POSTs a project's notifications to; `kinds` limits which (every kind when absent). */
export interface ProjectWebhook {
  url: string;
  kinds?: NotificationKind[];
}

/** The project's webhooks were set (stream `project-<id>`); an empty list turns them off. */
export interface ProjectWebhooksSet {
  type: 'ProjectWebhooksSet';
  data: { webhooks: ProjectWebhook[]; at: string };
}

/** The event (or health flag) a notification was raised for. */
export interface NotificationSource {
  streamId: string;
  revision: number;
  type: string;
}

/**
 * A session needs a person (stream `project-<id>`): `notificationId` is derived from the kind and the source, so the same
 * source raises it once; `summary` is a line a person reads.
 */
export interface NotificationRaised {
  type: 'NotificationRaised';
  data: { notificationId: string; kind: NotificationKind; sessionId?: string; summary: string; source: NotificationSource; at: string };
}
