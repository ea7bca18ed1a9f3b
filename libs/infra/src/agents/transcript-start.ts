import { promises as fsp } from 'node:fs';

/** How much of a transcript's head transcriptStartedAt reads (bytes). */
const HEAD_BYTES = 64 * 1024;

/**
 * When an agent's conversation began: the first top-level `timestamp` among the first lines of its transcript (Claude
 * Code's JSONL and Codex's rollout both carry one per line; Claude Code's first line may be a snapshot without one).
 * Undefined when the file is missing or its head holds no parseable timestamp. Never throws.
 */
export const transcriptStartedAt = async (transcriptPath: string): Promise<Date | undefined> => {
  let handle: Awaited<ReturnType<typeof fsp.open>> | undefined;
  try {
    handle = await fsp.open(transcriptPath, 'r');
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    for (const line of buffer.subarray(0, bytesRead).toString('utf8').split('\n')) {
      try {
        const timestamp = (JSON.parse(line) as { timestamp?: unknown }).timestamp;
        const at = typeof timestamp === 'string' ? new Date(timestamp) : undefined;
        if (at && !Number.isNaN(at.getTime())) return at;
      } catch {
        /* a partial or non-JSON line: the next one */
      }
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
};
