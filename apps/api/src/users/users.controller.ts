import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AddedUser, AddUserCommand, CommandContext, RevokeUserCommand } from '@runledger/application';
import { UserTokens } from '@runledger/infra/auth/user-tokens';
import { RequiresAccess } from '../http/principal';
import { AnswersBeforeProjection } from '../http/read-your-writes.interceptor';
import { Ctx } from '../http/request-context';
import { AddedUserView, AddUserDto, UserListView, UserNameParams } from './dto/user.dto';

/** `/users` (docs/ARCHITECTURE.md §8): people and their personal tokens; admins only. */
@ApiTags('users')
@ApiBearerAuth('bearer')
@RequiresAccess('admin')
@Controller('users')
export class UsersController {
  constructor(private readonly commands: CommandBus, private readonly tokens: UserTokens) {}

  /** 201 `{name, role, token}`: the token is shown this once; 409 while the name holds a live token; 400 naming the field. */
  @Post()
  @AnswersBeforeProjection() // the person's stream and the token store; no read model (docs/ARCHITECTURE.md §5)
  @ApiCreatedResponse({ description: 'the person and their token (shown once)', type: AddedUserView })
  add(@Body() body: AddUserDto, @Ctx() context: CommandContext): Promise<AddedUser> {
    return this.commands.execute(new AddUserCommand(body.name, body.role, context));
  }

  /** Everyone ever added: name, role, when, whether revoked (never a token). */
  @Get()
  @ApiOkResponse({ description: 'people by name', type: UserListView })
  async list(): Promise<UserListView> {
    return { users: await this.tokens.list() };
  }

  /** 204: the token is refused from the next request on (every process); their events stay as they are; 404 for nobody. */
  @Delete(':name')
  @HttpCode(204)
  @AnswersBeforeProjection() // the person's stream and the token store; no read model (docs/ARCHITECTURE.md §5)
  @ApiNoContentResponse({ description: 'revoked (revoking again changes nothing)' })
  async revoke(@Param() params: UserNameParams, @Ctx() context: CommandContext): Promise<void> {
    await this.commands.execute(new RevokeUserCommand(params.name, context));
  }
}
