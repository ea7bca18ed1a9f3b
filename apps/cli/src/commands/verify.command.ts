import { sessionStreamName } from '@runledger/domain';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { ChainLink, findBrokenLink } from '@runledger/infra/event-store/hash-chain';
import { describeBundleProblem, verifyAuditBundle } from '@runledger/infra/audit-bundle/bundle-verifier';
import { AuditKeyError, loadEd25519PublicKey } from '@runledger/infra/audit-bundle/ed25519-keys';
import { VerifyResponse, VerifyResult } from '../client/api-types';
import { clientAction } from '../client/client-command';
import { EXIT, FailureError, UsageError } from '../client/client-errors';
import { printJson, printLine } from '../client/output';

const STRING_FIELDS = ['streamId', 'eventId', 'type', 'dataText', 'metadataText', 'hash', 'prevHash'] as const;

/** Parses one export line into a ChainLink (with its globalPosition when the line has one); throws FailureError naming the line when it is not an export record. */
export const parseExportLine = (text: string, lineNo: number, file: string): ChainLink & { globalPosition?: number } => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FailureError(`${file} line ${lineNo} is not valid JSON: the export is damaged`);
  }
  const v = value as Record<string, unknown>;
  const bad = STRING_FIELDS.filter((k) => typeof v?.[k] !== 'string');
  if (typeof v?.revision !== 'number') bad.push('revision' as never);
  if (bad.length) throw new FailureError(`${file} line ${lineNo} is not an export record (missing or wrong ${bad.join(', ')})`);
  return {
    streamId: v.streamId as string, revision: v.revision as number, eventId: v.eventId as string, type: v.type as string,
    dataText: v.dataText as string, metadataText: v.metadataText as string, hash: v.hash as string, prevHash: v.prevHash as string,
    ...(typeof v.globalPosition === 'number' ? { globalPosition: v.globalPosition } : {}),
  };
};

/**
 * Verifies an export file offline (no server): streams its lines, groups them by stream (in file order) and checks
 * each chain with `findBrokenLink` (revisions from 0 without gaps, prevHash links, sha256 over the exact stored texts).
 * Throws UsageError when the file cannot be read, FailureError when a line is not an export record.
 */
export const verifyExportFile = async (file: string): Promise<VerifyResult[]> => {
  try {
    await access(file);
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const streams = new Map<string, ChainLink[]>();
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const text of lines) {
    lineNo++;
    if (text.trim() === '') continue;
    if (lineNo === 1 && text.startsWith('{"kind":"signature"')) throw new UsageError(`${file} is a signed audit bundle: verify it with --public-key <ed25519 public key PEM>`);
    const link = parseExportLine(text, lineNo, file);
    const chain = streams.get(link.streamId) ?? [];
    chain.push(link);
    streams.set(link.streamId, chain);
  }
  return [...streams].map(([streamId, links]) => {
    const verdict = findBrokenLink(links);
    return verdict.brokenAt === null
      ? { ok: true, streamId, events: verdict.count }
      : { ok: false, streamId, events: links.length, brokenAt: verdict.brokenAt, reason: verdict.reason };
  });
};

/** Prints the verdicts: each broken stream with its revision and reason (each stream when there are few), then a total. */
const report = (results: VerifyResult[]): void => {
  const broken = results.filter((r) => !r.ok);
  for (const r of results) {
    if (!r.ok) printLine(`BROKEN  ${r.streamId}  at revision ${r.brokenAt ?? '?'}: ${r.reason ?? 'unknown reason'} (${r.events} events)`);
    else if (results.length <= 20) printLine(`ok      ${r.streamId}  ${r.events} events, chain intact`);
  }
  const events = results.reduce((n, r) => n + r.events, 0);
  printLine(`${results.length} stream(s), ${events} event(s): ${broken.length === 0 ? 'all hash chains intact' : `${broken.length} broken`}`);
};

