import { Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ApplicationModule } from '@runledger/application';
import { FileEffectsController } from './file-effects/file-effects.controller';
import { AuditController } from './audit/audit.controller';
import { EventsController } from './events/events.controller';
import { LiveTailHub } from './events/live-tail-hub';
import { HealthController } from './health/health.controller';
import { HooksController } from './hooks/hooks.controller';
import { ImportsController } from './imports/imports.controller';
import { MetricsController } from './metrics/metrics.controller';
import { BearerTokenGuard } from './http/bearer-token.guard';
import { ReadYourWritesInterceptor } from './http/read-your-writes.interceptor';
import { ProjectionsController } from './projections/projections.controller';
import { ProjectsController } from './projects/projects.controller';
import { SessionsController } from './sessions/sessions.controller';
import { StatusController } from './status/status.controller';
import { ToolCallsController } from './tool-calls/tool-calls.controller';
import { UsersController } from './users/users.controller';
import { WorktreesController } from './worktrees/worktrees.controller';
import { UsageController } from './usage/usage.controller';
import { OtlpController } from './telemetry/otlp.controller';
import { BudgetsController } from './budgets/budgets.controller';
import { NotificationsController } from './notifications/notifications.controller';
import { LOGIN_CODES, UiAuthController } from './ui-auth/ui-auth.controller';
import { LoginCodes } from './ui-auth/ui-session';

/**
 * The HTTP API (`/api/v1`): controllers over the application's command handlers and queries. The hook and tool-call
 * controllers come first: Express tries routes in registration order, so the per-tool-call requests match first.
 */
@Module({
  imports: [ApplicationModule],
  controllers: [HooksController, ToolCallsController, HealthController, ProjectsController, SessionsController, ProjectionsController, ImportsController, FileEffectsController, AuditController, MetricsController, EventsController, StatusController, UiAuthController, WorktreesController, UsersController, UsageController, OtlpController, BudgetsController, NotificationsController],
  providers: [
    { provide: APP_GUARD, useClass: BearerTokenGuard },
    { provide: APP_INTERCEPTOR, useClass: ReadYourWritesInterceptor },
    { provide: LOGIN_CODES, useFactory: () => new LoginCodes() },
    LiveTailHub,
  ],
})
export class ApiModule {}
