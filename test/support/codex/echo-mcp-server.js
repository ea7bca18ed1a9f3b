#!/usr/bin/env node
/*
 * A tiny MCP server over stdio (JSON-RPC 2.0, one message per line) with two tools: `echo` answers `{text}` with the
 * same text; `fail` answers `{text}` with that text as a tool error (`isError: true`). For tests that register it with Codex (`[mcp_servers.<name>]` in config.toml, see codex-env.ts).
 * Plain Node, no dependencies. Set ECHO_MCP_LOG to a file to append every received message to it.
 */
const { appendFileSync } = require('node:fs');
const { createInterface } = require('node:readline');

const send = (message) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
const tools = [
  {
    name: 'echo',
    description: 'Echoes the given text back.',
    inputSchema: { type: 'object', properties: { text: { type: 'string', description: 'Text to echo.' } }, required: ['text'] },
  },
  {
    name: 'fail',
    description: 'Always fails with the given text as the error message.',
    inputSchema: { type: 'object', properties: { text: { type: 'string', description: 'Error message.' } }, required: ['text'] },
  },
];

const handle = (message) => {
  if (process.env.ECHO_MCP_LOG) appendFileSync(process.env.ECHO_MCP_LOG, `${JSON.stringify(message)}\n`);
  const { id, method, params } = message;
  if (id === undefined || id === null) return; // a notification (notifications/initialized, cancelled, ...)
  switch (method) {
    case 'initialize':
      return send({ id, result: { protocolVersion: params?.protocolVersion ?? '2025-06-18', capabilities: { tools: { listChanged: false } }, serverInfo: { name: 'runledger-echo', version: '1.0.0' } } });
    case 'ping':
      return send({ id, result: {} });
    case 'tools/list':
      return send({ id, result: { tools } });
    case 'tools/call': {
      if (params?.name !== 'echo' && params?.name !== 'fail') return send({ id, error: { code: -32602, message: `unknown tool ${params?.name}` } });
      const text = String(params?.arguments?.text ?? '');
      return send({ id, result: { content: [{ type: 'text', text }], isError: params.name === 'fail' } });
    }
    default:
      return send({ id, error: { code: -32601, message: `method not found: ${method}` } });
  }
};

createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    return send({ id: null, error: { code: -32700, message: 'parse error' } });
  }
  handle(message);
});
