import { KeyObject, verify } from 'node:crypto';
import { eventHash, GENESIS_HASH } from '../event-store/hash-chain';
import { BUNDLE_FORMAT, BundleEvent, BundleManifest, bundleEventLine, BundleSignature, bundleSignatureLine, sha256Hex } from './audit-bundle';
import { publicKeyFingerprint } from './ed25519-keys';

/** Where a bundle is damaged: its signature (line 1), its manifest (line 2), one event (named by stream and revision), or the file's shape. */
export interface BundleProblem {
  place: 'signature' | 'manifest' | 'event' | 'bundle';
  line: number;
  streamId?: string;
  revision?: number;
  field?: string;
  reason: string;
}

/** A bundle's verdict: `ok` only when the signature verifies with the given key, the manifest is whole and every event matches it. */
export interface BundleVerdict {
  ok: boolean;
  signatureValid: boolean;
  manifest: BundleManifest | null;
  events: number;
  problems: BundleProblem[];
}

/** One problem as a line a person reads: the place (signature, manifest, or the event's stream and revision), the line, the field, the reason. */
export const describeBundleProblem = (p: BundleProblem): string => {
  const where =
    p.place === 'event' ? `event ${p.streamId ?? '?'} revision ${p.revision ?? '?'}` : p.place === 'bundle' ? 'bundle' : p.place;
  return `${where} (line ${p.line})${p.field ? ` field ${p.field}` : ''}: ${p.reason}`;
};

const utf8 = new TextDecoder('utf-8', { fatal: true });
const HEX64 = /^[0-9a-f]{64}$/;

/** Splits a byte stream on `\n` only (a `\r` is a byte like any other); the last piece is flagged when the file does not end in `\n`. */
async function* splitLines(chunks: AsyncIterable<Buffer | Uint8Array>): AsyncIterable<{ bytes: Buffer; terminated: boolean }> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    let buf = rest.length ? Buffer.concat([rest, Buffer.from(chunk)]) : Buffer.from(chunk);
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a)) {
      yield { bytes: buf.subarray(0, nl), terminated: true };
      buf = buf.subarray(nl + 1);
    }
    rest = Buffer.from(buf);
  }
  if (rest.length) yield { bytes: rest, terminated: false };
}

type Parsed<T> = { value: T; text: string } | { problem: string; field?: string; text?: string };

const parseJsonLine = (bytes: Buffer, terminated: boolean): { value: Record<string, unknown>; text: string } | { problem: string; text?: string } => {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { problem: 'not valid UTF-8' };
  }
  if (!terminated) return { problem: 'the file does not end with a newline after this line', text };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'not valid JSON', text };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { problem: 'not a JSON object', text };
  return { value: value as Record<string, unknown>, text };
};

const parseSignature = (bytes: Buffer, terminated: boolean): Parsed<BundleSignature> => {
  const json = parseJsonLine(bytes, terminated);
  if ('problem' in json) return json;
  const v = json.value;
  if (v.kind !== 'signature') return { problem: 'line 1 is not a bundle signature', field: 'kind' };
  if (v.algorithm !== 'ed25519') return { problem: `algorithm ${JSON.stringify(v.algorithm)} is not ed25519`, field: 'algorithm' };
  if (typeof v.publicKeyFingerprint !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(v.publicKeyFingerprint)) return { problem: 'not a key fingerprint', field: 'publicKeyFingerprint' };
  if (typeof v.manifestSha256 !== 'string' || !HEX64.test(v.manifestSha256)) return { problem: 'not a sha256 hex digest', field: 'manifestSha256' };
  if (typeof v.signature !== 'string' || !/^[0-9a-f]{128}$/.test(v.signature)) return { problem: 'not 128 lowercase hex digits', field: 'signature' };
  const value = v as unknown as BundleSignature;
  if (bundleSignatureLine(value) !== json.text) return { problem: 'not in canonical form (a key or a byte outside the values changed)' };
  return { value, text: json.text };
};

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

const parseManifest = (bytes: Buffer, terminated: boolean): Parsed<BundleManifest> => {
  const json = parseJsonLine(bytes, terminated);
  if ('problem' in json) return json;
  const v = json.value;
  if (v.kind !== 'manifest') return { problem: 'line 2 is not a bundle manifest', field: 'kind' };
  if (v.format !== BUNDLE_FORMAT) return { problem: `format ${JSON.stringify(v.format)} is not ${BUNDLE_FORMAT}`, field: 'format' };
  if (!Array.isArray(v.streams)) return { problem: 'not a list', field: 'streams' };
  for (const [i, s] of (v.streams as Record<string, unknown>[]).entries()) {
    const ok =
      s && typeof s.streamId === 'string' && isCount(s.events) && s.events > 0 && typeof s.rootHash === 'string' && typeof s.headHash === 'string' &&
      s.headRevision === (s.events as number) - 1 && Array.isArray(s.positions) && s.positions.length === s.events && (s.positions as unknown[]).every(isCount);
    if (!ok) return { problem: 'not a stream entry (streamId, events, rootHash, headHash, headRevision, positions)', field: `streams[${i}]` };
  }
  const totals = v.totals as Record<string, unknown> | undefined;
  if (!totals || !isCount(totals.events) || !isCount(totals.streams)) return { problem: 'not {streams, events}', field: 'totals' };
  return { value: v as unknown as BundleManifest, text: json.text };
};

