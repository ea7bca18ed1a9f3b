import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImportClaudeCodeDto } from '../../apps/api/src/imports/imports.controller';
import { validationPipe } from '../../apps/api/src/http/validation';
import { mutateNested, nestedSlots, OpenApiDocument, plausible, prng } from './openapi-fuzzer';

const doc = JSON.parse(readFileSync(join(__dirname, '../../openapi.json'), 'utf8')) as OpenApiDocument;
const targets = { projectId: 'fz', sessionId: 'fz-1', callId: 'fz-call-1', repoPath: '/tmp/repo' };
const importSchema = doc.paths['/api/v1/imports/{agent}'].post.requestBody!.content!['application/json'].schema;

/** The fuzzer reaches inside nested DTOs: a plausible body has them, and the nested mutations break them each way. */
describe('fuzz: nested shapes', () => {
  it('builds a plausible import with its nested transcript, calls and results (allOf unwrapped)', () => {
    const body = plausible(doc, importSchema, prng(1), targets) as { transcript: { toolCalls: { result: unknown }[]; runs: unknown[] }; subagents: unknown[] };
    expect(Array.isArray(body.transcript.toolCalls)).toBe(true);
    expect(Array.isArray(body.transcript.runs)).toBe(true);
    expect(Array.isArray(body.subagents)).toBe(true);
    expect(nestedSlots(body).map((s) => s.path)).toEqual(expect.arrayContaining(['transcript.toolCalls[0].callId', 'subagents[0].transcript']));
  });

  it('builds a plausible import the validation pipe accepts, so a nested mutation is the one thing wrong with it', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const body = plausible(doc, importSchema, prng(seed), targets);
      await expect(validationPipe().transform(body, { type: 'body', metatype: ImportClaudeCodeDto })).resolves.toBeInstanceOf(ImportClaudeCodeDto);
    }
  });

  it('drops a nested field, nulls a nested object, gives an array item the wrong type and grows an array, leaving the input as it was', () => {
    const r = prng(7);
    const body = plausible(doc, importSchema, r, targets);
    const before = JSON.stringify(body);
    const seen = new Map<string, string>();
    for (let i = 0; i < 100; i++) {
      const mutated = mutateNested(body, r)!;
      expect(JSON.stringify(mutated.value)).not.toBe(before);
      seen.set(mutated.mutation.replace(/ \S+( \(\d+ items\))?$/, ''), mutated.mutation);
    }
    expect([...seen.keys()].sort()).toEqual(['huge array', 'nested hostile value', 'nested missing field', 'nested null', 'wrong item type']);
    expect(JSON.stringify(body)).toBe(before);
  });

  it('has nothing nested to break in a flat body', () => {
    expect(mutateNested({ tool: 'Bash', mode: 'observed' }, prng(3))).toBeNull();
  });
});
