/** Stops the testcontainers container started by globalSetup, if any. */
export default async function globalTeardown(): Promise<void> {
  const container = (globalThis as { __rlContainer?: { stop(): Promise<unknown> } }).__rlContainer;
  if (container) await container.stop();
}