const parseEvent = (bytes: Buffer, terminated: boolean): Parsed<BundleEvent> => {
  const json = parseJsonLine(bytes, terminated);
  if ('problem' in json) return json;
  const v = json.value;
  for (const k of ['streamId', 'eventId', 'type', 'dataText', 'metadataText', 'hash', 'prevHash']) if (typeof v[k] !== 'string') return { problem: 'missing or not a string', field: k };
  for (const k of ['revision', 'globalPosition']) if (!isCount(v[k])) return { problem: 'missing or not a whole number', field: k };
  const value = v as unknown as BundleEvent;
  if (bundleEventLine(value) !== json.text) return { problem: 'not in canonical form (a key or a byte outside the values changed)' };
  return { value, text: json.text };
};

/** The signature verdict once lines 1 and 2 are read: names the signature or the manifest as the damaged part. */
const signatureProblems = (sig: BundleSignature, manifestBytes: Buffer, manifest: BundleManifest | null, key: KeyObject): { valid: boolean; problems: BundleProblem[] } => {
  const valid = verify(null, manifestBytes, key, Buffer.from(sig.signature, 'hex'));
  const keyPrint = publicKeyFingerprint(key);
  const digest = sha256Hex(manifestBytes);
  const problems: BundleProblem[] = [];
  if (valid) {
    if (sig.manifestSha256 !== digest) problems.push({ place: 'signature', line: 1, field: 'manifestSha256', reason: `does not match the signed manifest (sha256 ${digest})` });
    if (sig.publicKeyFingerprint !== keyPrint) problems.push({ place: 'signature', line: 1, field: 'publicKeyFingerprint', reason: `does not name the key that verifies (${keyPrint})` });
    if (manifest && manifest.signer?.publicKeyFingerprint !== keyPrint) problems.push({ place: 'manifest', line: 2, field: 'signer', reason: `names another signer than the key that verifies (${keyPrint})` });
  } else if (sig.manifestSha256 !== digest) {
    problems.push({ place: 'manifest', line: 2, reason: `its bytes differ from the manifest that was signed (sha256 ${digest}, signed ${sig.manifestSha256})` });
  } else if (sig.publicKeyFingerprint !== keyPrint) {
    problems.push({ place: 'signature', line: 1, field: 'publicKeyFingerprint', reason: `signed with another key (${sig.publicKeyFingerprint}), not the given public key (${keyPrint})` });
  } else {
    problems.push({ place: 'signature', line: 1, field: 'signature', reason: 'the ed25519 signature does not verify over the manifest with the given public key' });
  }
  return { valid: valid && problems.length === 0, problems };
};

/** A chain link whose stored hash does not match its text, kept until the next link (or the manifest's head) says which of the two changed. */
interface PendingHash {
  line: number;
  streamId: string;
  revision: number;
  computed: string;
}

/**
 * Verifies a signed audit bundle offline with the signer's public key alone (docs/ARCHITECTURE.md §4h): the signature
 * over the manifest's exact bytes, then every line against the manifest (stream and revision by position, global
 * position, canonical form, the hash chain from revision 0, root and head hashes), and that nothing is missing or
 * extra. Reports every problem found, each naming its place; never throws on damaged input.
 */
