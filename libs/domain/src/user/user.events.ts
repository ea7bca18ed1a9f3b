/** A person's role (docs/ARCHITECTURE.md §8): `admin` does everything, `writer` all but managing people and forgetting env values, `reader` reads only. */
export type UserRole = 'admin' | 'writer' | 'reader';

/** Every role, most powerful first. */
export const USER_ROLES: readonly UserRole[] = ['admin', 'writer', 'reader'];

/** A person was given a personal token with `role` (`at` ISO-8601); the token itself is never in the log. */
export interface UserAdded {
  type: 'UserAdded';
  data: { name: string; role: UserRole; at: string };
}

/** A person's token was revoked (`at` ISO-8601): their next request is 401; their past events stay as they are. */
export interface UserRevoked {
  type: 'UserRevoked';
  data: { name: string; at: string };
}

/** Events of a `user-<name>` stream. */
export type UserEvent = UserAdded | UserRevoked;
