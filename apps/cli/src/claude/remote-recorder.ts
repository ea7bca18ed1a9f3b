import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { RemoteRecording } from '@runledger/application/agents/hook-runner';
import { executablePath } from '@runledger/infra/runtime/executable-path';
import { ClientConfig, resolveClientConfig } from '../client/client-config';
import { UsageError } from '../client/client-errors';

/*
 * The remote flight recorder's side of `runledger <agent> install-hooks --server <url> [--token-file F] [--ca-file PEM]`
 * (docs/ARCHITECTURE.md §4f): this machine's agent sessions recorded into a team server that cannot read this disk.
 */

/** The options that make an installation remote: the team server, the person's token file, the server's private CA. */
export interface RemoteOptions {
  server?: string;
  tokenFile?: string;
  caFile?: string;
}

/**
 * The first line of a person's token file, refusing a file others can read or write (mode beyond 0600: UsageError
 * naming `--token-file` and its mode), a missing or empty one. The token is read here and by the hook at each run,
 * never written into a settings file.
 */
export const readTokenFile = (file: string): string => {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (error) {
    throw new UsageError(`--token-file ${file} cannot be read: ${(error as Error).message}`);
  }
  if (mode & 0o077) throw new UsageError(`--token-file ${file} has mode ${mode.toString(8).padStart(4, '0')}: others may read the token; chmod 600 it first`);
  const token = readFileSync(file, 'utf8').split('\n')[0].trim();
  if (!token) throw new UsageError(`--token-file ${file} is empty: put the token \`runledger user add\` printed on its first line`);
  return token;
};

/**
 * The client of the team server of a remote installation: `--server` (an http(s) URL), the token of `--token-file`
 * (readTokenFile; without it RUNLEDGER_TOKEN, which the hooks then read from the agent's environment) and `--ca-file`
 * (else RUNLEDGER_CA_FILE), all resolved against `cwd`. Throws UsageError for a bad URL or token file, or when neither
 * token is given.
 */
export const remoteClientConfig = (options: RemoteOptions & { server: string }, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): ClientConfig => {
  const caFile = options.caFile ?? env.RUNLEDGER_CA_FILE;
  const base = resolveClientConfig({ RUNLEDGER_URL: options.server, ...(caFile ? { RUNLEDGER_CA_FILE: caFile } : {}), RUNLEDGER_TOKEN: env.RUNLEDGER_TOKEN }, cwd);
  if (options.tokenFile) {
    const file = path.resolve(cwd, options.tokenFile);
    return { ...base, token: readTokenFile(file), tokenSource: file };
  }
  if (!env.RUNLEDGER_TOKEN) throw new UsageError('--server needs --token-file <a file holding your personal token> (runledger user add prints one), or RUNLEDGER_TOKEN in the environment the agent runs in');
  return base;
};

/** What the installed hooks name (hookCommand's `--project`, `--token-file`, `--ca-file`): absolute paths. */
export const remoteRecording = (projectId: string, config: ClientConfig): RemoteRecording => ({
  projectId,
  ...(config.tokenSource !== 'RUNLEDGER_TOKEN' && config.tokenSource !== 'none' ? { tokenFile: config.tokenSource } : {}),
  ...(config.caFile ? { caFile: config.caFile } : {}),
});

/** Throws UsageError unless this machine can run the remote hook: bash runs the shim and curl ships the transcript (docs/ARCHITECTURE.md §4f). */
export const requireRemoteRunner = (env: NodeJS.ProcessEnv = process.env): void => {
  const missing = ['bash', 'curl'].filter((name) => !executablePath(name, env));
  if (missing.length) throw new UsageError(`a remote flight recorder runs bin/runledger-hook, which needs ${missing.join(' and ')} on PATH: install ${missing.join(' and ')} first`);
};

/** Where installed hooks record, read back from one hook command (hookCommand's `--url` and `--project`): status shows it. */
export interface RecordsInto {
  url: string;
  /** The team server's project: a remote flight recorder. */
  project?: string;
}

/** The `--url` and `--project` of an installed hook command, or undefined when the command names no URL. */
export const recordsInto = (command: string): RecordsInto | undefined => {
  const arg = (name: string): string | undefined => new RegExp(`(?:^|\\s)${name} '?([^\\s']+)'?`).exec(command)?.[1];
  const url = arg('--url');
  if (!url) return undefined;
  const project = arg('--project');
  return { url, ...(project ? { project } : {}) };
};
