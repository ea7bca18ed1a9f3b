import { keepPreviousData, QueryClient, useQuery } from '@tanstack/preact-query';
import { parseStreamName } from '@runledger/domain/shared/stream-names';
import { get } from './http';
import type { AuditEvent, FeedEvent, Health, NotificationView, ProjectSummary, SessionSnapshot, StateAt, ToolCallView, VerifyResult } from './types';

/** Largest page of `GET /sessions/:id/events` (the API's limit). */
export const EVENTS_PAGE = 1000;
/** How often a snapshot that lags the log is asked for again (ms): read models catch up shortly after a commit. */
export const LAGGING_SNAPSHOT_REFETCH_MS = 250;

/** Query keys: every key of one session starts with `['session', id]`, so one invalidation refreshes its page. */
export const keys = {
  health: ['health'] as const,
  projects: ['projects'] as const,
  sessions: ['sessions'] as const,
  notifications: ['notifications'] as const,
  session: (id: string) => ['session', id] as const,
  toolCalls: (id: string) => ['session', id, 'tool-calls'] as const,
  events: (id: string) => ['session', id, 'events'] as const,
  stateAt: (id: string, at: number) => ['session', id, 'state', at] as const,
  callDiff: (id: string, callId: string) => ['session', id, 'diff', callId] as const,
};

/** Highest revision of each session stream seen on the live feed: a snapshot below it is a projection still catching up. */
const seenRevisions = new Map<string, number>();

/** The highest revision of `sessionId`'s stream the live feed delivered (-1 when none). */
export const seenRevision = (sessionId: string): number => seenRevisions.get(sessionId) ?? -1;

/**
 * Applies one live event to the cache: a session event refreshes that session's page and the session list, a project
 * event the project and session lists. Refreshes are batched per animation frame. Replayed states (`state?at=N`) are
 * immutable and never refreshed.
 */
export const liveInvalidator = (client: QueryClient) => {
  const pending = new Set<string>();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    for (const key of pending) {
      void client.invalidateQueries({ queryKey: JSON.parse(key) as string[], predicate: (query) => query.queryKey[2] !== 'state' });
    }
    pending.clear();
  };
  return (event: FeedEvent): void => {
    const stream = parseStreamName(event.streamId);
    if (stream.kind === 'session') {
      const id = stream.sessionId;
      seenRevisions.set(id, Math.max(seenRevision(id), event.revision));
      pending.add(JSON.stringify(keys.session(id)));
      pending.add(JSON.stringify(keys.sessions));
    } else if (stream.kind === 'project') {
      pending.add(JSON.stringify(keys.projects));
      pending.add(JSON.stringify(keys.sessions));
      pending.add(JSON.stringify(keys.notifications)); // NotificationRaised lives on the project stream
    } else return;
    if (!scheduled) {
      scheduled = true;
      setTimeout(flush, 16);
    }
  };
};

export const useHealth = () => useQuery({ queryKey: keys.health, queryFn: () => get<Health>('/health'), staleTime: Infinity });

export const useProjects = () => useQuery({ queryKey: keys.projects, queryFn: async () => (await get<{ projects: ProjectSummary[] }>('/projects')).projects });

export const useSessions = () =>
  useQuery({
    queryKey: keys.sessions,
    queryFn: async () => (await get<{ sessions: SessionSnapshot[] }>('/sessions')).sessions,
    refetchInterval: (query) => (query.state.data?.some((s) => s.revision < seenRevision(s.id)) ? LAGGING_SNAPSHOT_REFETCH_MS : false),
  });

/** The latest notifications (`GET /notifications`), refreshed when the live feed shows a project event (NotificationRaised). */
export const useNotifications = () =>
  useQuery({ queryKey: keys.notifications, queryFn: async () => (await get<{ notifications: NotificationView[] }>('/notifications?limit=200')).notifications });

export const useSession = (id: string) =>
  useQuery({
    queryKey: keys.session(id),
    queryFn: () => get<SessionSnapshot>(`/sessions/${encodeURIComponent(id)}`),
    refetchInterval: (query) => ((query.state.data?.revision ?? Infinity) < seenRevision(id) ? LAGGING_SNAPSHOT_REFETCH_MS : false),
  });

export const useToolCalls = (id: string) =>
  useQuery({
    queryKey: keys.toolCalls(id),
    queryFn: async () => (await get<{ toolCalls: ToolCallView[] }>(`/sessions/${encodeURIComponent(id)}/tool-calls`)).toolCalls,
  });

/** Every event of the session's stream, page by page. */
export const fetchAllEvents = async (id: string): Promise<AuditEvent[]> => {
  const all: AuditEvent[] = [];
  for (let from = 0; ; ) {
    const page = await get<{ events: AuditEvent[]; nextRevision: number }>(`/sessions/${encodeURIComponent(id)}/events?from=${from}&limit=${EVENTS_PAGE}`);
    all.push(...page.events);
    if (page.events.length < EVENTS_PAGE) return all;
    from = page.nextRevision;
  }
};

export const useSessionEvents = (id: string) => useQuery({ queryKey: keys.events(id), queryFn: () => fetchAllEvents(id) });

/** `GET /sessions/:id/state?at=N` (a negative `at` is disabled: there is nothing before revision 0). */
export const useStateAt = (id: string, at: number) =>
  useQuery({
    queryKey: keys.stateAt(id, at),
    queryFn: () => get<StateAt>(`/sessions/${encodeURIComponent(id)}/state?at=${at}`),
    enabled: at >= 0,
    staleTime: Infinity,
    placeholderData: keepPreviousData,
  });

/** What a call did to the files (docs/ARCHITECTURE.md §4e): the changed paths and the patch. */
export interface CallDiff {
  before: string;
  after: string;
  files: Array<{ path: string; status: string; additions: number | null; deletions: number | null }>;
  patch: string;
  truncated: boolean;
}

/** `GET /sessions/:id/tool-calls/:callId/diff`; a call without snapshots (404) is `null`, not an error. */
export const useCallDiff = (id: string, callId: string) =>
  useQuery({
    queryKey: keys.callDiff(id, callId),
    queryFn: async () => {
      try {
        return await get<CallDiff>(`/sessions/${encodeURIComponent(id)}/tool-calls/${encodeURIComponent(callId)}/diff`);
      } catch (error) {
        if ((error as { status?: number }).status === 404 || (error as { status?: number }).status === 409) return null;
        throw error;
      }
    },
  });

/** `GET /verify?sessionId=`: the session stream's hash-chain verdict. */
export const verifySession = async (id: string): Promise<VerifyResult> =>
  (await get<{ results: VerifyResult[] }>(`/verify?sessionId=${encodeURIComponent(id)}`)).results[0];
