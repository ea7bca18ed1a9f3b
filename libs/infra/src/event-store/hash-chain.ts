import { createHash } from 'node:crypto';

/** The exact stored text of one event, as the hash covers it (data and metadata as the JSON text sent at append). */
export interface HashedEventText {
  streamId: string;
  revision: number;
  eventId: string;
  type: string;
  dataText: string;
  metadataText: string;
}

/** Hash of the empty chain: the `prevHash` of revision 0. */
export const GENESIS_HASH = '';

/**
 * sha256 hex over the previous hash and the event's exact text, newline-separated (docs/ARCHITECTURE.md §2 tamper evidence).
 * Must equal the SQL in the `rl_append` function (migrations 1, 5, 20) byte for byte; the store also chains with it directly
 * (PostgresEventStore: an append after a head it knows).
 */
export const eventHash = (prevHash: string, e: HashedEventText): string =>
  createHash('sha256')
    .update([prevHash, e.streamId, String(e.revision), e.eventId, e.type, e.dataText, e.metadataText].join('\n'), 'utf8')
    .digest('hex');

/** One stored link of a chain: the event text plus the hashes recorded with it. */
export interface ChainLink extends HashedEventText {
  hash: string;
  prevHash: string;
}

/** Walks links in revision order and returns the first broken one: revision gap, wrong prevHash, or a hash that does not match the text. */
export const findBrokenLink = (
  links: Iterable<ChainLink>,
): { brokenAt: number; reason: string } | { brokenAt: null; count: number } => {
  let prev = GENESIS_HASH;
  let expectedRevision = 0;
  let count = 0;
  for (const link of links) {
    if (link.revision !== expectedRevision) return { brokenAt: expectedRevision, reason: `revision ${expectedRevision} is missing` };
    if (link.prevHash !== prev) return { brokenAt: link.revision, reason: 'prevHash does not match the previous event' };
    const actual = eventHash(prev, link);
    if (actual !== link.hash) return { brokenAt: link.revision, reason: 'hash does not match the event content' };
    prev = link.hash;
    expectedRevision++;
    count++;
  }
  return { brokenAt: null, count };
};
