#!/usr/bin/env node
// The `runledger` command (package.json "bin"): runs the compiled CLI; `npm run build` compiles it.
const path = require('node:path');
const fs = require('node:fs');
// `runledger hook <agent>` runs around every tool call of an agent: it loads its own small module, not the CLI tree.
const hook = process.argv[2] === 'hook' && ['claude-code', 'codex'].includes(process.argv[3]) && !process.argv.includes('--help');
const main = path.join(__dirname, '..', 'dist', 'apps', 'cli', 'src', hook ? 'hook/hook-main.js' : 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write(`runledger: ${main} is missing; run \`npm run build\` first (npm start does it for you)\n`);
  process.exit(2);
}
require(main);
