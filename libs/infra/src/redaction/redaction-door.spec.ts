import { DomainError } from '@runledger/domain';
import type { EventStore, NewEvent } from '../event-store/event-store.port';
import { RedactionDoor, redactingEventStore } from './redaction-door';

const SECRET = 'door-configured-secret-42';
const ghp = 'ghp_' + 'a1B2c3D4e5'.repeat(4);
const event = (data: unknown, metadata?: NewEvent['metadata']): NewEvent => ({ eventId: '00000000-0000-4000-8000-000000000001', type: 'T', data, ...(metadata ? { metadata } : {}) });

const refusal = (fn: () => unknown): DomainError => {
  try {
    fn();
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('not refused');
};

describe('RedactionDoor', () => {
  it('redacts every string of data and metadata, object keys included, and the encoded forms of a secret', () => {
    const door = new RedactionDoor([SECRET]);
    const [out] = door.redactEvents([event(
      {
        command: ['sh', '-c', `echo ${SECRET}`], prompt: `use ${ghp}_suffix`, reason: encodeURIComponent(`k=${SECRET}&x`),
        name: `proj ${Buffer.from(SECRET).toString('base64')}`, input: { [SECRET]: 1 },
      },
      { actor: `agent ${SECRET}` },
    )]);
    const text = JSON.stringify(out);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(ghp);
    expect(text).not.toContain(Buffer.from(SECRET).toString('base64'));
    expect(out.data).toMatchObject({ command: ['sh', '-c', 'echo [REDACTED:secret]'], prompt: 'use [REDACTED:github_token]_suffix', input: { '[REDACTED:secret]': 1 } });
  });

  it.each([
    ['callId', { callId: `c-${SECRET}` }, undefined, 'callId'],
    ['tool', { tool: `Ba${SECRET}sh` }, undefined, 'tool'],
    ['runId', { runId: ghp }, undefined, 'runId'],
    ['hook session id', { agentSessionId: SECRET }, undefined, 'agentSessionId'],
    ['transcript path', { transcript_path: `/tmp/${SECRET}.jsonl` }, undefined, 'transcript_path'],
    ['Idempotency-Key', {}, { idempotencyKey: SECRET }, 'Idempotency-Key'],
    ['X-Correlation-Id', {}, { correlationId: `x-${SECRET}` }, 'X-Correlation-Id'],
  ])('refuses an identifier holding a secret (%s) with 400 naming the field instead of rewriting it', (_label, data, metadata, field) => {
    const error = refusal(() => new RedactionDoor([SECRET]).redactEvents([event(data, metadata)]));
    expect(error).toBeInstanceOf(DomainError);
    expect(error.kind).toBe('invalid');
    expect(error.details).toEqual({ field });
  });

  it('picks up values the secret source adds, rebuilding its redactor only when the generation moves', () => {
    let values = ['first-store-value'];
    const source = { generation: 1, knownValues: () => values };
    const door = new RedactionDoor([], source);
    const before = door.redactor();
    expect(door.redactor()).toBe(before);
    values = ['second-store-value'];
    expect(door.redactor().redact('second-store-value')).toBe('second-store-value');
    source.generation = 2;
    expect(door.redactor().redact('second-store-value')).toBe('[REDACTED:secret]');
  });

  it('wraps a store so that it only sees redacted events, and reports them as stored', async () => {
    const seen: NewEvent[][] = [];
    const store = { appendToStream: async (_s: string, events: NewEvent[]) => (seen.push(events), { nextRevision: 0, positions: [1], idempotent: false }) } as unknown as EventStore;
    const result = await redactingEventStore(store, new RedactionDoor([SECRET])).appendToStream('s-1', [event({ output: SECRET })], 'any');
    expect(seen[0][0].data).toEqual({ output: '[REDACTED:secret]' });
    expect(result.stored?.[0].data).toEqual({ output: '[REDACTED:secret]' });
    await expect(redactingEventStore(store, new RedactionDoor([SECRET])).appendToStream('s-1', [event({ callId: SECRET })], 'any')).rejects.toBeInstanceOf(DomainError);
    expect(seen).toHaveLength(1);
  });
});
