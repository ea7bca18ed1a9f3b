import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { clientAction } from '../client/client-command';
import { UsageError } from '../client/client-errors';
import { printError, writeChunk } from '../client/output';

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

/**
 * `runledger export <sessionId> [--format jsonl] [--output FILE]`: streams `GET /sessions/:id/export` (NDJSON, one
 * `{streamId, revision, globalPosition, eventId, type, dataText, metadataText, hash, prevHash}` per line) byte for
 * byte to stdout or FILE; with FILE, says on stderr how many events it wrote. `--transcript [--subagent FILE]` streams
 * the session's archived Claude Code transcript instead (`GET /sessions/:id/transcript`), the original JSONL byte for byte.
 */
export const registerExportCommand = (program: Command): void => {
  program
    .command('export')
    .description('the full audit trail of a session with envelopes and hashes (JSONL), for `verify --file`')
    .argument('<sessionId>', 'the session id')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl']).default('jsonl'))
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--transcript', "the session's Claude Code transcript as Claude Code wrote it (from runledger's archive)")
    .option('--subagent <file>', 'with --transcript: one sub-agent transcript by file name (agent-….jsonl)')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, sessionId: string, options: { format: string; output?: string; transcript?: boolean; subagent?: string }) => {
        if (options.subagent !== undefined && !options.transcript) throw new UsageError('--subagent needs --transcript');
        const route = options.transcript
          ? `/sessions/${encodeURIComponent(sessionId)}/transcript${options.subagent !== undefined ? `?subagent=${encodeURIComponent(options.subagent)}` : ''}`
          : `/sessions/${encodeURIComponent(sessionId)}/export`;
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
          if (options.output) {
            out.end();
            await once(out, 'finish');
          }
        }
        if (options.output) printError(`exported ${lines} ${options.transcript ? 'transcript lines' : 'events'} of session ${sessionId} to ${options.output}`);
      }),
    );
};
