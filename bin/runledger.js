#!/usr/bin/env node
// The `runledger` command (package.json "bin"): runs the compiled CLI; `npm run build` compiles it.
const path = require('node:path');
const fs = require('node:fs');
const main = path.join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write(`runledger: ${main} is missing; run \`npm run build\` first (npm start does it for you)\n`);
  process.exit(2);
}
require(main);