export const verifyAuditBundle = async (chunks: AsyncIterable<Buffer | Uint8Array>, key: KeyObject): Promise<BundleVerdict> => {
  const problems: BundleProblem[] = [];
  let signature: BundleSignature | null = null;
  let manifest: BundleManifest | null = null;
  let signatureValid = false;
  let lineNo = 0;
  let events = 0;
  // The slot the next event line must fill (from the manifest), and the chain so far.
  let streamIndex = 0;
  let revision = 0;
  let prevHash: string | null = GENESIS_HASH;
  let pending: PendingHash | null = null;
  const fallbackPrev = new Map<string, string>();

  const settle = (nextPrevHash: string | null): void => {
    if (!pending) return;
    const hashFieldChanged = nextPrevHash !== null && nextPrevHash === pending.computed;
    problems.push({
      place: 'event', line: pending.line, streamId: pending.streamId, revision: pending.revision, field: hashFieldChanged ? 'hash' : 'content',
      reason: hashFieldChanged
        ? 'the stored hash was changed (the event text still hashes to what the chain expects)'
        : 'the event text (eventId, type, dataText or metadataText) does not match its hash',
    });
    pending = null;
  };

  for await (const { bytes, terminated } of splitLines(chunks)) {
    lineNo++;
    if (lineNo === 1) {
      const parsed = parseSignature(bytes, terminated);
      if ('problem' in parsed) problems.push({ place: 'signature', line: 1, field: parsed.field, reason: parsed.problem });
      else signature = parsed.value;
      continue;
    }
    if (lineNo === 2) {
      const parsed = parseManifest(bytes, terminated);
      if ('problem' in parsed) problems.push({ place: 'manifest', line: 2, field: parsed.field, reason: parsed.problem });
      else manifest = parsed.value;
      if (signature) {
        const verdict = signatureProblems(signature, bytes, manifest, key);
        signatureValid = verdict.valid;
        problems.push(...verdict.problems);
      }
      continue;
    }
    events++;
    const slot = manifest?.streams[streamIndex];
    const expected = slot ? { streamId: slot.streamId, revision } : null;
    if (manifest && !expected) {
      problems.push({ place: 'bundle', line: lineNo, reason: `an extra line after the manifest's ${manifest.totals.events} events` });
      continue;
    }
    const parsed = parseEvent(bytes, terminated);
    const at = (p: { field?: string; reason: string }, streamId?: string, rev?: number): BundleProblem => ({
      place: 'event', line: lineNo, streamId: expected?.streamId ?? streamId, revision: expected?.revision ?? rev, ...p,
    });
    if (expected && slot) {
      // Advance the slot whatever this line holds, so one damaged line names itself and not the ones after it.
      revision++;
      if (revision === slot.events) {
        streamIndex++;
        revision = 0;
      }
    }
    if ('problem' in parsed) {
      settle(null);
      problems.push(at({ field: parsed.field, reason: parsed.problem }));
      prevHash = null;
      if (expected && revision === 0) prevHash = GENESIS_HASH;
      continue;
    }
    const e = parsed.value;
    if (!expected) {
      // No trusted manifest: check the chain per stream as the file groups it.
      const prev = fallbackPrev.get(e.streamId) ?? GENESIS_HASH;
      if (e.prevHash !== prev) problems.push(at({ field: 'prevHash', reason: 'does not match the previous event of its stream' }, e.streamId, e.revision));
      else if (eventHash(e.prevHash, e) !== e.hash) problems.push(at({ field: 'content', reason: 'the event text does not match its hash' }, e.streamId, e.revision));
      fallbackPrev.set(e.streamId, e.hash);
      continue;
    }
    const own: BundleProblem[] = [];
    if (e.streamId !== expected.streamId) own.push(at({ field: 'streamId', reason: `is ${JSON.stringify(e.streamId)}; the manifest puts ${expected.streamId} here` }));
    else if (e.revision !== expected.revision) own.push(at({ field: 'revision', reason: `is ${e.revision}; the manifest puts revision ${expected.revision} here` }));
    else if (e.globalPosition !== slot!.positions[expected.revision]) own.push(at({ field: 'globalPosition', reason: `is ${e.globalPosition}; the manifest says ${slot!.positions[expected.revision]}` }));
    // A pending link is settled by this one's prevHash; a changed stored hash leaves the true hash as the chain's.
    if (pending !== null && own.length === 0 && expected.revision > 0) {
      const truth: string = (pending as PendingHash).computed;
      settle(e.prevHash);
      if (e.prevHash === truth) prevHash = truth;
    } else settle(null);
    problems.push(...own);
    if (own.length === 0) {
      if (prevHash !== null && e.prevHash !== prevHash) problems.push(at({ field: 'prevHash', reason: "does not match the previous event's hash" }));
      else {
        const computed = eventHash(e.prevHash, e);
        if (computed !== e.hash) pending = { line: lineNo, streamId: e.streamId, revision: e.revision, computed };
        else if (expected.revision === 0 && e.hash !== slot!.rootHash) problems.push(at({ field: 'hash', reason: "is not the manifest's root hash of the stream" }));
        else if (expected.revision === slot!.headRevision && e.hash !== slot!.headHash) problems.push(at({ field: 'hash', reason: "is not the manifest's head hash of the stream" }));
      }
    }
    if (pending !== null && expected.revision === slot!.headRevision) settle(slot!.headHash);
    prevHash = revision === 0 ? GENESIS_HASH : e.hash;
  }
  settle(null);
  if (lineNo < 1) problems.push({ place: 'signature', line: 1, reason: 'the file is empty' });
  else if (lineNo < 2) problems.push({ place: 'manifest', line: 2, reason: 'missing' });
  if (manifest) {
    const listed = manifest.streams.reduce((n, s) => n + s.events, 0);
    if (listed !== manifest.totals.events || manifest.streams.length !== manifest.totals.streams) problems.push({ place: 'manifest', line: 2, field: 'totals', reason: `does not match its streams (${manifest.streams.length} streams, ${listed} events)` });
    const missingSlot = manifest.streams[streamIndex];
    if (missingSlot) problems.push({ place: 'event', line: lineNo + 1, streamId: missingSlot.streamId, revision, reason: `missing: the manifest lists ${manifest.totals.events} events, the file holds ${events}` });
  }
  return { ok: problems.length === 0 && signatureValid && manifest !== null, signatureValid, manifest, events, problems };
};
