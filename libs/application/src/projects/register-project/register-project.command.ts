import type { ModelPrice, ProjectHookSettings } from '@runledger/domain';
import { CommandContext } from '../../event-sourcing/command-context';

/** Body of `POST /projects` (docs/ARCHITECTURE.md §5): a single-repo project (`repoPath`) or a workspace (`repos`). */
export interface RegisterProjectInput extends ProjectHookSettings {
  name: string;
  id?: string;
  repoPath?: string;
  repos?: { name: string; path: string }[];
  sessionPrefix?: string;
  defaultBranch?: string;
  orchestratorAgent?: string;
  env?: Record<string, string>;
  /** Model prices over the shipped table (USD per million tokens per kind). */
  prices?: Record<string, ModelPrice>;
}

/** Register a project after checking every path is an absolute path to a git repository. */
export class RegisterProjectCommand {
  constructor(readonly input: RegisterProjectInput, readonly context: CommandContext) {}
}
