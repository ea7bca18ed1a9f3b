import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '/work/wt/i9/test/support/git-repo';
import { prepareClaudeHome, runClaude, transcriptsOf, transcriptToolUses, transcriptDir } from '/work/wt/i9/test/support/claude-code/claude-env';
import { startFakeAnthropicApi } from '/work/wt/i9/test/support/claude-code/fake-anthropic-api';

it('resume', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rl-x-'));
  const api = await startFakeAnthropicApi({ script: [
    { tools: [{ name: 'Bash', input: { command: 'echo one' } }] }, { text: 'first done' },
    { tools: [{ name: 'Bash', input: { command: 'echo two' } }] }, { text: 'second done' },
    { tools: [{ name: 'Task', input: { description: 'sub', prompt: 'run echo sub', subagent_type: 'general-purpose' } }] },
  ] });
  const repo = makeRepo(join(root, 'repo'));
  const home = prepareClaudeHome(join(root, 'home'), { apiUrl: api.url });
  const r1 = await runClaude(['-p', 'first', '--allowedTools', 'Bash', '--output-format', 'json'], { cwd: repo, home });
  const sid = JSON.parse(r1.stdout).session_id;
  const r2 = await runClaude(['--resume', sid, '-p', 'continue', '--allowedTools', 'Bash', '--output-format', 'json'], { cwd: repo, home });
  console.log(sid, JSON.parse(r2.stdout).session_id, readdirSync(transcriptDir(home.home, repo)));
  for (const f of transcriptsOf(home.home, repo)) console.log(f, transcriptToolUses(f));
  console.log(readFileSync(transcriptsOf(home.home, repo)[0], 'utf8').split('\n').map(l => l.slice(0, 200)).join('\n'));
  console.log(api.requests.map(r => r.kind + ' ' + JSON.stringify(r.body.system).slice(0, 100) + ' tools=' + (r.body.tools?.map((t: any) => t.name).join(','))).join('\n'));
});
