import type { FileSnapshotsPruned, FilesRewound, FilesSnapshotted } from './file-effects.events';

/** Record a snapshot of the session's files; `[]` when the root's tree is the one last recorded (an unchanged tree appends nothing). */
export interface RecordFilesSnapshot {
  type: 'RecordFilesSnapshot';
  data: FilesSnapshotted['data'];
}

/** Record that the files were put back to a call's state; refused FILES.CALL_IN_FLIGHT (409) while a call runs. */
export interface RecordFilesRewound {
  type: 'RecordFilesRewound';
  data: FilesRewound['data'];
}

/** Record that the session's snapshots were pruned; `[]` when they already were. */
export interface RecordSnapshotsPruned {
  type: 'RecordSnapshotsPruned';
  data: FileSnapshotsPruned['data'];
}

/** Commands on a session's file effects. */
export type FileEffectCommand = RecordFilesSnapshot | RecordFilesRewound | RecordSnapshotsPruned;
