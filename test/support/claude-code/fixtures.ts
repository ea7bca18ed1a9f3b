import * as path from 'node:path';

/** The folder of the real Claude Code transcripts the suites replay (test/fixtures/claude-code). */
export const FIXTURES = path.resolve(__dirname, '../../fixtures/claude-code');

/** Absolute path of fixture `name`. */
export const fixture = (name: string): string => path.join(FIXTURES, name);

/** The README table of test/fixtures/claude-code: lines, tool calls, matched results, failures, sub-agent calls (null: no sub-agents). */
export const FIXTURE_TABLE = [
  { file: 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl', lines: 2385, toolUses: 242, toolResults: 242, errors: 12, subagentCalls: 12 },
  { file: 'fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl', lines: 1881, toolUses: 197, toolResults: 197, errors: 8, subagentCalls: 46 },
  { file: '258c7280-ae70-4798-800f-63464d01a85d.jsonl', lines: 1863, toolUses: 186, toolResults: 186, errors: 7, subagentCalls: 2 },
  { file: 'tool_heavy.jsonl', lines: 39, toolUses: 6, toolResults: 6, errors: 0, subagentCalls: null },
  { file: 'short.jsonl', lines: 15, toolUses: 2, toolResults: 2, errors: 2, subagentCalls: null },
];
