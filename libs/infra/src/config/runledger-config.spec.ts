import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, isLoopbackHost, loadConfig } from './runledger-config';

describe('TLS configuration (docs/ARCHITECTURE.md §8)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-config-'));
  writeFileSync(join(dir, 'cert.pem'), 'CERT');
  writeFileSync(join(dir, 'key.pem'), 'KEY');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const refusal = (env: NodeJS.ProcessEnv): string | undefined => {
    try {
      loadConfig(env, dir);
    } catch (error) {
      if (error instanceof ConfigError) return error.variable;
      throw error;
    }
    return undefined;
  };

  it('reads both files (relative to the working directory), or neither', () => {
    expect(loadConfig({}, dir).tls).toBeUndefined();
    expect(loadConfig({ RUNLEDGER_TLS_CERT: 'cert.pem', RUNLEDGER_TLS_KEY: 'key.pem', RUNLEDGER_TLS_CA: 'cert.pem' }, dir).tls).toEqual({
      certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem'), cert: Buffer.from('CERT'), key: Buffer.from('KEY'), caFile: join(dir, 'cert.pem'),
    });
  });

  it('refuses half a pair or an unreadable file, naming the variable', () => {
    expect(refusal({ RUNLEDGER_TLS_CERT: 'cert.pem' })).toBe('RUNLEDGER_TLS_KEY');
    expect(refusal({ RUNLEDGER_TLS_KEY: 'key.pem' })).toBe('RUNLEDGER_TLS_CERT');
    expect(refusal({ RUNLEDGER_TLS_CERT: 'cert.pem', RUNLEDGER_TLS_KEY: 'missing.pem' })).toBe('RUNLEDGER_TLS_KEY');
    expect(refusal({ RUNLEDGER_TLS_CERT: 'cert.pem', RUNLEDGER_TLS_KEY: 'key.pem', RUNLEDGER_TLS_CA: 'nope.pem' })).toBe('RUNLEDGER_TLS_CA');
  });

  it('tells a loopback bind from one the network reaches', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '::', '192.168.1.5', 'example.com', '127.0.0.1.example.com'].map(isLoopbackHost)).toEqual([false, false, false, false, false]);
  });
});
