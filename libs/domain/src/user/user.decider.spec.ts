import { isDomainError, replay } from '@runledger/domain';
import { mayAccess, routeAccess } from './user-access.policy';
import { userDecider } from './user.decider';
import type { UserEvent } from './user.events';

const at = '2026-12-07T00:00:00.000Z';
const added = (name = 'ada', role: 'admin' | 'writer' | 'reader' = 'reader'): UserEvent => ({ type: 'UserAdded', data: { name, role, at } });
const revoked = (name = 'ada'): UserEvent => ({ type: 'UserRevoked', data: { name, at } });
const given = (events: UserEvent[]) => replay(userDecider, events);
const refusal = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    if (isDomainError(error)) return error.code;
    throw error;
  }
  return undefined;
};

describe('user decider', () => {
  it('adds a person once; a second add while the token lives is 409', () => {
    expect(userDecider.decide({ type: 'AddUser', data: { name: 'ada', role: 'writer', at } }, given([]))).toEqual([{ type: 'UserAdded', data: { name: 'ada', role: 'writer', at } }]);
    expect(refusal(() => userDecider.decide({ type: 'AddUser', data: { name: 'ada', role: 'reader', at } }, given([added()])))).toBe('USER.EXISTS');
  });

  it('adds a revoked name again (a new token, a new role)', () => {
    expect(userDecider.decide({ type: 'AddUser', data: { name: 'ada', role: 'admin', at } }, given([added(), revoked()]))).toHaveLength(1);
  });

  it('refuses a malformed or reserved name naming the field', () => {
    for (const name of ['', 'a b', '-x', 'x'.repeat(65), 'admin', 'é']) {
      expect(refusal(() => userDecider.decide({ type: 'AddUser', data: { name, role: 'reader', at } }, given([])))).toBe('USER.INVALID');
    }
  });

  it('revokes a live token once; nobody is 404; a second revoke appends nothing', () => {
    expect(userDecider.decide({ type: 'RevokeUser', data: { name: 'ada', at } }, given([added()]))).toEqual([revoked()]);
    expect(userDecider.decide({ type: 'RevokeUser', data: { name: 'ada', at } }, given([added(), revoked()]))).toEqual([]);
    expect(refusal(() => userDecider.decide({ type: 'RevokeUser', data: { name: 'bob', at } }, given([])))).toBe('USER.NOT_FOUND');
  });
});

describe('user access policy', () => {
  it('a reader reads, a writer writes, only an admin manages people', () => {
    expect([mayAccess('reader', 'read'), mayAccess('reader', 'write'), mayAccess('reader', 'admin')]).toEqual([true, false, false]);
    expect([mayAccess('writer', 'read'), mayAccess('writer', 'write'), mayAccess('writer', 'admin')]).toEqual([true, true, false]);
    expect([mayAccess('admin', 'read'), mayAccess('admin', 'write'), mayAccess('admin', 'admin')]).toEqual([true, true, true]);
  });

  it('a route needs write for every method but GET and HEAD unless it says otherwise', () => {
    expect(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => routeAccess(m, undefined))).toEqual(['read', 'read', 'write', 'write', 'write', 'write']);
    expect(routeAccess('GET', 'admin')).toBe('admin');
  });
});
