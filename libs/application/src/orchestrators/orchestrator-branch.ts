import { RegisteredProject } from '@runledger/domain';

/** The canonical branch of a project's orchestrator, `runledger/<sessionPrefix>-orchestrator` (docs/ARCHITECTURE.md §4b): one at a time may hold it. */
export const orchestratorBranch = (project: Pick<RegisteredProject, 'sessionPrefix'>): string => `runledger/${project.sessionPrefix}-orchestrator`;
