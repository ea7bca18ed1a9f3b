import { startFakeResponsesApi, ResponsesRequest } from './fake-responses-api';

/** Posts `body` to the stand-in and returns the SSE frames it answered, parsed. */
const post = async (url: string, body: ResponsesRequest): Promise<Array<{ event: string; data: any }>> => {
  const response = await fetch(`${url}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  return text.split('\n\n').filter((f) => f.trim()).map((f) => {
    const [event, data] = f.split('\n');
    return { event: event.replace(/^event: /, ''), data: JSON.parse(data.replace(/^data: /, '')) };
  });
};
const items = (frames: Array<{ event: string; data: any }>) => frames.filter((f) => f.event === 'response.output_item.done').map((f) => f.data.item);
const tools = [{ type: 'function', name: 'exec_command' }];
const user = { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'go' }] };

describe('fake Responses API', () => {
  it('answers each step with the next turn, once, in created/item/completed frames', async () => {
    const api = await startFakeResponsesApi({ script: [{ exec: [{ cmd: 'ls' }] }, { patch: '*** Begin Patch\n*** End Patch\n' }, { text: 'ok' }] });
    try {
      const first = await post(api.url, { tools, input: [user] });
      expect(first.map((f) => f.event)).toEqual(['response.created', 'response.output_item.done', 'response.completed']);
      expect(first[2].data.response.usage.total_tokens).toBeGreaterThan(0);
      const [call] = items(first);
      expect(call).toMatchObject({ type: 'function_call', name: 'exec_command', arguments: '{"cmd":"ls"}' });
      expect(call.call_id).toMatch(/^call_[A-Za-z0-9]{24}$/);
      // a retry of the same step gets the same answer and takes no turn
      expect(items(await post(api.url, { tools, input: [user] }))[0].call_id).toBe(call.call_id);
      const output = { type: 'function_call_output', call_id: call.call_id, output: 'x' };
      const [patch] = items(await post(api.url, { tools, input: [user, call, output] }));
      expect(patch).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch\n' });
      // a request without tools gets a text and takes no turn
      expect(items(await post(api.url, { input: [user] }))[0].content[0].text).toBe('Scripted answer');
      const patchOutput = { type: 'custom_tool_call_output', call_id: patch.call_id, output: 'y' };
      expect(items(await post(api.url, { tools, input: [user, call, output, patch, patchOutput] }))[0].content[0].text).toBe('ok');
      expect(api.callIds).toEqual([call.call_id, patch.call_id]);
      expect(api.requests.map((r) => r.kind)).toEqual(['main', 'replay', 'main', 'side', 'main']);
      expect(api.remaining()).toBe(0);
    } finally {
      await api.close();
    }
  });

  it('keeps the steps of two threads apart (a second session is not a retry of the first)', async () => {
    const api = await startFakeResponsesApi({ script: [{ text: 'one' }, { text: 'two' }] });
    try {
      const one = items(await post(api.url, { tools, input: [user], prompt_cache_key: 'thread-a' }));
      const two = items(await post(api.url, { tools, input: [user], prompt_cache_key: 'thread-b' }));
      expect([one[0].content[0].text, two[0].content[0].text]).toEqual(['one', 'two']);
      expect(api.requests.map((r) => r.step)).toEqual(['thread-a:1:0', 'thread-b:1:0']);
    } finally {
      await api.close();
    }
  });

  it('asks tool_search for an MCP tool not loaded yet, then calls it in its mcp__<server> namespace', async () => {
    const api = await startFakeResponsesApi({ script: [{ mcp: { server: 'echo', tool: 'echo', arguments: { text: 'hi' } } }] });
    try {
      const [search] = items(await post(api.url, { tools, input: [user] }));
      expect(search).toMatchObject({ type: 'tool_search_call', execution: 'client', arguments: { query: 'echo' } });
      const loaded = { type: 'tool_search_output', call_id: search.call_id, tools: [{ type: 'namespace', name: 'mcp__echo', tools: [{ type: 'function', name: 'echo' }] }] };
      const [call] = items(await post(api.url, { tools, input: [user, search, loaded] }));
      expect(call).toMatchObject({ type: 'function_call', name: 'echo', namespace: 'mcp__echo', arguments: '{"text":"hi"}' });
      expect(api.callIds).toEqual([call.call_id]);
    } finally {
      await api.close();
    }
  });
});
