import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMinSize, IsIn, IsInt, IsObject, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateBy,
} from 'class-validator';
import type { ModelPrice } from '@runledger/domain';
import { GIT_REV } from '../../sessions/dto/spawn-session.dto';
import { IsOptional, IsPlainText, NestedArray } from '../../http/field-rules';

/** Most models one project's price table may name. */
export const MAX_PROJECT_PRICES = 200;
const PRICE_KINDS = ['inputPerMTok', 'outputPerMTok', 'cacheReadPerMTok', 'cacheCreationPerMTok'] as const;
const PRICE_TABLE_MESSAGE =
  `prices must map at most ${MAX_PROJECT_PRICES} model ids (1-200 plain characters) to {${PRICE_KINDS.join(', ')}}, each a number from 0 to 1000000`;

/** True for a price table: model id → the four per-million-token prices, finite and non-negative, nothing else. */
const isPriceTable = (value: unknown): boolean => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_PROJECT_PRICES) return false;
  return entries.every(([model, price]) => {
    if (model.length === 0 || model.length > 200 || /[\u0000-\u001f\u007f]/.test(model)) return false;
    if (price === null || typeof price !== 'object' || Array.isArray(price)) return false;
    const keys = Object.keys(price);
    return keys.length === PRICE_KINDS.length && PRICE_KINDS.every((k) => {
      const n = (price as Record<string, unknown>)[k];
      return typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 1_000_000;
    });
  });
};

const SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Most repositories of one workspace project. */
export const MAX_PROJECT_REPOS = 50;

/** One repository of a workspace project. */
export class ProjectRepoDto {
  /** Name of the repo inside the workspace (a slug; used in worktree paths and refs). */
  @IsString() @Matches(SLUG, { message: 'name must be a slug (letters, digits, . _ -)' }) @MaxLength(60)
  name!: string;

  /** Absolute path of a git repository. */
  @IsString() @IsPlainText() @MinLength(1) @MaxLength(4096)
  path!: string;
}

/** Body of `POST /projects`: `{name, repoPath}` or `{name, repos}` (docs/ARCHITECTURE.md §5). */
export class RegisterProjectDto {
  @IsString() @IsPlainText() @MinLength(1) @MaxLength(200)
  name!: string;

  @IsOptional() @IsString() @Matches(SLUG, { message: 'id must be a slug (letters, digits, . _ -)' }) @MaxLength(60)
  id?: string;

  @IsOptional() @IsString() @IsPlainText() @MinLength(1) @MaxLength(4096)
  repoPath?: string;

  @ApiPropertyOptional({ maxItems: MAX_PROJECT_REPOS })
  @IsOptional() @ArrayMinSize(1) @NestedArray(() => ProjectRepoDto, MAX_PROJECT_REPOS)
  repos?: ProjectRepoDto[];

  @IsOptional() @IsString() @Matches(SLUG, { message: 'sessionPrefix must be a slug (letters, digits, . _ -)' }) @MaxLength(40)
  sessionPrefix?: string;

  @IsOptional() @IsString() @IsPlainText() @Matches(GIT_REV, { message: 'defaultBranch must be a branch name (no whitespace, not starting with -)' }) @MinLength(1) @MaxLength(250)
  defaultBranch?: string;

  @IsOptional() @IsString() @IsPlainText() @MaxLength(100)
  orchestratorAgent?: string;

  @IsOptional() @IsObject()
  @ValidateBy({
    name: 'stringValues',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' && value !== null &&
        Object.entries(value).every(([k, v]) => ENV_NAME.test(k) && typeof v === 'string' && !v.includes('\u0000')),
      defaultMessage: () => 'env must map names (letters, digits, _; not starting with a digit) to string values without NUL',
    },
  })
  env?: Record<string, string>;

  /** After the hook hold: `closed` (default) blocks a PreToolUse with a reason the agent reads; `open` lets the tool proceed. */
  @IsOptional() @IsIn(['closed', 'open'])
  hookFailure?: 'closed' | 'open';

  /** How long (seconds) a hook holds the agent while runledger does not answer (default 30). */
  @IsOptional() @IsInt() @Min(0) @Max(540)
  hookHoldSeconds?: number;

  /** `command` (default: `runledger hook claude-code`, which can hold) or `http` hooks. */
  @IsOptional() @IsIn(['command', 'http'])
  hookTransport?: 'command' | 'http';

  /** The project's own model prices over the shipped table: model id (or id prefix) → USD per million tokens of each kind. */
  @ApiPropertyOptional({ description: 'model id or prefix → {inputPerMTok, outputPerMTok, cacheReadPerMTok, cacheCreationPerMTok} (USD per million tokens)' })
  @IsOptional() @IsObject() @ValidateBy({ name: 'isPriceTable', validator: { validate: isPriceTable, defaultMessage: () => PRICE_TABLE_MESSAGE } })
  prices?: Record<string, ModelPrice>;
}
