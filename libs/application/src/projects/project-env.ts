import { Injectable } from '@nestjs/common';
import type { RegisteredProject } from '@runledger/domain';
import { SecretVault } from '@runledger/infra/secrets';

/**
 * The env values a project's agents and tools receive (docs/ARCHITECTURE.md §4c): opened from the secret store for the
 * fingerprints its log names, plus values an old log still holds; a forgotten variable is never returned.
 */
@Injectable()
export class ProjectEnv {
  constructor(private readonly vault: SecretVault) {}

  /** Name → value of every variable not forgotten whose value the store (or a legacy log) holds. */
  async values(project: RegisteredProject): Promise<Record<string, string>> {
    const forgotten = new Set(project.forgottenEnv ?? []);
    const live = Object.fromEntries(Object.entries(project.envFingerprints ?? {}).filter(([name]) => !forgotten.has(name)));
    const legacy = Object.fromEntries(Object.entries(project.env ?? {}).filter(([name]) => !forgotten.has(name)));
    return { ...legacy, ...(await this.vault.open(project.projectId, live)) };
  }
}
