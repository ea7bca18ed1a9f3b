import { useState } from 'preact/hooks';
import { HttpError, request } from '../api/http';

/** The fragment parameter carrying a one-time login code (`runledger ui` opens `…/#login=<code>`). */
export const LOGIN_FRAGMENT = 'login';

/** The login code in this page's fragment, if any; the fragment is removed from the address bar and history at once. */
export const takeLoginCode = (): string | undefined => {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const code = fragment.get(LOGIN_FRAGMENT) ?? undefined;
  if (code !== undefined) history.replaceState(history.state, '', window.location.pathname + window.location.search);
  return code;
};

/** Exchanges the token or a login code for the HttpOnly cookie (`POST /ui/session`); the page keeps neither. */
export const logIn = (credentials: { token: string } | { code: string }): Promise<unknown> => request('POST', '/ui/session', credentials);

/** Clears the login cookie (`DELETE /ui/session`). */
export const logOut = (): Promise<unknown> => request('DELETE', '/ui/session');

/**
 * The login form: the API token is typed once, exchanged for an HttpOnly cookie, and dropped (never stored by the page).
 * `notice` explains why the form is shown (an expired login, a refused code).
 */
export const LoginPage = ({ onLoggedIn, notice }: { onLoggedIn: () => void; notice?: string }) => {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await logIn({ token: token.trim() });
      setToken('');
      onLoggedIn();
    } catch (e) {
      setError(e instanceof HttpError && e.status === 401 ? 'That token was refused.' : `Login failed: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <h1>runledger</h1>
      <p>Enter the API token or your personal token once: it is exchanged for a login cookie and not kept by this page.</p>
      <p class="muted">
        It is <code>RUNLEDGER_TOKEN</code>, or the file <code>.runledger/token</code>. Or run <code>npx runledger ui</code>, which opens this page logged in.
      </p>
      {notice && <p class="notice" role="status">{notice}</p>}
      <form onSubmit={submit}>
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autoComplete="current-password" required value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled={busy || token.trim() === ''}>{busy ? 'Logging in…' : 'Log in'}</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
    </main>
  );
};
