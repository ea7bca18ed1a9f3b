import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  CommandContext, ForgetProjectEnvCommand, OrchestratorCommand, OrchestratorResult, RegisterProjectCommand, SessionViews,
} from '@runledger/application';
import { OrchestratorHealth, orchestratorHealth, projectNotFound, ProjectSummary, ProjectView, SessionView } from '@runledger/domain';
import { ReadModels } from '@runledger/infra/read-models';
import { RequiresAccess } from '../http/principal';
import { AnswersBeforeProjection } from '../http/read-your-writes.interceptor';
import { Ctx } from '../http/request-context';
import { ref } from '../openapi/schemas';
import { ForgetEnvDto } from './dto/forget-env.dto';
import { OrchestratorDto } from './dto/orchestrator.dto';
import { RegisterProjectDto } from './dto/register-project.dto';

/** The piece of the HTTP response the orchestrator route needs (Express's). */
interface StatusResponse { status(code: number): unknown }

/** The active orchestrator of a project as `GET /projects/:id` shows it (docs/ARCHITECTURE.md §5). */
export interface ProjectOrchestratorView {
  sessionId: string;
  status: SessionView['status'] | 'unknown';
  agent?: string;
  health: OrchestratorHealth;
  /** Why it is retiring or interrupted, when known. */
  reason?: string;
}

/** `/projects`: register and read projects (docs/ARCHITECTURE.md §5); lists never carry config or env. */
@ApiTags('projects')
@ApiBearerAuth('bearer')
@Controller('projects')
export class ProjectsController {
  constructor(private readonly commands: CommandBus, private readonly readModels: ReadModels, private readonly views: SessionViews) {}

  /** 201 with the project (env values masked); 400 naming the field (relative path, not a repo), 409 if the id exists. */
  @Post()
  @HttpCode(201)
  @AnswersBeforeProjection() // the project's stream and its repositories; the answer is its fold (docs/ARCHITECTURE.md §5)
  @ApiCreatedResponse({ description: 'the registered project (env values masked)', schema: ref('Project') })
  register(@Body() body: RegisterProjectDto, @Ctx() context: CommandContext): Promise<ProjectView> {
    return this.commands.execute(new RegisterProjectCommand(body, context));
  }

  /** Narrow summaries: id, name, kind, sessionPrefix, orchestratorAgent. */
  @Get()
  @ApiOkResponse({ description: 'narrow summaries', schema: ref('ProjectList') })
  async list(): Promise<{ projects: ProjectSummary[] }> {
    return { projects: await this.readModels.listProjects() };
  }

  /** One project with secret values masked and its orchestrator's health; 404 if unknown. */
  @Get(':id')
  @ApiOkResponse({ description: 'the project, secret values masked, with its orchestrator', schema: ref('Project') })
  async get(@Param('id') id: string): Promise<ProjectView & { orchestrator?: ProjectOrchestratorView }> {
    const project = await this.readModels.getProject(id);
    if (!project) throw projectNotFound(id, 'id');
    if (!project.activeOrchestrator) return project;
    return { ...project, orchestrator: await this.orchestratorOf(project.activeOrchestrator, project.orchestratorAgent) };
  }

  /**
   * Forgets env values for good (crypto-shredding, docs/ARCHITECTURE.md §4c): `names`, or every configured one when absent.
   * 200 with the project, those values shown `[forgotten]`; the log keeps names only and stays verifiable; agents and
   * tools launched afterwards do not receive them. 404 unknown project, 400 naming `names[i]` for a name not configured.
   */
  @Post(':id/env/forget')
  @HttpCode(200)
  @RequiresAccess('admin') // a writer cannot forget env values (docs/ARCHITECTURE.md §8)
  @AnswersBeforeProjection() // the project's stream and the secret store; the answer is its fold (docs/ARCHITECTURE.md §5)
  @ApiOkResponse({ description: 'the project with the forgotten values shown as [forgotten]', schema: ref('Project') })
  forgetEnv(@Param('id') id: string, @Body() body: ForgetEnvDto, @Ctx() context: CommandContext): Promise<ProjectView> {
    return this.commands.execute(new ForgetProjectEnvCommand(id, body.names, context));
  }

  /**
   * Ensure (`clean` false: 200 with the live orchestrator, restored under its id if interrupted; 201 when a new one was
   * started) or replace (`clean` true: 201 with the verified new one; 409 ORCHESTRATOR.REPLACE_INCOMPLETE when it
   * stopped half-way, the old one left retiring with the reason; retry to complete it).
   */
  @Post(':id/orchestrator')
  // Waits for the projection: a replacement terminates the old orchestrator and the bearer guard reads the new one's kind from its snapshot (docs/ARCHITECTURE.md §5).
  @ApiCreatedResponse({ description: 'the orchestrator (201 started by this call, 200 existing)', schema: ref('Session') })
  async orchestrator(
    @Param('id') id: string,
    @Body() body: OrchestratorDto,
    @Ctx() context: CommandContext,
    @Res({ passthrough: true }) response: StatusResponse,
  ): Promise<SessionView> {
    const result = await this.commands.execute<OrchestratorCommand, OrchestratorResult>(new OrchestratorCommand(id, body, context));
    response.status(result.created ? 201 : 200);
    return result.session;
  }

  private async orchestratorOf(sessionId: string, configuredAgent: string | undefined): Promise<ProjectOrchestratorView> {
    const stored = await this.readModels.getSession(sessionId);
    if (!stored) return { sessionId, status: 'unknown', health: 'interrupted', reason: 'its session is not projected yet' };
    const view = this.views.withLiveness(stored);
    const health = orchestratorHealth({ status: view.status, agent: view.agent, alive: view.runtime?.alive === true, configuredAgent });
    const reason = view.retirement?.failure?.reason ?? view.retirement?.reason ?? view.interruption?.reason ?? view.termination?.reason
      ?? (health === 'restart_needed' ? `runs ${view.agent}; the project's orchestratorAgent is ${configuredAgent}` : undefined);
    return { sessionId, status: view.status, agent: view.agent, health, ...(reason !== undefined ? { reason } : {}) };
  }
}
