import { asDatabaseError, DatabaseUnavailableError, isDatabaseUnavailable, storeUnavailable } from './database-unavailable';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('an unreachable database is told apart from a refused statement', () => {
  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    ['a connection dropped mid-query', new Error('Connection terminated unexpectedly')],
    ['an administrator shutdown', withCode('terminating connection due to administrator command', '57P01')],
    ['a server starting up', withCode('the database system is starting up', '57P03')],
    ['a connection exception (class 08)', withCode('connection failure', '08006')],
    ['a refusal nested as a cause', new Error('outer', { cause: withCode('connect ECONNREFUSED', 'ECONNREFUSED') })],
    ['every address refused', new AggregateError([withCode('connect ECONNREFUSED ::1', 'ECONNREFUSED')], 'all failed')],
  ])('%s is unavailable', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(() => asDatabaseError(error)).toThrow(DatabaseUnavailableError);
  });

  it.each([
    ['a unique violation', withCode('duplicate key value', '23505')],
    ['a serialization failure', withCode('could not serialize access', '40001')],
    ['invalid text', withCode('invalid byte sequence for encoding "UTF8": 0x00', '22021')],
    ['a plain error', new Error('boom')],
  ])('%s is rethrown as it is', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
    expect(() => asDatabaseError(error)).toThrow(error);
  });

  it('finds the DatabaseUnavailableError in a cause chain, and nothing in a socket error from elsewhere', () => {
    const unavailable = new DatabaseUnavailableError(withCode('connect ECONNREFUSED', 'ECONNREFUSED'));
    expect(storeUnavailable(new Error('wrapped', { cause: unavailable }))).toBe(unavailable);
    expect(storeUnavailable(withCode('connect ECONNREFUSED (an http call)', 'ECONNREFUSED'))).toBeNull();
    expect(unavailable).toMatchObject({ code: 'STORE.UNAVAILABLE', message: expect.stringMatching(/unreachable .*ECONNREFUSED/) });
  });
});
