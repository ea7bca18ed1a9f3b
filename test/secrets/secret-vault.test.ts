import { randomBytes } from 'node:crypto';
import { migrate } from '@runledger/infra/database';
import { SecretCipher, SecretKeyMismatchError, secretsMigration, SecretVault } from '@runledger/infra/secrets';
import { describeEachEngine } from '../support/stores';

describeEachEngine('the secret store (docs/ARCHITECTURE.md §4c)', (engine) => {
  const key = randomBytes(32);
  let vault: SecretVault;
  beforeAll(async () => {
    await migrate(engine().db, [secretsMigration]);
    vault = new SecretVault(engine().db, new SecretCipher(key));
  });

  it('seals values (no plain text at rest), opens them by the fingerprints the log names, and ignores another fingerprint', async () => {
    const fingerprints = await vault.seal('p1', { API_KEY: 'vault-api-key-value', OTHER: 'vault-other-value' });
    expect(fingerprints.API_KEY).toBe(vault.fingerprint('vault-api-key-value'));
    const { rows } = await engine().db.query<{ n: number }>(`SELECT count(*)::int AS n FROM rl_project_secrets t WHERE strpos(t::text, 'vault-') > 0`);
    expect(rows[0].n).toBe(0);
    expect(await vault.open('p1', fingerprints)).toEqual({ API_KEY: 'vault-api-key-value', OTHER: 'vault-other-value' });
    expect(await vault.open('p1', { API_KEY: vault.fingerprint('a refused registration') })).toEqual({});
    expect(await vault.open('p2', fingerprints)).toEqual({});
  });

  it('knows the values for redaction, also those another process sealed, and bumps its generation on change', async () => {
    const other = new SecretVault(engine().db, new SecretCipher(key));
    const before = other.generation;
    await other.load();
    expect(other.knownValues().sort()).toEqual(['vault-api-key-value', 'vault-other-value']);
    expect(other.generation).toBeGreaterThan(before);
    const settled = other.generation;
    await other.load();
    expect(other.generation).toBe(settled);
  });

  it('forgets for good: the rows are gone, nothing opens, and another process drops the values on its next load', async () => {
    const other = new SecretVault(engine().db, new SecretCipher(key));
    await other.load();
    const fingerprints = { API_KEY: vault.fingerprint('vault-api-key-value') };
    expect(await vault.forget('p1', ['API_KEY'])).toBe(1);
    expect(await vault.open('p1', fingerprints)).toEqual({});
    expect(vault.knownValues()).toEqual(['vault-other-value']);
    await other.load();
    expect(other.knownValues()).toEqual(['vault-other-value']);
    expect(await vault.forget('p1', ['API_KEY'])).toBe(0);
  });

  it('refuses to open a store sealed under another key, naming both key ids', async () => {
    const stranger = new SecretVault(engine().db, new SecretCipher(randomBytes(32)));
    await expect(stranger.load()).rejects.toThrow(SecretKeyMismatchError);
    await expect(stranger.load()).rejects.toThrow(new RegExp(`sealed under key ${vault.cipher.keyId}, but this process has key ${stranger.cipher.keyId}`));
  });
});
