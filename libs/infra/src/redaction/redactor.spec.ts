import { MIN_SECRET_LENGTH, Redactor, redactionMarker } from './redactor';

// Fake tokens are built by concatenation so that no token-shaped literal sits in the source.
const ghp = 'ghp_' + 'a1B2c3D4e5'.repeat(4); // 40 alnum chars after the prefix
const AKIA = 'AKIA' + 'IOSFODNN7EXAMPLE';
const awsSecret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY' + 'EXAMPLEKEY';
const skAnt = 'sk-ant-' + 'api03-' + 'Xy9_' + 'abcdefghij'.repeat(3);
const skProj = 'sk-proj-' + 'Ab3dEf6hIj'.repeat(3);
const skPlain = 'sk-' + '1234567890abcdefghij' + 'KLMNOPQRSTUV';
const pem = ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn', 'AbCdEf0123456789==', '-----END RSA PRIVATE KEY-----'].join('\n');

describe('Redactor', () => {
  const r = new Redactor({ secrets: ['hunter2-db-password', 'short'] });

  it.each([
    ['classic GitHub token', `token=${ghp} end`, `token=${redactionMarker('github_token')} end`, 'github_token'],
    ['gho_ / ghs_ / ghr_ / ghu_ tokens', ['gho_', 'ghs_', 'ghr_', 'ghu_'].map((p) => p + 'Z9'.repeat(18)).join(' '), Array(4).fill('[REDACTED:github_token]').join(' '), 'github_token'],
    ['fine-grained GitHub PAT', 'github_pat_' + '11ABCDEFG0' + '_' + 'x1'.repeat(30), '[REDACTED:github_token]', 'github_token'],
    ['AWS access key id', `key ${AKIA}.`, 'key [REDACTED:aws_access_key_id].', 'aws_access_key_id'],
    ['AWS temporary key id', 'ASIA' + 'ABCDEFGHIJ012345', '[REDACTED:aws_access_key_id]', 'aws_access_key_id'],
    ['aws_secret_access_key in a credentials file', `aws_secret_access_key = ${awsSecret}\n`, 'aws_secret_access_key = [REDACTED:aws_secret_access_key]\n', 'aws_secret_access_key'],
    ['AWS_SECRET_ACCESS_KEY env assignment', `export AWS_SECRET_ACCESS_KEY=${awsSecret}`, 'export AWS_SECRET_ACCESS_KEY=[REDACTED:aws_secret_access_key]', 'aws_secret_access_key'],
    ['aws_secret_access_key in JSON', `{"aws_secret_access_key": "${awsSecret}"}`, '{"aws_secret_access_key": "[REDACTED:aws_secret_access_key]"}', 'aws_secret_access_key'],
    ['Anthropic key', `ANTHROPIC_API_KEY=${skAnt}`, 'ANTHROPIC_API_KEY=[REDACTED:anthropic_api_key]', 'anthropic_api_key'],
    ['OpenAI project key', `"${skProj}"`, '"[REDACTED:openai_api_key]"', 'openai_api_key'],
    ['OpenAI key', `OPENAI_API_KEY=${skPlain}`, 'OPENAI_API_KEY=[REDACTED:openai_api_key]', 'openai_api_key'],
    ['Bearer token', 'curl -H "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.abc-_123" x', 'curl -H "Authorization: Bearer [REDACTED:bearer_token]" x', 'bearer_token'],
    ['runledger personal token', `RUNLEDGER_TOKEN=rlu1.${'Ab3_-'.repeat(8)}xyz`, 'RUNLEDGER_TOKEN=[REDACTED:runledger_token]', 'runledger_token'],
    ['PEM private key', `before\n${pem}\nafter`, 'before\n[REDACTED:private_key]\nafter', 'private_key'],
    ['OPENSSH private key', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----', '[REDACTED:private_key]', 'private_key'],
    ['truncated PEM private key', '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQ', '[REDACTED:private_key]', 'private_key'],
    ['PEM key in JSON-escaped text', pem.replace(/\n/g, '\\n'), '[REDACTED:private_key]', 'private_key'],
    ['configured value inside a longer string', 'postgres://app:hunter2-db-password@db:5432/x', 'postgres://app:[REDACTED:secret]@db:5432/x', 'secret'],
  ])('%s', (_name, input, expected, kind) => {
    const report = r.redactWithReport(input);
    expect(report.value).toBe(expected);
    expect(report.redactions.map((x) => x.kind)).toEqual([kind]);
    expect(r.redact(input)).toBe(expected);
  });

  it.each([
    ['kebab-case words', 'skip-this and task-runner-for-the-integration-tests-2 and desk-lamp'],
    ['a git sha', 'commit 4f1c2a9e8b7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b (HEAD -> main)'],
    ['a sha-256 hash', 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    ['prose about tokens', 'Send a Bearer token in the Authorization header; see the public key and aws docs.'],
    ['a Bearer env reference', 'Authorization: Bearer $RUNLEDGER_TOKEN'],
    ['a public key block', '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----'],
    ['a short ghp_ id', 'ghp_short and AKIA1234'],
    ['an uuid and a file path', '/tmp/claude-1000/tasks/b0be39e.output 7d48cbd2-6615-4dd8-87f6-38f12b8167d6'],
  ])('leaves %s alone', (_name, text) => {
    expect(r.redactWithReport(text)).toEqual({ value: text, redactions: [] });
  });

  it(`ignores configured values shorter than ${MIN_SECRET_LENGTH} chars and non-strings`, () => {
    const loose = new Redactor({ secrets: ['short', 'abc', '', 123 as unknown as string, 'sixsix'] });
    expect(loose.redact('short abc sixsix')).toBe('short abc [REDACTED:secret]');
  });

  it('removes a secret that contains another one whole', () => {
    const nested = new Redactor({ secrets: ['secret1', 'secret1-extended'] });
    expect(nested.redactWithReport('a secret1-extended b secret1')).toEqual({
      value: 'a [REDACTED:secret] b [REDACTED:secret]',
      redactions: [{ kind: 'secret', count: 2 }],
    });
  });

  it('treats configured values literally (regex characters)', () => {
    const special = new Redactor({ secrets: ['p@ss.w*rd(1)'] });
    expect(special.redact('x p@ss.w*rd(1) p@ssXw*rd(1)')).toBe('x [REDACTED:secret] p@ssXw*rd(1)');
  });

  it('walks nested objects and arrays, redacts keys too, keeps non-string leaves, counts per kind, and does not mutate input', () => {
    const when = new Date(0);
    const input = {
      tool: 'Bash',
      input: { command: `git push https://${ghp}@github.com/o/r`, env: { TOKEN: 'hunter2-db-password' }, timeout: 30000 },
      output: [
        { type: 'text', text: `found ${AKIA} and ${ghp}` },
        { type: 'text', text: pem },
        42,
        null,
        true,
      ],
      [ghp]: 'the key is redacted too',
      when,
    };
    const snapshot = JSON.parse(JSON.stringify(input));
    const report = r.redactWithReport(input);
    expect(report.value).toEqual({
      tool: 'Bash',
      input: { command: 'git push https://[REDACTED:github_token]@github.com/o/r', env: { TOKEN: '[REDACTED:secret]' }, timeout: 30000 },
      output: [
        { type: 'text', text: 'found [REDACTED:aws_access_key_id] and [REDACTED:github_token]' },
        { type: 'text', text: '[REDACTED:private_key]' },
        42,
        null,
        true,
      ],
      '[REDACTED:github_token]': 'the key is redacted too',
      when,
    });
    expect(report.value.when).toBe(when);
    expect(report.redactions).toEqual([
      { kind: 'github_token', count: 3 },
      { kind: 'secret', count: 1 },
      { kind: 'aws_access_key_id', count: 1 },
      { kind: 'private_key', count: 1 },
    ]);
    expect(JSON.parse(JSON.stringify(input))).toEqual(snapshot);
    expect(report.value).not.toBe(input);
    expect(report.value.input).not.toBe(input.input);
  });

  it('returns non-string scalars unchanged and survives cycles', () => {
    expect(r.redact(7)).toBe(7);
    expect(r.redact(null)).toBeNull();
    expect(r.redact(undefined)).toBeUndefined();
    expect(r.redact(false)).toBe(false);
    const cyclic: Record<string, unknown> = { s: 'hunter2-db-password' };
    cyclic.self = cyclic;
    const out = r.redact(cyclic) as Record<string, unknown>;
    expect(out.s).toBe('[REDACTED:secret]');
    expect(out.self).toBe(out);
    expect(cyclic.s).toBe('hunter2-db-password');
  });

  it('catches a GitHub token glued to underscores, and configured secrets URL-encoded, base64-encoded or used as keys', () => {
    expect(r.redact(`${ghp}_suffix and x_${ghp}`)).toBe('[REDACTED:github_token]_suffix and x_[REDACTED:github_token]');
    const secret = 'hunter2-db-password';
    const forms = [encodeURIComponent(`${secret}&x=1`), Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url')];
    const redacted = r.redact({ [secret]: forms, url: `https://h/?p=${encodeURIComponent('hunter2 db/password')}` }) as Record<string, unknown>;
    expect(JSON.stringify(redacted)).not.toContain(secret);
    expect(JSON.stringify(redacted)).not.toContain(Buffer.from(secret).toString('base64').replace(/=+$/, ''));
    expect(Object.keys(redacted)).toEqual(['[REDACTED:secret]', 'url']);
  });

  it('works with no configured secrets', () => {
    expect(new Redactor().redact({ a: ghp, b: 'plain' })).toEqual({ a: '[REDACTED:github_token]', b: 'plain' });
    expect(new Redactor({ secrets: [] }).redactWithReport('plain')).toEqual({ value: 'plain', redactions: [] });
  });
});
