import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CommandContext, RegisterProjectCommand, projectNotFound } from '@runledger/application';
import { ProjectSummary, ProjectView } from '@runledger/domain';
import { ReadModels } from '@runledger/infra/read-models';
import { Ctx } from '../http/request-context';
import { ref } from '../openapi/schemas';
import { RegisterProjectDto } from './dto/register-project.dto';

/** `/projects`: register and read projects (DESIGN §5); lists never carry config or env (seed 000). */
@ApiTags('projects')
@ApiBearerAuth('bearer')
@Controller('projects')
export class ProjectsController {
  constructor(private readonly commands: CommandBus, private readonly readModels: ReadModels) {}

  /** 201 with the project (env values masked); 400 naming the field (relative path, not a repo), 409 if the id exists. */
  @Post()
  @HttpCode(201)
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

  /** One project with secret values masked; 404 if unknown. */
  @Get(':id')
  @ApiOkResponse({ description: 'the project, secret values masked', schema: ref('Project') })
  async get(@Param('id') id: string): Promise<ProjectView> {
    const project = await this.readModels.getProject(id);
    if (!project) throw projectNotFound(id, 'id');
    return project;
  }
}
