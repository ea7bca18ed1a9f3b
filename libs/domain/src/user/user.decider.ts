import { assertNever } from '../shared/assert-never';
import type { Decider } from '../shared/decider';
import type { UserCommand } from './user.commands';
import { userExists, userInvalid, userNotFound } from './user.errors';
import type { UserEvent, UserRole } from './user.events';

/** A person as their `user-<name>` stream folds: never added, holding a live token, or revoked (a revoked name may be added again). */
export type User =
  | { status: 'none' }
  | { status: 'active'; name: string; role: UserRole; since: string }
  | { status: 'revoked'; name: string; role: UserRole; revokedAt: string };

/** Names people get: 1-64 of letters, digits, `.`, `_`, `-`, starting with a letter or digit (they appear in `user:<name>` actors and URLs). */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The name the bootstrap admin token acts under (`user:admin`): nobody else may take it. */
export const BOOTSTRAP_ADMIN = 'admin';

/** Stream of one person: `user-<name>`. */
export const userStreamName = (name: string): string => `user-${name}`;

/** 400 naming `name` unless it is a valid, unreserved user name. */
export const assertUserName = (name: string): void => {
  if (!USER_NAME.test(name)) throw userInvalid('name', 'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  if (name === BOOTSTRAP_ADMIN) throw userInvalid('name', `"${BOOTSTRAP_ADMIN}" is the bootstrap admin token's name`);
};

const decide = (command: UserCommand, state: User): UserEvent[] => {
  switch (command.type) {
    case 'AddUser':
      assertUserName(command.data.name);
      if (state.status === 'active') throw userExists(state.name, state.role);
      return [{ type: 'UserAdded', data: { name: command.data.name, role: command.data.role, at: command.data.at } }];
    case 'RevokeUser':
      if (state.status === 'none') throw userNotFound(command.data.name);
      return state.status === 'revoked' ? [] : [{ type: 'UserRevoked', data: { name: state.name, at: command.data.at } }];
    default:
      return assertNever(command);
  }
};

const evolve = (state: User, event: UserEvent): User => {
  switch (event.type) {
    case 'UserAdded':
      return { status: 'active', name: event.data.name, role: event.data.role, since: event.data.at };
    case 'UserRevoked':
      return state.status === 'none' ? state : { status: 'revoked', name: state.name, role: state.role, revokedAt: event.data.at };
    default:
      return state;
  }
};

/** The decider of a person's stream: add (409 while a token is live), revoke (404 for nobody; a second revoke appends nothing). */
export const userDecider: Decider<User, UserCommand, UserEvent> = { decide, evolve, initialState: () => ({ status: 'none' }) };
