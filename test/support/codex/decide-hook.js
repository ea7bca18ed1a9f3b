#!/usr/bin/env node
/*
 * A Codex command hook for tests that decides: `node decide-hook.js <log file> <rules file>`. Appends its stdin (one
 * JSON payload) as a line to the log, then applies the first rule of the rules file (a JSON array) whose `match` is a
 * substring of `tool_input.command`: writes its `stdout` (a string, or JSON for an object) and `stderr`, exits with
 * its `exit` (default 0). No rule matched: exit 0, no output.
 */
const { appendFileSync, readFileSync } = require('node:fs');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  appendFileSync(process.argv[2], `${input.trim().replace(/\n/g, ' ')}\n`);
  let payload = {};
  try {
    payload = JSON.parse(input);
  } catch {}
  const command = String((payload.tool_input && payload.tool_input.command) || '');
  const rules = JSON.parse(readFileSync(process.argv[3], 'utf8'));
  const rule = rules.find((r) => command.includes(r.match));
  if (!rule) return;
  if (rule.stdout !== undefined) process.stdout.write(typeof rule.stdout === 'string' ? rule.stdout : JSON.stringify(rule.stdout));
  if (rule.stderr !== undefined) process.stderr.write(rule.stderr);
  process.exitCode = rule.exit ?? 0;
});
