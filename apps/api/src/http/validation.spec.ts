import { BadRequestException } from '@nestjs/common';
import { ImportClaudeCodeDto } from '../imports/imports.controller';
import { MAX_REPORTED_FIELDS, validationPipe } from './validation';

const call = { callId: 'c1', runId: null, tool: 'Bash', input: {}, requestedAt: '2026-01-01T00:00:00.000Z', line: 1, result: null };
const transcript = (over: Record<string, unknown> = {}) => ({ runs: [], toolCalls: [call], skippedLines: [], ...over });
const body = (over: Record<string, unknown> = {}) => ({ transcriptPath: '/tmp/t.jsonl', transcript: transcript(), subagents: [], ...over });

/** The 400 the pipe throws for `value` as an import body (the test fails when it passes validation). */
const refusal = async (value: unknown): Promise<{ field: string; fields: { field: string; problems: string[] }[]; omitted?: number }> => {
  try {
    await validationPipe().transform(value, { type: 'body', metatype: ImportClaudeCodeDto });
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestException);
    return ((error as BadRequestException).getResponse() as { details: never }).details;
  }
  throw new Error('the body passed validation');
};

describe('the validation pipe on nested shapes', () => {
  it('accepts a well-formed import body', async () => {
    await expect(validationPipe().transform(body(), { type: 'body', metatype: ImportClaudeCodeDto })).resolves.toBeInstanceOf(ImportClaudeCodeDto);
  });

  it.each([
    ['a missing nested object', body({ transcript: undefined }), 'transcript'],
    ['null for a nested object', body({ transcript: null }), 'transcript'],
    ['an array for a nested object', body({ transcript: [] }), 'transcript'],
    ['a missing nested array', body({ transcript: transcript({ runs: undefined }) }), 'transcript.runs'],
    ['a missing nested object inside an array item', body({ subagents: [{ path: '/tmp/s.jsonl' }] }), 'subagents[0].transcript'],
    ['null as an array item', body({ transcript: transcript({ toolCalls: [call, null] }) }), 'transcript.toolCalls[1]'],
    ['a string as an array item', body({ transcript: transcript({ skippedLines: ['x'] }) }), 'transcript.skippedLines[0]'],
    ['an array as an array item', body({ transcript: transcript({ toolCalls: [call, [call]] }) }), 'transcript.toolCalls[1]'],
    ['an array for a nullable nested object', body({ transcript: transcript({ toolCalls: [{ ...call, result: [] }] }) }), 'transcript.toolCalls[0].result'],
  ])('refuses %s naming the field', async (_, value, field) => {
    expect((await refusal(value)).field).toBe(field);
  });

  it('names each item of a nested array by its own index, after an item that is an array', async () => {
    const details = await refusal(body({ transcript: transcript({ toolCalls: [[call], { ...call, tool: 7 }] }) }));
    expect(details.fields.map((f) => f.field)).toEqual(['transcript.toolCalls[0]', 'transcript.toolCalls[1].tool']);
  });

  it(`lists at most ${MAX_REPORTED_FIELDS} fields and counts the rest`, async () => {
    const details = await refusal(body({ transcript: transcript({ toolCalls: Array.from({ length: 100 }, () => ({ ...call, line: -1 })) }) }));
    expect(details.fields).toHaveLength(MAX_REPORTED_FIELDS);
    expect(details.omitted).toBe(100 - MAX_REPORTED_FIELDS);
    expect(details.field).toBe('transcript.toolCalls[0].line');
  });
});
