import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, Option } from 'commander';
import { AuditBundleBuilder, BundleOrderError } from '@runledger/infra/audit-bundle/audit-bundle';
import { AuditKeyError, loadEd25519PrivateKey } from '@runledger/infra/audit-bundle/ed25519-keys';
import { readVersion } from '@runledger/infra/config/version';
import { ApiClient } from '../client/api-client';
import { clientAction } from '../client/client-command';
import { FailureError, UsageError } from '../client/client-errors';
import { printError, writeChunk } from '../client/output';
import { parseExportLine } from './verify.command';

/** Opens `file` for writing; rejects with UsageError when it cannot be created (missing directory, no permission). */
const openOutput = async (file: string): Promise<Writable> => {
  const out = createWriteStream(file);
  try {
    await once(out, 'open');
  } catch (error) {
    throw new UsageError(`cannot write ${file}: ${(error as Error).message}`);
  }
  return out;
};

const closeOutput = async (out: Writable): Promise<void> => {
  out.end();
  await once(out, 'finish');
};

/** The lines (without `\n`) of a streamed response body, split on `\n` only. */
async function* bodyLines(response: Response): AsyncIterable<string> {
  if (!response.body) return;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let rest = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    rest += decoder.decode(chunk, { stream: true });
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
  rest += decoder.decode();
  if (rest !== '') yield rest;
}

/**
 * Writes a signed audit bundle (docs/ARCHITECTURE.md §4h) of `route`'s export to `output` (stdout when absent): the
 * events go through a private temporary file while the manifest is built, then signature, manifest and events are
 * written. Returns the event and stream counts. Throws FailureError when the server's export is not a whole one.
 */
const writeSignedBundle = async (
  client: ApiClient, route: string, scope: { sessionId: string } | { all: true }, key: KeyObject, output: Writable,
): Promise<{ events: number; streams: number }> => {
  const serverVersion = await client.get<{ version?: string }>('/health').then((h) => h.version ?? null, () => null);
  const builder = new AuditBundleBuilder({ runledgerVersion: readVersion(), serverVersion, createdAt: new Date().toISOString(), scope });
  const dir = mkdtempSync(join(tmpdir(), 'runledger-bundle-'));
  try {
    const eventsFile = join(dir, 'events.jsonl');
    const events = createWriteStream(eventsFile, { mode: 0o600 });
    await once(events, 'open');
    const response = await client.request('GET', route, { headers: { accept: 'application/x-ndjson' } });
    let lineNo = 0;
    for await (const text of bodyLines(response)) {
      lineNo++;
      if (text === '') continue;
      const link = parseExportLine(text, lineNo, route);
      if (link.globalPosition === undefined) throw new FailureError(`${route} line ${lineNo} has no globalPosition`);
      try {
        await writeChunk(events, `${builder.add({ ...link, globalPosition: link.globalPosition })}\n`);
      } catch (error) {
        if (error instanceof BundleOrderError) throw new FailureError(`the server's export is not whole: ${error.message}`);
        throw error;
      }
    }
    await closeOutput(events);
    const { header, manifest } = builder.finish(key);
    await writeChunk(output, header);
    await pipeline(createReadStream(eventsFile), output, { end: false });
    return { events: manifest.totals.events, streams: manifest.totals.streams };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/**
 * `runledger export <sessionId>|--all [--sign KEY] [--output FILE]`: streams `GET /sessions/:id/export` (or `GET /export`,
 * every stream) as NDJSON, one `{streamId, revision, globalPosition, eventId, type, dataText, metadataText, hash,
 * prevHash}` per line, byte for byte to stdout or FILE. `--sign KEY` (an ed25519 PKCS#8 PEM private key) writes a
 * signed audit bundle instead: a signature line and a manifest line before the events (§4h), for `verify --file F
 * --public-key P`. `--transcript [--subagent FILE]` streams the session's archived Claude Code transcript instead.
 */
export const registerExportCommand = (program: Command): void => {
  program
    .command('export')
    .description('the full audit trail of a session (or every stream) with envelopes and hashes (JSONL), for `verify --file`')
    .argument('[sessionId]', 'the session id (or --all)')
    .option('--all', 'every stream of the log (projects, sessions, users, system)')
    .option('--sign <privateKey>', 'write a signed audit bundle with this ed25519 private key (PEM, `runledger keys generate`)')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl']).default('jsonl'))
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--transcript', "the session's Claude Code transcript as Claude Code wrote it (from runledger's archive)")
    .option('--subagent <file>', 'with --transcript: one sub-agent transcript by file name (agent-….jsonl)')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, sessionId: string | undefined, options: { format: string; output?: string; transcript?: boolean; subagent?: string; all?: boolean; sign?: string }) => {
        if (options.subagent !== undefined && !options.transcript) throw new UsageError('--subagent needs --transcript');
        if ((sessionId === undefined) === !options.all) throw new UsageError('give a session id or --all (one of them)');
        if (options.transcript && (options.all || options.sign)) throw new UsageError('--transcript takes one session id, without --all or --sign');
        const route = options.all
          ? '/export'
          : options.transcript
            ? `/sessions/${encodeURIComponent(sessionId!)}/transcript${options.subagent !== undefined ? `?subagent=${encodeURIComponent(options.subagent)}` : ''}`
            : `/sessions/${encodeURIComponent(sessionId!)}/export`;
        const what = options.all ? 'every stream' : `session ${sessionId}`;
        if (options.sign !== undefined) {
          const key = await loadEd25519PrivateKey(options.sign).catch((error: unknown) => {
            throw error instanceof AuditKeyError ? new UsageError(error.message) : error;
          });
          const out = options.output ? await openOutput(options.output) : process.stdout;
          try {
            const scope = options.all ? ({ all: true } as const) : { sessionId: sessionId! };
            const { events, streams } = await writeSignedBundle(client, route, scope, key, out);
            printError(`signed bundle of ${what}: ${events} events in ${streams} stream(s)${options.output ? ` written to ${options.output}` : ''}`);
          } finally {
            if (options.output) await closeOutput(out);
          }
          return;
        }
        const response = await client.request('GET', route, { headers: { accept: 'application/x-ndjson' } });
        const out = options.output ? await openOutput(options.output) : process.stdout;
        let lines = 0;
        try {
          if (response.body) {
            for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
              for (const byte of chunk) if (byte === 0x0a) lines++;
              await writeChunk(out, chunk);
            }
          }
        } finally {
          if (options.output) await closeOutput(out);
        }
        if (options.output) printError(`exported ${lines} ${options.transcript ? 'transcript lines' : 'events'} of ${what} to ${options.output}`);
      }),
    );
};
