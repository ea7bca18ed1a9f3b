import type { UserRole } from './user.events';

/** Give a person a personal token with a role (`at` ISO-8601, from the caller's clock). */
export interface AddUser {
  type: 'AddUser';
  data: { name: string; role: UserRole; at: string };
}

/** Revoke a person's token (`at` ISO-8601). */
export interface RevokeUser {
  type: 'RevokeUser';
  data: { name: string; at: string };
}

/** Commands of the user decider. */
export type UserCommand = AddUser | RevokeUser;
