import { createHash, KeyObject, sign } from 'node:crypto';
import { ChainLink } from '../event-store/hash-chain';
import { publicKeyFingerprint } from './ed25519-keys';

/**
 * A signed audit bundle (docs/ARCHITECTURE.md §4h), one UTF-8 file, every line ending in `\n`:
 *   line 1  the signature: `{kind: "signature", algorithm: "ed25519", publicKeyFingerprint, manifestSha256, signature}`
 *           (`signature`: 128 lowercase hex digits, ed25519 over the exact bytes of line 2 without its newline);
 *   line 2  the manifest (`BundleManifest`, `kind: "manifest"`);
 *   then    one event per line (`BundleEvent`), stream by stream in the manifest's order, each stream from revision 0.
 * Every line is in canonical form (the keys in the order written here, compact JSON), so no byte can change unseen.
 */
export const BUNDLE_FORMAT = 'runledger-audit-bundle/1';

/** One exported event: the exact stored text the hash chain covers, plus its global position. */
export interface BundleEvent extends ChainLink {
  globalPosition: number;
}

/** One stream in a manifest: its event count, chain root (revision 0's hash) and head, and each event's global position. */
export interface BundleStream {
  streamId: string;
  events: number;
  rootHash: string;
  headHash: string;
  headRevision: number;
  positions: number[];
}

/** What a bundle holds, signed: its streams (in file order) with hash-chain roots and heads, counts, the time range of the events' `recordedAt`. */
export interface BundleManifest {
  kind: 'manifest';
  format: typeof BUNDLE_FORMAT;
  runledgerVersion: string;
  serverVersion: string | null;
  createdAt: string;
  scope: { sessionId: string } | { all: true };
  streams: BundleStream[];
  totals: { streams: number; events: number };
  timeRange: { from: string; to: string } | null;
  signer: { algorithm: 'ed25519'; publicKeyFingerprint: string };
}

/** Line 1 of a bundle. */
export interface BundleSignature {
  kind: 'signature';
  algorithm: 'ed25519';
  publicKeyFingerprint: string;
  manifestSha256: string;
  signature: string;
}

/** The canonical line (no newline) of an event: keys in a fixed order, compact JSON. */
export const bundleEventLine = (e: BundleEvent): string =>
  JSON.stringify({
    streamId: e.streamId, revision: e.revision, globalPosition: e.globalPosition, eventId: e.eventId, type: e.type,
    dataText: e.dataText, metadataText: e.metadataText, hash: e.hash, prevHash: e.prevHash,
  });

/** The canonical signature line (no newline). */
export const bundleSignatureLine = (s: BundleSignature): string =>
  JSON.stringify({ kind: s.kind, algorithm: s.algorithm, publicKeyFingerprint: s.publicKeyFingerprint, manifestSha256: s.manifestSha256, signature: s.signature });

/** sha256 hex of a text's UTF-8 bytes. */
export const sha256Hex = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

/** The `recordedAt` of an event's metadata text, or null when the text holds none. */
export const recordedAtOf = (metadataText: string): string | null => {
  try {
    const at = (JSON.parse(metadataText) as { recordedAt?: unknown })?.recordedAt;
    return typeof at === 'string' ? at : null;
  } catch {
    return null;
  }
};

/** A bundle's events arrived out of order (a stream split, or not from revision 0 without gaps): the source is not a whole export. */
export class BundleOrderError extends Error {
  override readonly name = 'BundleOrderError';
}

/**
 * Builds a bundle's header while its events stream through: `add` each event (stream by stream, revisions from 0
 * without gaps; throws BundleOrderError otherwise) and returns its canonical line; `finish` signs the manifest and
 * returns lines 1 and 2 (each with its newline), to be written before the event lines.
 */
export class AuditBundleBuilder {
  private readonly streams: BundleStream[] = [];
  private readonly seen = new Set<string>();
  private from: string | null = null;
  private to: string | null = null;
  private events = 0;

  constructor(private readonly header: Pick<BundleManifest, 'runledgerVersion' | 'serverVersion' | 'createdAt' | 'scope'>) {}

  /** Records one event; returns its canonical line without the newline. */
  add(event: BundleEvent): string {
    let current = this.streams[this.streams.length - 1];
    if (current?.streamId !== event.streamId) {
      if (this.seen.has(event.streamId)) throw new BundleOrderError(`stream ${event.streamId} arrived in two parts`);
      current = { streamId: event.streamId, events: 0, rootHash: event.hash, headHash: '', headRevision: -1, positions: [] };
      this.streams.push(current);
      this.seen.add(event.streamId);
    }
    if (event.revision !== current.headRevision + 1) throw new BundleOrderError(`${event.streamId} revision ${event.revision} follows revision ${current.headRevision}`);
    current.events++;
    current.headRevision = event.revision;
    current.headHash = event.hash;
    current.positions.push(event.globalPosition);
    this.events++;
    const at = recordedAtOf(event.metadataText);
    if (at !== null) {
      if (this.from === null || at < this.from) this.from = at;
      if (this.to === null || at > this.to) this.to = at;
    }
    return bundleEventLine(event);
  }

  /** The manifest as it will be signed. */
  manifest(privateKey: KeyObject): BundleManifest {
    return {
      kind: 'manifest', format: BUNDLE_FORMAT, ...this.header, streams: this.streams,
      totals: { streams: this.streams.length, events: this.events },
      timeRange: this.from !== null && this.to !== null ? { from: this.from, to: this.to } : null,
      signer: { algorithm: 'ed25519', publicKeyFingerprint: publicKeyFingerprint(privateKey) },
    };
  }

  /** Lines 1 and 2 of the bundle (signature, manifest), each ending in `\n`, signed with `privateKey` (ed25519). */
  finish(privateKey: KeyObject): { header: string; manifest: BundleManifest } {
    const manifest = this.manifest(privateKey);
    const manifestLine = JSON.stringify(manifest);
    const signature: BundleSignature = {
      kind: 'signature', algorithm: 'ed25519', publicKeyFingerprint: manifest.signer.publicKeyFingerprint,
      manifestSha256: sha256Hex(manifestLine), signature: sign(null, Buffer.from(manifestLine, 'utf8'), privateKey).toString('hex'),
    };
    return { header: `${bundleSignatureLine(signature)}\n${manifestLine}\n`, manifest };
  }
}
