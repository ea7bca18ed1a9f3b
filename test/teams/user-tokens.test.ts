import { randomBytes } from 'node:crypto';
import { StaleUserTokenError, UserTokens } from '@runledger/infra/auth/user-tokens';
import { usersMigration } from '@runledger/infra/auth/users.schema';
import { migrate } from '@runledger/infra/database';
import { describeEachEngine } from '../support/stores';

describeEachEngine('the personal-token store (docs/ARCHITECTURE.md §8)', (engine, name) => {
  const key = randomBytes(32);
  let tokens: UserTokens;
  beforeAll(async () => {
    await migrate(engine().db, [usersMigration]);
    tokens = new UserTokens(engine().db, key);
  });

  it('stores a keyed hash, finds the holder by the token, and nothing by another key or a made-up token', async () => {
    const token = await tokens.issue('ada', 'writer', 0, '2026-12-07T00:00:00.000Z');
    expect(await tokens.verify(token)).toEqual({ name: 'ada', role: 'writer', revision: 0 });
    const { rows } = await engine().db.query<{ token_hash: string }>('SELECT token_hash FROM rl_users WHERE name = $1', ['ada']);
    expect(rows[0].token_hash).toBe(tokens.hash(token));
    expect(rows[0].token_hash).not.toContain(token.slice(5));
    expect(await new UserTokens(engine().db, randomBytes(32)).verify(token)).toBeNull();
    expect(await tokens.verify(`rlu1.${randomBytes(32).toString('base64url')}`)).toBeNull();
    expect(await tokens.verify('not-a-personal-token')).toBeNull();
  });

  it(`revokes at once, for this process and (on ${name}) for another one sharing the database`, async () => {
    const token = await tokens.issue('bob', 'reader', 0, '2026-12-07T00:00:00.000Z');
    const other = new UserTokens(engine().db, key);
    expect(await other.verify(token)).not.toBeNull();
    expect(await tokens.verify(token)).not.toBeNull(); // cached where the process owns the store
    await tokens.revoke('bob', '2026-12-07T00:01:00.000Z');
    expect(await tokens.verify(token)).toBeNull();
    expect(await tokens.active('bob')).toBeNull();
    if (name === 'postgres') expect(await other.verify(token)).toBeNull();
    expect((await tokens.list()).find((u) => u.name === 'bob')).toEqual({ name: 'bob', role: 'reader', createdAt: '2026-12-07T00:00:00.000Z', revokedAt: '2026-12-07T00:01:00.000Z', active: false });
  });

  it('a later add replaces a revoked token; an add older than the stored one is refused', async () => {
    const again = await tokens.issue('bob', 'admin', 2, '2026-12-07T00:02:00.000Z');
    expect(await tokens.verify(again)).toEqual({ name: 'bob', role: 'admin', revision: 2 });
    await expect(tokens.issue('bob', 'reader', 1, '2026-12-07T00:03:00.000Z')).rejects.toThrow(StaleUserTokenError);
    expect(await tokens.verify(again)).toEqual({ name: 'bob', role: 'admin', revision: 2 });
  });
});
