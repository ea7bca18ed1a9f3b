import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

/**
 * Validates docker-compose.yml with Debian's `docker-compose config` (package `docker-compose`, 1.29; .ci/run installs
 * it). Without the binary the suite is skipped, saying so, except under CI=true where that is a failure. No image is
 * built or pulled here: `npm run compose:smoke` does that where an engine can pull.
 */
const composeMissing = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).error !== undefined;
const describeWithCompose = composeMissing && process.env.CI !== 'true' ? describe.skip : describe;
if (composeMissing) process.stdout.write(`[runledger tests] ${process.env.CI === 'true' ? 'FAILING' : 'SKIPPED'} compose-config: the docker-compose binary is not installed (apt-get install docker-compose)\n`);

const compose = (...args: string[]): string =>
  execFileSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, RUNLEDGER_TOKEN: 'compose-config-test-token' },
  });

describeWithCompose('docker-compose.yml and the Dockerfile', () => {
  it('is a valid compose file: postgres, one api and several workers on a named volume, each with a healthcheck', () => {
    expect(() => compose('config', '--quiet')).not.toThrow();
    expect(compose('config', '--services').trim().split('\n').sort()).toEqual(['api', 'postgres', 'worker-1', 'worker-2']);
    expect(compose('config', '--volumes').trim().split('\n').sort()).toEqual(['pgdata', 'repos', 'runledger-data']);
    const normalized = compose('config');
    const service = (name: string) => new RegExp(`\\n  ${name}:\\n([\\s\\S]*?)(?=\\n  [a-z0-9-]+:\\n|\\nvolumes:)`).exec(normalized)?.[1] ?? '';
    for (const name of ['postgres', 'api', 'worker-1', 'worker-2']) expect({ name, healthcheck: service(name).includes('healthcheck:') }).toEqual({ name, healthcheck: true });
    for (const name of ['worker-1', 'worker-2']) {
      expect(service(name)).toMatch(/command:\n {4}- worker/);
      expect(service(name)).toContain('pid: service:api');
      expect(service(name)).toContain('DATABASE_URL: postgres://runledger:runledger@postgres:5432/runledger');
    }
    expect(service('api')).toMatch(/command:\n {4}- api/);
    expect(service('api')).toContain('127.0.0.1:8787:8787');
    expect(service('api')).toContain('runledger-data:/var/lib/runledger');
  });

  it('refuses to start without RUNLEDGER_TOKEN (no stack with a missing token)', () => {
    const result = spawnSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config', '--quiet'], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, RUNLEDGER_TOKEN: '' },
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('set RUNLEDGER_TOKEN');
  });

  it('the Dockerfile is multi-stage, runs as a non-root user, and copies only what the repository has', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM .* AS (\w+)$/gm)).toEqual(['FROM ${NODE_IMAGE} AS build', 'FROM ${NODE_IMAGE} AS runtime']);
    expect(dockerfile).toMatch(/^USER runledger$/m);
    expect(dockerfile).toContain('ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/runledger.js"]');
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(' ')).filter((s) => s !== '.');
    for (const source of sources) expect({ source, exists: existsSync(join(ROOT, source)) }).toEqual({ source, exists: true });
  });
});
