import { LAUNCHABLE_AGENTS, MAX_BUDGET_USD, type LaunchableAgent } from '@runledger/domain';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsNumber, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsOptional, IsPlainText, HasNoNul } from '../../http/field-rules';

/** A revision as `git rev-parse` takes it: no whitespace, never an option (leading `-`). */
export const GIT_REV = /^[^\s-]\S*$/;

/** Body of `POST /sessions` (docs/ARCHITECTURE.md §5). */
export class SpawnSessionDto {
  @IsString() @IsPlainText() @MinLength(1) @MaxLength(60)
  projectId!: string;

  @IsOptional() @IsIn(['worker', 'orchestrator'])
  kind?: 'worker' | 'orchestrator';

  @IsIn(LAUNCHABLE_AGENTS)
  agent!: LaunchableAgent;

  /** argv of a `command` agent (no shell): e.g. ["sh", "-c", "echo hi > file"]. */
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(200) @IsString({ each: true }) @HasNoNul({ each: true }) @MaxLength(65536, { each: true })
  command?: string[];

  @IsOptional() @IsString() @HasNoNul() @MaxLength(100_000)
  prompt?: string;

  @IsOptional() @IsString() @IsPlainText() @Matches(GIT_REV, { message: 'baseRef must be a branch, tag or commit name (no whitespace, not starting with -)' }) @MinLength(1) @MaxLength(250)
  baseRef?: string;

  /** Where the agent runs: a detached process group, or a tmux session a person can attach to (docs/ARCHITECTURE.md §4a). */
  @IsOptional() @IsIn(['process', 'tmux'])
  runtime?: 'process' | 'tmux';

  /** The session whose agent spawned this one (set from the caller's session credential when it has one). */
  @IsOptional() @IsString() @IsPlainText() @MinLength(1) @MaxLength(200)
  parentSessionId?: string;

  /** The session's own spending limit in USD (docs/ARCHITECTURE.md §4g): past it, its next tool call is blocked with the reason. */
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0.000001) @Max(MAX_BUDGET_USD)
  budgetUsd?: number;
}
