import { randomUUID } from 'node:crypto';
import { Migration } from '../database/migrations';
import { SqlDatabase, toNumber } from '../database/sql-database';

/**
 * The notification outbox (docs/ARCHITECTURE.md §4i): one row per notification (its id is the gate that raises it once),
 * one delivery per notification and webhook URL (pending → delivered | failed, with the next attempt's time and a claim
 * so one worker sends it), and one row per delivery attempt (status code or error, duration). Operational state, not a
 * read model: it is not derived from the log (the attempts are facts of the network), and a rebuild leaves it alone.
 */
export const notificationsMigration: Migration = {
  version: 70,
  name: 'notification outbox',
  sql: `
CREATE TABLE rl_notifications (
  notification_id text PRIMARY KEY,
  project_id      text NOT NULL,
  session_id      text,
  kind            text NOT NULL,
  summary         text NOT NULL,
  source          jsonb NOT NULL,
  raised_at       timestamptz NOT NULL
)
--;
CREATE INDEX rl_notifications_project ON rl_notifications (project_id, raised_at DESC)
--;
CREATE TABLE rl_webhook_deliveries (
  delivery_id     text PRIMARY KEY,
  notification_id text NOT NULL REFERENCES rl_notifications (notification_id),
  url             text NOT NULL,
  payload         text NOT NULL,
  status          text NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_at         timestamptz NOT NULL,
  claimed_until   timestamptz,
  last_error      text,
  delivered_at    timestamptz,
  UNIQUE (notification_id, url)
)
--;
CREATE INDEX rl_webhook_deliveries_due ON rl_webhook_deliveries (next_at) WHERE status = 'pending'
--;
CREATE TABLE rl_webhook_attempts (
  delivery_id  text NOT NULL REFERENCES rl_webhook_deliveries (delivery_id),
  attempt      integer NOT NULL,
  at           timestamptz NOT NULL,
  status_code  integer,
  error        text,
  duration_ms  integer NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
)
`,
};

/** A notification as the outbox keeps it. */
export interface StoredNotification {
  notificationId: string;
  projectId: string;
  sessionId: string | null;
  kind: string;
  summary: string;
  source: { streamId: string; revision: number; type: string };
  raisedAt: string;
}

/** One delivery of a notification to one URL, with its attempts. */
export interface DeliveryView {
  deliveryId: string;
  url: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: Array<{ attempt: number; at: string; statusCode: number | null; error: string | null; durationMs: number }>;
  nextAt: string | null;
  deliveredAt: string | null;
  lastError: string | null;
}

/** A delivery claimed for sending: its payload and which attempt this is (1-based). */
export interface ClaimedDelivery {
  deliveryId: string;
  notificationId: string;
  projectId: string;
  kind: string;
  url: string;
  payload: string;
  attempt: number;
}

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());

/** SQL of the outbox (both engines). */
export class NotificationOutbox {
  constructor(private readonly db: SqlDatabase) {}

