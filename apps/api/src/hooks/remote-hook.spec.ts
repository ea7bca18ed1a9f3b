import { DomainError } from '@runledger/domain';
import { remoteHookOf } from './hooks.controller';

describe('remoteHookOf: the remote flight recorder\'s hook headers (docs/ARCHITECTURE.md §4f)', () => {
  const field = (host?: string, project?: string): unknown => {
    try {
      remoteHookOf(host, project);
      return null;
    } catch (error) {
      return error instanceof DomainError ? [error.code, error.details?.field] : error;
    }
  };

  it('is nothing for a hook of this machine, both headers for a remote one', () => {
    expect(remoteHookOf(undefined, undefined)).toBeUndefined();
    expect(remoteHookOf('laptop-7.local', 'team')).toEqual({ host: 'laptop-7.local', projectId: 'team' });
  });

  it('refuses one header without the other, or a value that is not a host name or project id, naming the header', () => {
    expect(field('laptop', undefined)).toEqual(['HOOK.INVALID', 'X-Runledger-Project']);
    expect(field(undefined, 'team')).toEqual(['HOOK.INVALID', 'X-Runledger-Host']);
    expect(field('lap top', 'team')).toEqual(['HOOK.INVALID', 'X-Runledger-Host']);
    expect(field('laptop', '../team')).toEqual(['HOOK.INVALID', 'X-Runledger-Project']);
  });
});
