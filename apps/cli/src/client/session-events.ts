import { ApiClient } from './api-client';
import { AuditEvent, EventsPage } from './api-types';

/** Largest page the server gives (`GET /sessions/:id/events?limit=`). */
export const EVENTS_PAGE_LIMIT = 1000;

/**
 * Yields a session's events in revision order, paging `GET /sessions/:id/events` from `from` until a page is shorter
 * than the limit. Throws ApiError (404 unknown session) / ServerUnreachableError.
 */
export async function* sessionEvents(client: ApiClient, sessionId: string, from = 0, limit = EVENTS_PAGE_LIMIT): AsyncGenerator<AuditEvent> {
  let next = from;
  for (;;) {
    const page = await client.get<EventsPage>(`/sessions/${encodeURIComponent(sessionId)}/events`, { from: next, limit });
    for (const event of page.events) yield event;
    if (page.events.length < limit) return;
    next = page.nextRevision;
  }
}
