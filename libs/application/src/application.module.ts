import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AgentSessionDirectory } from './agents/agent-session-directory';
import { AgentHooks } from './agents/agent-hooks.service';
import { AgentTelemetry } from './telemetry/agent-telemetry.service';
import { BudgetGuard } from './budgets/budget-guard';
import { SessionCompletenessQuery } from './telemetry/session-completeness.service';
import { Notifications } from './notifications/notifications.service';
import { FileEffects } from './file-effects/file-effects.service';
import { ForkSession } from './file-effects/fork-session';
import { ImportTranscriptHandler } from './agents/claude-code/import-transcript.handler';
import { AGENT_ADAPTER_PROVIDERS } from './agents/agent-adapters';
import { SessionTranscripts } from './agents/session-transcripts';
import { DeciderStreams } from './event-sourcing/decider-streams';
import { Idempotent } from './idempotency/idempotent';
import { OrchestratorHandler } from './orchestrators/orchestrators';
import { ProjectLock } from './orchestrators/project-lock';
import { ForgetProjectEnvHandler } from './projects/forget-env/forget-project-env.handler';
import { ProjectEnv } from './projects/project-env';
import { RegisterProjectHandler } from './projects/register-project/register-project.handler';
import { CleanupSessionHandler } from './sessions/cleanup-session/cleanup-session.handler';
import { KillSessionHandler } from './sessions/kill-session/kill-session.handler';
import { ReconcileSessionHandler } from './sessions/reconcile-session/reconcile-session.handler';
import { SessionReconciler } from './sessions/reconcile-session/session-reconciler';
import { RestoreSessionHandler } from './sessions/restore-session/restore-session.handler';
import { ResumeSessionHandler } from './sessions/resume-session/resume-session.handler';
import { AgentLauncher } from './sessions/runtime/agent-launcher';
import { ServerAddress } from './sessions/runtime/server-address';
import { SessionStreams } from './sessions/session-streams';
import { SessionViews } from './sessions/session-views';
import { SessionStarter } from './sessions/spawn-session/session-starter';
import { SpawnSessionHandler } from './sessions/spawn-session/spawn-session.handler';
import { SystemStatusService } from './system/system-status.service';
import { SystemStreamService } from './system/system-stream.service';
import { ClaudeWorktreeCustody } from './worktrees/claude-worktree-custody';
import { CustodyStreams } from './worktrees/custody-streams';
import { SecretRedaction } from './tool-calls/secret-redaction';
import { RecordToolCallResultHandler, RequestToolCallHandler, RetryToolCallHandler } from './tool-calls/tool-call.handlers';
import { ToolCallIntake } from './tool-calls/tool-call-intake';
import { AddUserHandler, RevokeUserHandler } from './users/user.handlers';

const handlers = [
  RegisterProjectHandler, ForgetProjectEnvHandler, SpawnSessionHandler, KillSessionHandler, CleanupSessionHandler, RestoreSessionHandler,
  RequestToolCallHandler, RecordToolCallResultHandler, RetryToolCallHandler, ImportTranscriptHandler, OrchestratorHandler,
  ResumeSessionHandler, ReconcileSessionHandler, AddUserHandler, RevokeUserHandler,
];
const services = [...AGENT_ADAPTER_PROVIDERS, DeciderStreams, SessionStreams, SessionStarter, ProjectLock, SessionViews, AgentLauncher, ServerAddress, Idempotent, SystemStreamService, SystemStatusService, SecretRedaction, ToolCallIntake, ProjectEnv, AgentSessionDirectory, AgentHooks, CustodyStreams, ClaudeWorktreeCustody, SessionReconciler, SessionTranscripts, FileEffects, ForkSession, AgentTelemetry, BudgetGuard, SessionCompletenessQuery, Notifications];

/** Command handlers, query services and sagas shared by the api and the worker (docs/ARCHITECTURE.md §1). */
@Module({
  imports: [CqrsModule],
  providers: [...services, ...handlers],
  exports: [CqrsModule, ...services],
})
export class ApplicationModule {}
