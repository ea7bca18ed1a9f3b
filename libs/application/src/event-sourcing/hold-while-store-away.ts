import { storeUnavailable } from '@runledger/infra/database';

/** How long a step whose side effect already happened waits for the database to come back before giving up (ms). */
export const STORE_HOLD_MS = 30_000;

/**
 * Runs `step` again while it fails because the database is unreachable (DatabaseUnavailableError), backing off from
 * 100 ms to 1 s, for up to `holdMs`; then rethrows (the api answers 503). For recording a side effect that already
 * happened (a worktree created, a runtime launched): giving up at the first refusal would record a failure for
 * something that succeeded, or leave it unrecorded. Any other error is rethrown at once.
 */
export const holdWhileStoreAway = async <T>(step: () => Promise<T>, holdMs = STORE_HOLD_MS): Promise<T> => {
  const deadline = Date.now() + holdMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!storeUnavailable(error) || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 100 * 2 ** attempt)));
    }
  }
};
