import { Controller, Get, HttpCode, Inject, Optional, Post, Query, ServiceUnavailableException } from '@nestjs/common';
import { SweepReport, WORKTREE_SWEEPER, WorktreeSweeper } from '@runledger/application';
import { ApiBearerAuth, ApiOkResponse, ApiQuery, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { ReadModels, WorktreeListItem } from '@runledger/infra/read-models';
import { IsIn } from 'class-validator';
import { IsOptional } from '../http/field-rules';
import { ref } from '../openapi/schemas';

/** `GET /worktrees?stranded=true`: only the worktrees flagged stranded. */
export class ListWorktreesQuery {
  @IsOptional() @IsIn(['true', 'false'])
  stranded?: 'true' | 'false';
}

/** `/worktrees` (docs/ARCHITECTURE.md §5): every worktree runledger knows or found on disk, with its state and the rule that decided it. */
@ApiTags('worktrees')
@ApiBearerAuth('bearer')
@Controller('worktrees')
export class WorktreesController {
  constructor(
    private readonly readModels: ReadModels,
    @Optional() @Inject(WORKTREE_SWEEPER) private readonly sweeper: WorktreeSweeper | null,
  ) {}

  /** `{worktrees: [...]}`: session records and the paths runledger holds (orphans, Claude Code worktrees), by path. */
  @Get()
  @ApiQuery({ name: 'stranded', required: false, enum: ['true', 'false'] })
  @ApiOkResponse({ description: 'worktrees by path', schema: ref('WorktreeList') })
  async list(@Query() query: ListWorktreesQuery): Promise<{ worktrees: WorktreeListItem[] }> {
    return { worktrees: await this.readModels.listWorktrees({ stranded: query.stranded === 'true' }) };
  }

  /** Runs one reaper sweep now and answers its report; 503 in a process without the worker role. */
  @Post('sweep')
  @HttpCode(200)
  // Waits like any write, first for what routes answering at commit wrote: the reaper reads projects, session owners and worktree records from the read models (docs/ARCHITECTURE.md §5).
  @ApiServiceUnavailableResponse({ description: 'this process does not run the worker role', schema: ref('Error') })
  @ApiOkResponse({ description: 'the sweep report', schema: ref('SweepReport') })
  sweep(): Promise<SweepReport> {
    if (!this.sweeper) throw new ServiceUnavailableException('this process does not run the reaper (start it with `runledger start` or `runledger worker`)');
    return this.sweeper.sweep();
  }
}
