import type { UserRole } from '@runledger/domain';
import { CommandContext } from '../event-sourcing/command-context';

/** Give person `name` a personal token with `role` (docs/ARCHITECTURE.md §8); answers the token once. */
export class AddUserCommand {
  constructor(readonly name: string, readonly role: UserRole, readonly context: CommandContext) {}
}

/** Revoke person `name`'s token at once (docs/ARCHITECTURE.md §8). */
export class RevokeUserCommand {
  constructor(readonly name: string, readonly context: CommandContext) {}
}

/** What `POST /users` answers: the person and their token, shown this once and kept nowhere. */
export interface AddedUser {
  name: string;
  role: UserRole;
  token: string;
}
