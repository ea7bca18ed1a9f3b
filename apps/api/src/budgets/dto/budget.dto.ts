import { MAX_BUDGET_USD, type BudgetPeriod } from '@runledger/domain';
import { IsBoolean, IsIn, IsNumber, Max, Min } from 'class-validator';
import { IsOptional } from '../../http/field-rules';

/** Body of `PUT /projects/:id/budget` (docs/ARCHITECTURE.md §4g). */
export class BudgetDto {
  /** The budget in USD for each period (0 to 1,000,000). */
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(MAX_BUDGET_USD)
  usd!: number;

  /** What is counted: every day since the project began (`total`), the current UTC day, or the current UTC month (default). */
  @IsOptional() @IsIn(['total', 'day', 'month'])
  period?: BudgetPeriod;

  /** Past 100 %: block the project's agents at their next tool call and refuse spawns (409 BUDGET.EXCEEDED). */
  @IsBoolean()
  enforce!: boolean;
}
