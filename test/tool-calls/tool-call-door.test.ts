import { randomUUID } from 'node:crypto';
import { DeciderStreams } from '@runledger/application/event-sourcing/decider-streams';
import { Idempotent } from '@runledger/application/idempotency/idempotent';
import { FileEffects } from '@runledger/application/file-effects/file-effects.service';
import { SessionStreams } from '@runledger/application/sessions/session-streams';
import { SecretRedaction } from '@runledger/application/tool-calls/secret-redaction';
import { ToolCallIntake } from '@runledger/application/tool-calls/tool-call-intake';
import { DomainError, projectStreamName, sessionStreamName } from '@runledger/domain';
import { EventStore, ReadStreamOptions, RecordedEvent } from '@runledger/infra/event-store';
import { RedactionDoor } from '@runledger/infra/redaction/redaction-door';
import { RunledgerConfig } from '@runledger/infra/config';
import { describeEachEngine } from '../support/stores';

// invariant 12: the door of a tool-call path redacts the project's legacy env values (held in an old log) on top of the
// store's secrets; it reads the project stream only when the project it holds has such values (they can only be forgotten).

const at = '2025-03-01T10:00:00.000Z';
const context = { correlationId: 'c', actor: 'test' };
const LEGACY = 'legacy-value-4f1c9a7e2b';

/** The store, recording which streams readStream was asked for. */
const counting = (store: EventStore) => {
  const reads: string[] = [];
  const proxy = Object.create(store) as EventStore;
  proxy.readStream = (streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> => {
    reads.push(streamId);
    return store.readStream(streamId, options);
  };
  return { store: proxy, reads };
};

describeEachEngine('ToolCallIntake: the project redaction of a session, and what a dispatch reads', (engine) => {
  const setup = async (env?: Record<string, string>) => {
    const projectId = `p-${randomUUID()}`;
    const sessionId = `s-${randomUUID()}`;
    await engine().store.appendToStream(
      projectStreamName(projectId),
      [{ eventId: randomUUID(), type: 'ProjectRegistered', data: { projectId, name: 'p', kind: 'standard', repos: [], sessionPrefix: 'p', at, ...(env ? { env } : {}) } }],
      'no_stream',
    );
    const { store, reads } = counting(engine().store);
    const sessions = new SessionStreams(new DeciderStreams(store));
    await sessions.decide(
      sessionId,
      () => [{ type: 'StartSession', data: { sessionId, projectId, kind: 'worker', agent: 'external', branch: 'external', baseRef: 'external', at } }],
      context,
    );
    const intake = new ToolCallIntake(sessions, new SecretRedaction(new RedactionDoor([])), {} as Idempotent, {} as RunledgerConfig, {} as FileEffects);
    return { projectId, sessionId, intake, reads, sessions };
  };

  it('reads the project stream once, then never again for a project without legacy env values', async () => {
    const { projectId, sessionId, intake, reads } = await setup();
    await intake.door(sessionId);
    const before = reads.filter((stream) => stream === projectStreamName(projectId)).length;
    expect(before).toBe(1);
    for (let i = 0; i < 5; i++) expect((await intake.door(sessionId)).redact({ text: LEGACY })).toEqual({ text: LEGACY });
    expect(reads.filter((stream) => stream === projectStreamName(projectId)).length).toBe(before);
  });

  it('redacts legacy env values, and stops once another writer forgot them (fresh read of the project)', async () => {
    const { projectId, sessionId, intake } = await setup({ TOKEN: LEGACY });
    expect(JSON.stringify((await intake.door(sessionId)).redact({ text: `x ${LEGACY} y` }))).not.toContain(LEGACY);
    await engine().store.appendToStream(
      projectStreamName(projectId),
      [{ eventId: randomUUID(), type: 'ProjectEnvForgotten', data: { names: ['TOKEN'], at } }],
      0,
    );
    expect((await intake.door(sessionId)).redact({ text: `x ${LEGACY} y` })).toEqual({ text: `x ${LEGACY} y` });
  });

  it('dispatches an observed call and records its result with no read before either append once it holds the session', async () => {
    const { sessionId, intake, reads } = await setup();
    await intake.door(sessionId);
    const before = reads.length;
    const reply = await intake.request(sessionId, { callId: 'c-1', tool: 'Bash', input: { command: 'ls' }, mode: 'observed' }, context);
    expect(reply).toMatchObject({ created: true, call: { callId: 'c-1', status: 'dispatched' } });
    expect(await intake.recordResult(sessionId, 'c-1', { status: 'completed', output: 'ok' }, context)).toMatchObject({ status: 'completed' });
    expect(reads.slice(before)).toEqual([]);
  });

  it('decides a dispatch again on fresh state when another writer moved the session past the fold it holds', async () => {
    const { sessionId, intake } = await setup();
    // Another process on the same store: its own folds.
    const elsewhere = new ToolCallIntake(new SessionStreams(new DeciderStreams(engine().store)), new SecretRedaction(new RedactionDoor([])), {} as Idempotent, {} as RunledgerConfig, {} as FileEffects);
    const dispatchElsewhere = (callId: string) => elsewhere.request(sessionId, { callId, tool: 'Bash', input: {}, mode: 'observed' }, context);
    await dispatchElsewhere('other-1');

    // A repeat of the other writer's call: found on fresh state, nothing appended; another tool under its id is refused.
    await expect(intake.request(sessionId, { callId: 'other-1', tool: 'Bash', input: {}, mode: 'observed' }, context)).resolves.toMatchObject({ created: false });
    await dispatchElsewhere('other-2');
    await expect(intake.request(sessionId, { callId: 'other-2', tool: 'Read', input: {}, mode: 'observed' }, context)).rejects.toMatchObject({ code: 'TOOL_CALL.ID_CONFLICT' } as Partial<DomainError>);
    // A new call on a fold two appends behind: the append meets the later revision and is decided again.
    await dispatchElsewhere('other-3');
    await expect(intake.request(sessionId, { callId: 'new-1', tool: 'Bash', input: {}, mode: 'observed' }, context)).resolves.toMatchObject({ created: true });
    const log: { type: string; data: { callId?: string } }[] = [];
    for await (const event of engine().store.readStream(sessionStreamName(sessionId))) log.push(event as never);
    expect(log.filter((e) => e.type === 'ToolCallDispatched').map((e) => e.data.callId)).toEqual(['other-1', 'other-2', 'other-3', 'new-1']);
  });
});
