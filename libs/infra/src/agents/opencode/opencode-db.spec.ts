import { OpencodeDbError, opencodeDbReader, queryOpencodeDb, xdgDataHomeOf } from './opencode-db';

describe('OpenCode database reader (docs/ARCHITECTURE.md §4d)', () => {
  it('finds XDG_DATA_HOME from the database path, refusing another layout', () => {
    expect(xdgDataHomeOf('/home/me/.local/share/opencode/opencode.db')).toBe('/home/me/.local/share');
    expect(() => xdgDataHomeOf('/tmp/other.db')).toThrow(OpencodeDbError);
  });

  it('takes RUNLEDGER_OPENCODE_DB_READER, else sqlite3 when on the PATH, else opencode; refuses another value by name', () => {
    expect(opencodeDbReader({ PATH: '', RUNLEDGER_OPENCODE_DB_READER: 'opencode' })).toBe('opencode');
    expect(opencodeDbReader({ PATH: '' })).toBe('opencode');
    expect(() => opencodeDbReader({ PATH: '', RUNLEDGER_OPENCODE_DB_READER: 'sqlite3' })).toThrow(/no sqlite3 is on the PATH/);
    expect(() => opencodeDbReader({ RUNLEDGER_OPENCODE_DB_READER: 'mysql' })).toThrow(/RUNLEDGER_OPENCODE_DB_READER must be sqlite3 or opencode/);
  });

  it('rejects with OpencodeDbError naming the reader when it cannot run', async () => {
    await expect(queryOpencodeDb('/no/such/opencode', '/x/opencode/opencode.db', 'select 1', { PATH: '', RUNLEDGER_OPENCODE_DB_READER: 'opencode' }))
      .rejects.toThrow(/\/no\/such\/opencode db failed on \/x\/opencode\/opencode.db/);
  });
});
