import { issueSessionCredential, verifySessionCredential } from './session-credential';

describe('session credentials', () => {
  const secret = 'admin-token-0123456789';

  it('names the session it was issued for, dots in the id included', () => {
    expect(verifySessionCredential(secret, issueSessionCredential(secret, 'rl.app-12'))).toBe('rl.app-12');
  });

  it('refuses a credential with another MAC, another secret, or another session id spliced in', () => {
    const credential = issueSessionCredential(secret, 'rl-1');
    expect(verifySessionCredential('another-secret', credential)).toBeNull();
    expect(verifySessionCredential(secret, credential.replace('rl-1', 'rl-2'))).toBeNull();
    expect(verifySessionCredential(secret, `${credential.slice(0, -2)}xx`)).toBeNull();
    expect(verifySessionCredential(secret, secret)).toBeNull();
    expect(verifySessionCredential(secret, 'rls1..abc')).toBeNull();
  });

  it('never contains the admin token', () => {
    expect(issueSessionCredential(secret, 'rl-1')).not.toContain(secret);
  });
});
