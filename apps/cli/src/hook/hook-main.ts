/** Fast entry of `runledger hook claude-code [options]` (bin/runledger.js requires it directly: no commander, no Nest). */
import { claudeCodeHookMain } from './claude-code-hook';

void claudeCodeHookMain(process.argv.slice(4)).then((code) => {
  process.exitCode = code;
});
