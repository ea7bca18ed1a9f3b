import { Body, Controller, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { BudgetGuard, BudgetStatus, CommandContext } from '@runledger/application';
import { Ctx } from '../http/request-context';
import { BudgetDto } from './dto/budget.dto';

/** `/projects/:id/budget`: a project's spending budget over the usage ledger (docs/ARCHITECTURE.md §4g). */
@ApiTags('usage')
@ApiBearerAuth('bearer')
@Controller('projects/:id/budget')
export class BudgetsController {
  constructor(private readonly budgets: BudgetGuard) {}

  /**
   * Sets or changes the budget (`period` default `month`); answers its status measured now. Raising an exhausted enforced
   * budget lets the project's agents go on at their next tool call and spawns again; a change appends `ProjectBudgetSet`
   * (nothing when it is the same), and crossings the new amount makes are recorded at once. 404 unknown project, 400 naming the field.
   */
  @Put()
  @HttpCode(200)
  // Waits for the projection (the default): the answer measures the usage ledger, a read model.
  @ApiOkResponse({ description: 'the budget and its status', schema: { type: 'object' } })
  set(@Param('id') id: string, @Body() body: BudgetDto, @Ctx() context: CommandContext): Promise<BudgetStatus> {
    return this.budgets.setBudget(id, { usd: body.usd, period: body.period ?? 'month', enforce: body.enforce }, context);
  }

  /** The budget and its status measured now (`budget: null` when none is set); 404 unknown project. */
  @Get()
  @ApiOkResponse({ description: 'the budget and its status', schema: { type: 'object' } })
  get(@Param('id') id: string): Promise<BudgetStatus> {
    return this.budgets.status(id);
  }
}
