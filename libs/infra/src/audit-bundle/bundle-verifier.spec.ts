import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, KeyObject, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventHash, GENESIS_HASH } from '../event-store/hash-chain';
import { AuditBundleBuilder, BundleEvent } from './audit-bundle';
import { BundleProblem, verifyAuditBundle } from './bundle-verifier';
import { generateEd25519Pair, loadEd25519PrivateKey, loadEd25519PublicKey } from './ed25519-keys';

/** A seeded PRNG (mulberry32), so a failing tampering can be replayed from the seed printed with it. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/** Two streams of chained events with texts like the store's (non-ASCII included), global positions interleaved. */
const streams = (): BundleEvent[] => {
  const out: BundleEvent[] = [];
  let position = 0;
  for (const [streamId, count] of [['project-p', 3], ['session-p-1', 6]] as const) {
    let prev = GENESIS_HASH;
    for (let revision = 0; revision < count; revision++) {
      const text = {
        streamId, revision, eventId: randomUUID(), type: revision === 0 ? 'SessionStarted' : 'ToolCallDispatched',
        dataText: JSON.stringify({ callId: `c${revision}`, tool: 'Bash', input: { command: `echo héllo ${revision}` } }),
        metadataText: JSON.stringify({ actor: 'runledger', recordedAt: `2026-12-07T11:0${revision}:00.000Z` }),
      };
      const hash = eventHash(prev, text);
      out.push({ ...text, hash, prevHash: prev, globalPosition: (position += 2) });
      prev = hash;
    }
  }
  return out;
};

const bundle = (events: BundleEvent[], key: KeyObject): Buffer => {
  const builder = new AuditBundleBuilder({ runledgerVersion: '0.1.0', serverVersion: '0.1.0', createdAt: '2026-12-07T12:00:00.000Z', scope: { all: true } });
  const lines = events.map((e) => `${builder.add(e)}\n`).join('');
  return Buffer.from(builder.finish(key).header + lines, 'utf8');
};

async function* chunks(buf: Buffer, size = 97): AsyncIterable<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

/** The place a byte at `offset` belongs to: the line it is in (a newline belongs to the line it ends). */
const placeOf = (buf: Buffer, offset: number, events: BundleEvent[]): Partial<BundleProblem> => {
  let line = 0;
  for (let i = 0; i < offset; i++) if (buf[i] === 0x0a) line++;
  if (line === 0) return { place: 'signature' };
  if (line === 1) return { place: 'manifest' };
  const e = events[line - 2];
  return { place: 'event', streamId: e.streamId, revision: e.revision };
};

describe('signed audit bundles (docs/ARCHITECTURE.md §4h)', () => {
  const pair = generateEd25519Pair();
  const privateKey = createPrivateKey(pair.privatePem);
  const publicKey = createPublicKey(pair.publicPem);
  const events = streams();
  const intact = bundle(events, privateKey);

  it('verifies an intact bundle with the public key alone, its manifest naming streams, heads, counts and time range', async () => {
    const verdict = await verifyAuditBundle(chunks(intact), publicKey);
    expect(verdict.problems).toEqual([]);
    expect(verdict).toMatchObject({ ok: true, signatureValid: true, events: 9 });
    expect(verdict.manifest).toMatchObject({
      totals: { streams: 2, events: 9 }, timeRange: { from: '2026-12-07T11:00:00.000Z', to: '2026-12-07T11:05:00.000Z' },
      streams: [
        { streamId: 'project-p', events: 3, rootHash: events[0].hash, headHash: events[2].hash, positions: [2, 4, 6] },
        { streamId: 'session-p-1', events: 6, rootHash: events[3].hash, headHash: events[8].hash },
      ],
    });
  });

  it('refuses each of 100 random one-byte tamperings and names the place: the signature, the manifest, or the event', async () => {
    const seed = Number(process.env.TAMPER_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const places = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const offset = Math.floor(random() * intact.length);
      const tampered = Buffer.from(intact);
      tampered[offset] ^= 1 + Math.floor(random() * 255);
      const verdict = await verifyAuditBundle(chunks(tampered), publicKey);
      const expected = placeOf(intact, offset, events);
      places.add(expected.place!);
      const context = `seed ${seed}, tampering ${i}: byte ${offset} ${intact[offset]} -> ${tampered[offset]}`;
      expect({ context, ok: verdict.ok }).toEqual({ context, ok: false });
      expect({ context, first: verdict.problems[0] }).toEqual({ context, first: expect.objectContaining(expected) });
    }
    expect(places).toContain('event'); // most bytes are events'
  });

  it('names the field of an event that was changed: its global position, its stored hash, its content', async () => {
    const edit = (from: string, to: string) => Buffer.from(intact.toString('utf8').replace(from, to), 'utf8');
    const target = events[5];
    const at = async (buf: Buffer) => (await verifyAuditBundle(chunks(buf), publicKey)).problems[0];
    expect(await at(edit(`"globalPosition":${target.globalPosition},`, `"globalPosition":${target.globalPosition + 1},`))).toMatchObject({ place: 'event', streamId: 'session-p-1', revision: 2, field: 'globalPosition' });
    expect(await at(edit(`"hash":"${target.hash}"`, `"hash":"${target.hash.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'))}"`))).toMatchObject({ place: 'event', revision: 2, field: 'hash' });
    expect(await at(edit('echo héllo 2', 'echo hallo 2'))).toMatchObject({ place: 'event', streamId: 'project-p', revision: 2, field: 'content' });
  });

  it('refuses a bundle signed with another key, naming the signature', async () => {
    const other = bundle(events, createPrivateKey(generateEd25519Pair().privatePem));
    const verdict = await verifyAuditBundle(chunks(other), publicKey);
    expect(verdict).toMatchObject({ ok: false, signatureValid: false });
    expect(verdict.problems).toEqual([expect.objectContaining({ place: 'signature', field: 'publicKeyFingerprint', reason: expect.stringMatching(/another key/) })]);
  });

  it('refuses a missing last event and an extra line', async () => {
    const text = intact.toString('utf8');
    const cut = Buffer.from(text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1), 'utf8');
    expect((await verifyAuditBundle(chunks(cut), publicKey)).problems).toEqual([expect.objectContaining({ place: 'event', streamId: 'session-p-1', revision: 5, reason: expect.stringMatching(/missing/) })]);
    const extra = Buffer.concat([intact, Buffer.from(text.split('\n')[4] + '\n')]);
    expect((await verifyAuditBundle(chunks(extra), publicKey)).problems).toEqual([expect.objectContaining({ place: 'bundle', line: 12 })]);
  });

  it('signs and verifies with keys made by the real `openssl genpkey -algorithm ed25519`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-openssl-'));
    try {
      execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(dir, 'k.pem')]);
      execFileSync('openssl', ['pkey', '-in', join(dir, 'k.pem'), '-pubout', '-out', join(dir, 'k.pub')]);
      expect(readFileSync(join(dir, 'k.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      const signed = bundle(events, await loadEd25519PrivateKey(join(dir, 'k.pem')));
      expect(await verifyAuditBundle(chunks(signed), await loadEd25519PublicKey(join(dir, 'k.pub')))).toMatchObject({ ok: true, problems: [] });
      await expect(loadEd25519PublicKey(join(dir, 'k.pem'))).rejects.toThrow(/holds a private key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
