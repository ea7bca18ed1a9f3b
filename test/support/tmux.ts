import { execFileSync } from 'node:child_process';

/** Runs tmux on an explicit socket (each test installation has its own server, never another one's) and returns its stdout; throws on failure. */
export const tmux = (socket: string, ...args: string[]): string =>
  execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Names of the sessions on the tmux server at `socket`; [] when no server runs there. */
export const tmuxSessions = (socket: string): string[] => {
  try {
    return tmux(socket, 'list-sessions', '-F', '#{session_name}').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

/** Ends the tmux server at `socket` if one runs (test clean-up). */
export const killTmuxServer = (socket: string): void => {
  if (tmuxSessions(socket).length > 0) tmux(socket, 'kill-server');
};
