import { DomainError } from '../shared/domain-error';

/** 404: nobody of this name was ever added. */
export const UserNotFound = 'USER.NOT_FOUND';
/** 409: a person of this name holds a live token (revoke it first). */
export const UserExists = 'USER.EXISTS';
/** 400: a field is invalid; details.field names it (invariant 13). */
export const UserInvalid = 'USER.INVALID';

/** USER.NOT_FOUND (404) naming the person. */
export const userNotFound = (name: string): DomainError => new DomainError(UserNotFound, 'not_found', `no user ${name}`, { name, field: 'name' });

/** USER.EXISTS (409) naming the person and their role. */
export const userExists = (name: string, role: string): DomainError =>
  new DomainError(UserExists, 'conflict', `user ${name} already has a live token (role ${role}): revoke it first`, { name, role });

/** USER.INVALID (400) with details {field}. */
export const userInvalid = (field: string, message: string): DomainError => new DomainError(UserInvalid, 'invalid', `${field}: ${message}`, { field });
