import { removePgliteTemplate } from './pglite-template';

/** Stops the testcontainers container started by globalSetup, if any, and removes the PGlite template. */
export default async function globalTeardown(): Promise<void> {
  removePgliteTemplate();
  const container = (globalThis as { __rlContainer?: { stop(): Promise<unknown> } }).__rlContainer;
  if (container) await container.stop();
}
