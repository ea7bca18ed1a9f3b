/** Fast entry of `runledger hook claude-code|codex [options]` (bin/runledger.js requires it directly: no commander, no Nest). */
import { agentHookMain } from './agent-hook';

void agentHookMain(process.argv[3] ?? '', process.argv.slice(4)).then((code) => {
  process.exitCode = code;
});