/**
 * Verifies a signed audit bundle offline with the public key alone (docs/ARCHITECTURE.md §4h) and prints the verdict
 * (every problem with its place, or the manifest's summary); returns exit 1 when anything is wrong, 0 when it verifies.
 * Throws UsageError when the file or the key cannot be read or the key is not an ed25519 public key.
 */
const verifyBundleFile = async (file: string, keyFile: string, json: boolean): Promise<number> => {
  const key = await loadEd25519PublicKey(keyFile).catch((error: unknown) => {
    throw error instanceof AuditKeyError ? new UsageError(error.message) : error;
  });
  try {
    await access(file);
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const verdict = await verifyAuditBundle(createReadStream(file), key);
  const m = verdict.manifest;
  const summary = m && {
    format: m.format, runledgerVersion: m.runledgerVersion, serverVersion: m.serverVersion, createdAt: m.createdAt, scope: m.scope,
    totals: m.totals, timeRange: m.timeRange, signer: m.signer,
    streams: m.streams.map((s) => ({ streamId: s.streamId, events: s.events, rootHash: s.rootHash, headHash: s.headHash })),
  };
  if (json) printJson({ ok: verdict.ok, signatureValid: verdict.signatureValid, events: verdict.events, manifest: summary, problems: verdict.problems });
  else if (verdict.ok && m) {
    printLine(`ok  signed bundle ${file}: signature valid (${m.signer.publicKeyFingerprint})`);
    printLine(`    ${m.totals.events} event(s) in ${m.totals.streams} stream(s), every hash chain intact and equal to the manifest's heads`);
    printLine(`    exported by runledger ${m.runledgerVersion} at ${m.createdAt}${m.timeRange ? `; events from ${m.timeRange.from} to ${m.timeRange.to}` : ''}`);
  } else {
    for (const p of verdict.problems) printLine(`TAMPERED  ${describeBundleProblem(p)}`);
    printLine(`${file}: refused (${verdict.problems.length} problem(s)${verdict.signatureValid ? '' : ', signature not valid'})`);
  }
  return verdict.ok ? EXIT.ok : EXIT.failure;
};

/**
 * `runledger verify [<sessionId>] [--file FILE [--public-key KEY]] [--json]`: checks hash chains (offline on an export
 * with --file, else `GET /verify`); with --public-key, a signed audit bundle (§4h): signature, manifest and chains,
 * offline. Exit 1 when a chain is broken, a bundle is refused (or the file holds no events), 0 when all is intact.
 */
export const registerVerifyCommand = (program: Command): void => {
  program
    .command('verify')
    .description('check the hash chains: of an export file offline (--file), else of one session or every stream on the server')
    .argument('[sessionId]', 'only this session (default: every stream)')
    .option('--file <file>', 'verify an export (`runledger export`) offline, no server needed')
    .option('--public-key <publicKey>', 'with --file: verify a signed audit bundle with this ed25519 public key (PEM)')
    .option('--json', 'print {results: [{ok, streamId, events, brokenAt?, reason?}]} (a bundle: {ok, signatureValid, events, manifest, problems})')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, sessionId: string | undefined, options: { file?: string; json?: boolean; publicKey?: string }) => {
        if (options.publicKey !== undefined) {
          if (!options.file) throw new UsageError('--public-key verifies a bundle file: give --file');
          if (sessionId) throw new UsageError('a bundle is verified whole: drop the session id');
          return verifyBundleFile(options.file, options.publicKey, options.json === true);
        }
        let results: VerifyResult[];
        if (options.file) {
          results = await verifyExportFile(options.file);
          if (sessionId) {
            results = results.filter((r) => r.streamId === sessionStreamName(sessionId));
            if (results.length === 0) throw new FailureError(`${options.file} holds no events of session ${sessionId}`);
          }
        } else {
          results = (await client.get<VerifyResponse>('/verify', { sessionId })).results;
        }
        if (options.json) printJson({ results });
        else report(results);
        if (results.length === 0 && options.file) {
          if (!options.json) printLine(`${options.file} holds no events: nothing was verified`);
          return EXIT.failure;
        }
        return results.every((r) => r.ok) ? EXIT.ok : EXIT.failure;
      }),
    );
};
