import { QueryClient, QueryClientProvider } from '@tanstack/preact-query';
import { useEffect, useState } from 'preact/hooks';
import { Link, Route, Switch } from 'wouter-preact';
import { get, HttpError, notifyUnauthorized, onUnauthorized } from './api/http';
import { LiveFeed, LiveStatus } from './api/live-feed';
import { liveInvalidator, useHealth } from './api/queries';
import { LoginPage, logIn, logOut, takeLoginCode } from './auth/login';
import { SessionPage } from './pages/session-page';
import { SessionsPage } from './pages/sessions-page';

/** Client errors (4xx) are answers, not glitches: never retried. */
const retry = (count: number, error: unknown): boolean => !(error instanceof HttpError && error.status < 500) && count < 2;

const queryClient = new QueryClient({ defaultOptions: { queries: { retry, refetchOnWindowFocus: false, staleTime: 5_000 } } });
const feed = new LiveFeed();

type Auth = { state: 'checking' } | { state: 'in' } | { state: 'out'; notice?: string };

const LIVE_TEXT: Record<LiveStatus, string> = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', stopped: 'offline' };

const LiveIndicator = () => {
  const [status, setStatus] = useState<LiveStatus>(feed.status);
  useEffect(() => feed.onStatus(setStatus), []);
  return (
    <span class={`live live-${status}`} role="status" aria-live="polite" data-testid="live-status" title="updates from the live event feed">
      <span aria-hidden="true" class="dot" /> {LIVE_TEXT[status]}
    </span>
  );
};

/** Starts the live feed after the log's head position (read before any page data), and stops it on leave. */
const LiveUpdates = ({ children }: { children: preact.ComponentChildren }) => {
  const health = useHealth();
  const head = health.data?.headPosition;
  useEffect(() => {
    if (head === undefined) return;
    const unsubscribe = feed.subscribe(liveInvalidator(queryClient));
    feed.start(head, notifyUnauthorized);
    return () => {
      unsubscribe();
      feed.stop();
    };
  }, [head]);
  if (health.error) return <p class="error" role="alert">The server does not answer: {(health.error as Error).message}</p>;
  if (head === undefined) return <p class="muted">Connecting…</p>;
  return <>{children}</>;
};

const Shell = ({ onLogOut }: { onLogOut: () => void }) => (
  <>
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <Link href="/" class="brand">runledger</Link>
      <nav aria-label="main">
        <Link href="/">Sessions</Link>
        <a href="/api/docs">API</a>
      </nav>
      <LiveIndicator />
      <button type="button" class="link" onClick={onLogOut}>Log out</button>
    </header>
    <main id="main" tabIndex={-1}>
      <LiveUpdates>
        <Switch>
          <Route path="/" component={SessionsPage} />
          <Route path="/sessions/:id">{(params: { id: string }) => <SessionPage id={decodeURIComponent(params.id)} />}</Route>
          <Route>
            <h1>Not found</h1>
            <p><Link href="/">All sessions</Link></p>
          </Route>
        </Switch>
      </LiveUpdates>
    </main>
  </>
);

/**
 * The web timeline: logs in (a one-time code from the URL's fragment, else the token form), then the pages, kept up to
 * date by the live feed. A 401 anywhere (expired or refused cookie) returns to the form.
 */
export const App = () => {
  const [auth, setAuth] = useState<Auth>({ state: 'checking' });
  useEffect(() => {
    const code = takeLoginCode();
    const check = async () => {
      try {
        if (code !== undefined) await logIn({ code });
        await get('/ui/session');
        setAuth({ state: 'in' });
      } catch (error) {
        const refusedCode = code !== undefined && error instanceof HttpError && error.status === 401;
        setAuth({ state: 'out', notice: refusedCode ? `The login link was refused (${error.message}). Enter the token instead.` : undefined });
      }
    };
    void check();
    return onUnauthorized(() => {
      feed.stop();
      setAuth({ state: 'out', notice: 'Your login has expired or was refused: log in again.' });
    });
  }, []);
  if (auth.state === 'checking') return <p class="muted">Loading…</p>;
  if (auth.state === 'out') return <LoginPage notice={auth.notice} onLoggedIn={() => setAuth({ state: 'in' })} />;
  const leave = async () => {
    feed.stop();
    await logOut().catch(() => undefined);
    queryClient.clear();
    setAuth({ state: 'out' });
  };
  return (
    <QueryClientProvider client={queryClient}>
      <Shell onLogOut={leave} />
    </QueryClientProvider>
  );
};
