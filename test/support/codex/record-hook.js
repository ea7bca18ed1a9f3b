#!/usr/bin/env node
/*
 * A Codex command hook for tests: appends its stdin (the hook payload, one JSON object) as one line to the file named
 * by its first argument, and exits 0 with no output (Codex then goes on as if there were no hook).
 */
const { appendFileSync } = require('node:fs');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  appendFileSync(process.argv[2], `${input.trim().replace(/\n/g, ' ')}\n`);
});