  /** Stores a notification and a pending delivery per URL, in one transaction; false (nothing written) when the id is already stored. */
  async add(n: StoredNotification, deliveries: Array<{ url: string; payload: string }>): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO rl_notifications (notification_id, project_id, session_id, kind, summary, source, raised_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) ON CONFLICT (notification_id) DO NOTHING RETURNING notification_id`,
        [n.notificationId, n.projectId, n.sessionId, n.kind, n.summary, JSON.stringify(n.source), n.raisedAt],
      );
      if (inserted.rows.length === 0) return false;
      for (const d of deliveries) {
        await tx.query(
          `INSERT INTO rl_webhook_deliveries (delivery_id, notification_id, url, payload, status, next_at) VALUES ($1, $2, $3, $4, 'pending', $5)
           ON CONFLICT (notification_id, url) DO NOTHING`,
          [randomUUID(), n.notificationId, d.url, d.payload, n.raisedAt],
        );
      }
      return true;
    });
  }

  /**
   * Claims up to `limit` pending deliveries due at `now` for `claimMs` (a claim another worker holds is skipped; one that
   * lapsed, a worker that died mid-send, is taken again) and counts the attempt being made.
   */
  async claimDue(now: Date, limit: number, claimMs: number): Promise<ClaimedDelivery[]> {
    const { rows } = await this.db.query<{ delivery_id: string; notification_id: string; project_id: string; kind: string; url: string; payload: string; attempts: number }>(
      `UPDATE rl_webhook_deliveries d SET claimed_until = $2::timestamptz + ($3 || ' milliseconds')::interval, attempts = d.attempts + 1
       FROM rl_notifications n
       WHERE n.notification_id = d.notification_id AND d.delivery_id IN (
         SELECT delivery_id FROM rl_webhook_deliveries
         WHERE status = 'pending' AND next_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2)
         ORDER BY next_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING d.delivery_id, d.notification_id, n.project_id, n.kind, d.url, d.payload, d.attempts`,
      [limit, now.toISOString(), String(claimMs)],
    );
    return rows.map((r) => ({ deliveryId: r.delivery_id, notificationId: r.notification_id, projectId: r.project_id, kind: r.kind, url: r.url, payload: r.payload, attempt: toNumber(r.attempts) }));
  }

  /** Records one attempt and moves the delivery on: delivered, failed for good, or pending again at `retryAt`. */
  async recordAttempt(
    d: ClaimedDelivery,
    result: { at: Date; statusCode: number | null; error: string | null; durationMs: number },
    next: { status: 'delivered' | 'failed' | 'pending'; retryAt?: Date },
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO rl_webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (delivery_id, attempt) DO NOTHING`,
        [d.deliveryId, d.attempt, result.at.toISOString(), result.statusCode, result.error, Math.round(result.durationMs)],
      );
      await tx.query(
        `UPDATE rl_webhook_deliveries SET status = $2, claimed_until = NULL, last_error = $3, next_at = COALESCE($4, next_at),
           delivered_at = CASE WHEN $2 = 'delivered' THEN $5::timestamptz ELSE delivered_at END
         WHERE delivery_id = $1`,
        [d.deliveryId, next.status, result.error ?? (result.statusCode !== null && next.status !== 'delivered' ? `HTTP ${result.statusCode}` : null), next.retryAt?.toISOString() ?? null, result.at.toISOString()],
      );
    });
  }

  /** Notifications newest first (a project's, a session's, or all), each with its deliveries and their attempts. */
  async list(filter: { projectId?: string; sessionId?: string; limit: number }): Promise<Array<StoredNotification & { deliveries: DeliveryView[] }>> {
    const { rows } = await this.db.query<Record<string, unknown>>(
      `SELECT * FROM rl_notifications WHERE ($1::text IS NULL OR project_id = $1) AND ($2::text IS NULL OR session_id = $2)
       ORDER BY raised_at DESC, notification_id LIMIT $3`,
      [filter.projectId ?? null, filter.sessionId ?? null, filter.limit],
    );
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.notification_id as string);
    const deliveries = await this.db.query<Record<string, unknown>>(
      `SELECT d.*, COALESCE((SELECT json_agg(json_build_object('attempt', a.attempt, 'at', a.at, 'statusCode', a.status_code, 'error', a.error, 'durationMs', a.duration_ms) ORDER BY a.attempt)
         FROM rl_webhook_attempts a WHERE a.delivery_id = d.delivery_id), '[]'::json) AS attempt_rows
       FROM rl_webhook_deliveries d WHERE d.notification_id = ANY($1::text[]) ORDER BY d.url`,
      [ids],
    );
    const byNotification = new Map<string, DeliveryView[]>();
    for (const d of deliveries.rows) {
      const list = byNotification.get(d.notification_id as string) ?? [];
      const attempts = (typeof d.attempt_rows === 'string' ? JSON.parse(d.attempt_rows) : d.attempt_rows) as DeliveryView['attempts'];
      list.push({
        deliveryId: d.delivery_id as string, url: d.url as string, status: d.status as DeliveryView['status'],
        attempts: attempts.map((a) => ({ ...a, at: iso(a.at)! })), nextAt: d.status === 'pending' ? iso(d.next_at) : null,
        deliveredAt: iso(d.delivered_at), lastError: (d.last_error as string | null) ?? null,
      });
      byNotification.set(d.notification_id as string, list);
    }
    return rows.map((r) => ({
      notificationId: r.notification_id as string, projectId: r.project_id as string, sessionId: (r.session_id as string | null) ?? null, kind: r.kind as string,
      summary: r.summary as string, source: (typeof r.source === 'string' ? JSON.parse(r.source) : r.source) as StoredNotification['source'],
      raisedAt: iso(r.raised_at)!, deliveries: byNotification.get(r.notification_id as string) ?? [],
    }));
  }
}
