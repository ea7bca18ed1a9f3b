import type { ProjectHookSettings } from '@runledger/domain';
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
}

/** Register a project after checking every path is an absolute path to a git repository. */
export class RegisterProjectCommand {
  constructor(readonly input: RegisterProjectInput, readonly context: CommandContext) {}
}
