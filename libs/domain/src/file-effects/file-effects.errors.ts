import { DomainError } from '../shared/domain-error';

/** 409: files cannot be rewound while the agent runs a call (details.callIds). */
export const FilesCallInFlight = 'FILES.CALL_IN_FLIGHT';
/** 404: no snapshot holds the asked state (details.field names what was asked: callId, from, to, at, path). */
export const FilesNotSnapshotted = 'FILES.NOT_SNAPSHOTTED';
/** 409: the session's snapshots were pruned (details.prunedAt). */
export const FilesPruned = 'FILES.PRUNED';

/** The refusal of a rewind while calls `callIds` are in flight. */
export const filesCallInFlight = (sessionId: string, callIds: string[]): DomainError =>
  new DomainError(FilesCallInFlight, 'conflict', `session ${sessionId} is running ${callIds.join(', ')}: wait for its result before rewinding`, { sessionId, callIds });

/** No snapshot of the state `field` asks for (`what` says which). */
export const filesNotSnapshotted = (field: string, what: string): DomainError =>
  new DomainError(FilesNotSnapshotted, 'not_found', `no snapshot of ${what}`, { field });

/** The session's snapshots were pruned at `prunedAt`. */
export const filesPruned = (sessionId: string, prunedAt: string): DomainError =>
  new DomainError(FilesPruned, 'conflict', `the file snapshots of ${sessionId} were pruned at ${prunedAt}`, { sessionId, prunedAt });
