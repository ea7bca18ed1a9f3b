import { randomUUID } from 'node:crypto';
import { DeciderStreams } from '@runledger/application/event-sourcing/decider-streams';
import { Idempotent } from '@runledger/application/idempotency/idempotent';
import { SessionStreams } from '@runledger/application/sessions/session-streams';
import { SecretRedaction } from '@runledger/application/tool-calls/secret-redaction';
import { ToolCallIntake } from '@runledger/application/tool-calls/tool-call-intake';
import { projectStreamName } from '@runledger/domain';
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

describeEachEngine('ToolCallIntake.door: the project redaction of a session', (engine) => {
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
    const intake = new ToolCallIntake(sessions, new SecretRedaction(new RedactionDoor([])), {} as Idempotent, {} as RunledgerConfig);
    return { projectId, sessionId, intake, reads };
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
});
