import { CommandContext } from '../../event-sourcing/command-context';

/** Forget (crypto-shred) the stored values of env variables `names` of a project, all of them when `names` is absent. */
export class ForgetProjectEnvCommand {
  constructor(readonly projectId: string, readonly names: string[] | undefined, readonly context: CommandContext) {}
}
