import { parseStreamName } from '../shared/stream-names';
import type { NotificationKind, NotificationSource, ProjectWebhook } from './notification.events';
import { NOTIFICATION_KINDS } from './notification.events';

/** A notification before it is raised: its kind, the session (when one) or the project it concerns, and its summary. */
export interface NotificationDraft {
  kind: NotificationKind;
  sessionId?: string;
  projectId?: string;
  summary: string;
}

/** The part of a stored event the policy reads. */
export interface NotifiableEvent extends NotificationSource {
  data: unknown;
}

/** Notification types of Claude Code's Notification hook that mean the agent waits for a person's input. */
const WAITING = new Set(['idle_prompt', 'elicitation_dialog']);

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The notification an event calls for, or null (docs/ARCHITECTURE.md §4i), pure: a permission request (the
 * PermissionRequest hook), the agent idle and waiting for input (the Notification hook), a budget crossed, a session
 * interrupted that cannot be resumed, a stranded worktree. (`no_signal` comes from the health sweep, not from an event.)
 */
export const notificationOf = (e: NotifiableEvent): NotificationDraft | null => {
  const stream = parseStreamName(e.streamId);
  const sessionId = stream.kind === 'session' ? stream.sessionId : undefined;
  const projectId = stream.kind === 'project' ? stream.projectId : undefined;
  const d = (e.data ?? {}) as Record<string, unknown>;
  const detail = (d.detail ?? {}) as Record<string, unknown>;
  switch (e.type) {
    case 'AgentHookReceived':
      if (d.hook === 'PermissionRequest' && sessionId) {
        return { kind: 'permission_request', sessionId, summary: `${sessionId} asks permission to run ${text(detail.tool_name) ?? 'a tool'}` };
      }
      if (d.hook === 'Notification' && sessionId && WAITING.has(String(detail.notification_type))) {
        return { kind: 'waiting_input', sessionId, summary: `${sessionId} waits for input${text(detail.message) ? `: ${text(detail.message)}` : ''}` };
      }
      return null;
    case 'BudgetThresholdCrossed':
      return projectId
        ? {
            kind: 'budget_crossed', projectId, ...(text(d.sessionId) ? { sessionId: d.sessionId as string } : {}),
            summary: `${d.scope === 'session' ? `session ${String(d.sessionId)}` : `project ${projectId}`} crossed ${String(d.threshold)}% of its $${String(d.budgetUsd)} budget ($${String(d.spentUsd)} spent)${d.enforce && d.threshold === 100 ? ': its agents are stopped' : ''}`,
          }
        : null;
    case 'SessionInterrupted':
      return sessionId && d.resumable === false ? { kind: 'not_resumable', sessionId, summary: `${sessionId} was interrupted and cannot be resumed: ${text(d.reason) ?? 'no reason recorded'}` } : null;
    case 'WorktreeStranded':
      return sessionId ? { kind: 'worktree_stranded', sessionId, summary: `the ${text(d.repo) ?? ''} worktree of ${sessionId} is stranded: ${text(d.reason) ?? 'work not landed'}` } : null;
    case 'CustodyWorktreeStranded':
      return { kind: 'worktree_stranded', summary: `a worktree Claude Code made is stranded (${text(d.rule) ?? 'work not landed'}): ${text(d.path) ?? ''}` };
    default:
      return null;
  }
};

/** The id of the notification of `kind` for `source`: the same source raises one notification. */
export const notificationKey = (kind: NotificationKind, source: NotificationSource): string => `${kind}:${source.streamId}:${source.revision}`;

/** Most webhooks a project may set. */
export const MAX_WEBHOOKS = 20;

/** Validates a project's webhooks; the field and problem of the first invalid one, or null. URLs are http(s) without credentials. */
export const webhooksProblem = (webhooks: readonly ProjectWebhook[]): { field: string; message: string } | null => {
  if (webhooks.length > MAX_WEBHOOKS) return { field: 'webhooks', message: `at most ${MAX_WEBHOOKS}` };
  for (const [i, w] of webhooks.entries()) {
    let url: URL;
    try {
      url = new URL(w.url);
    } catch {
      return { field: `webhooks[${i}].url`, message: 'not a URL' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { field: `webhooks[${i}].url`, message: 'must be http or https' };
    if (url.username || url.password) return { field: `webhooks[${i}].url`, message: 'must not carry credentials (the signature authenticates runledger)' };
    const bad = (w.kinds ?? []).findIndex((k) => !NOTIFICATION_KINDS.includes(k));
    if (bad >= 0) return { field: `webhooks[${i}].kinds[${bad}]`, message: `one of ${NOTIFICATION_KINDS.join(', ')}` };
  }
  return null;
};

/** Delivery attempts before a delivery is given up (`failed`). */
export const MAX_DELIVERY_ATTEMPTS = 12;

/** Wait before attempt `attempt + 1` after `attempt` failed (ms): 1 s doubling, at most 5 min. */
export const retryDelayMs = (attempt: number): number => Math.min(1000 * 2 ** Math.max(0, attempt - 1), 300_000);
