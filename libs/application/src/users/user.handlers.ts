import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { userDecider, userStreamName } from '@runledger/domain';
import { UserTokens } from '@runledger/infra/auth/user-tokens';
import { DeciderStreams } from '../event-sourcing/decider-streams';
import { AddedUser, AddUserCommand, RevokeUserCommand } from './user.commands';

/**
 * Appends `UserAdded` to `user-<name>` (the stream's expected revision settles two concurrent adds), then stores the
 * new token's keyed hash under that revision. The log first: a crash in between leaves a person the log calls added
 * whose token never worked (nobody saw it), never a token that works unrecorded. 409 while a token lives, 400 for a bad name.
 */
@CommandHandler(AddUserCommand)
export class AddUserHandler implements ICommandHandler<AddUserCommand, AddedUser> {
  constructor(private readonly streams: DeciderStreams, private readonly tokens: UserTokens) {}

  async execute({ name, role, context }: AddUserCommand): Promise<AddedUser> {
    const at = new Date().toISOString();
    const decided = await this.streams.handle(userStreamName(name), userDecider, (state) => userDecider.decide({ type: 'AddUser', data: { name, role, at } }, state), context);
    const token = await this.tokens.issue(name, role, decided.revision, at);
    return { name, role, token };
  }
}

/**
 * Revokes a token: the stored hash is erased first (the token is refused from the next request on, in every process),
 * then `UserRevoked` is appended; a crash in between leaves a revoked token whose revocation a retry records. Past
 * events of the person are never touched. 404 for nobody; revoking twice appends nothing.
 */
@CommandHandler(RevokeUserCommand)
export class RevokeUserHandler implements ICommandHandler<RevokeUserCommand, void> {
  constructor(private readonly streams: DeciderStreams, private readonly tokens: UserTokens) {}

  async execute({ name, context }: RevokeUserCommand): Promise<void> {
    const at = new Date().toISOString();
    const stream = userStreamName(name);
    const { state } = await this.streams.load(stream, userDecider);
    userDecider.decide({ type: 'RevokeUser', data: { name, at } }, state); // 404 before anything is written
    await this.tokens.revoke(name, at);
    await this.streams.handle(stream, userDecider, (current) => userDecider.decide({ type: 'RevokeUser', data: { name, at } }, current), context);
  }
}
