/** Public API of libs/domain: events, commands, deciders, errors and the test kit; pure TypeScript, no I/O. */
export * from './shared/decider';
export * from './shared/domain-error';
export * from './shared/assert-never';
export * from './shared/omit-undefined';
export * from './shared/plain-text';
export * from './shared/persistent-map';
export {
  isStreamOfCategory,
  parseStreamName,
  sessionIdOfStream,
  streamCategoryPrefix,
  SYSTEM_STREAM,
  worktreeStreamName,
  type ParsedStreamName,
  type StreamCategory,
} from './shared/stream-names';

export * from './project/project.events';
export * from './project/project.commands';
export * from './project/project.errors';
export * from './project/project.decider';
export * from './project/project.view';
export * from './project/orchestrator-health';

export * from './tool-call/tool-call.events';
export * from './tool-call/tool-call.commands';
export * from './tool-call/tool-call.errors';
export * from './tool-call/tool-call.decider';
export * from './tool-call/tool-call.recorder';

export * from './worktree/worktree.events';
export * from './worktree/worktree.commands';
export * from './worktree/worktree.errors';
export * from './worktree/worktree.decider';

export * from './usage';
export * from './budget';
export * from './notification';

export * from './session/session.events';
export * from './session/session.commands';
export * from './session/session.errors';
export * from './session/session.decider';
export * from './session/session.view';
export * from './session/session.health';
export * from './session/reconcile.policy';
export * from './agent/agent-kinds';

export * from './worktree-custody';

export * from './file-effects';
export * from './user/user.events';
export * from './user/user.commands';
export * from './user/user.errors';
export * from './user/user.decider';
export * from './user/user-access.policy';
export * from './telemetry/log-exporter.port';
export * from './telemetry/telemetry.events';
export * from './telemetry/completeness';
