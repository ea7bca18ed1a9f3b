import { Injectable } from '@nestjs/common';
import { DomainError, RecordToolCallTelemetry, telemetryKey } from '@runledger/domain';
import { OtlpLogsInvalidError, readOtlpToolRecords, ToolTelemetryRecord } from '@runledger/infra/agents/claude-code/otlp-log-records';
import { AgentSessionDirectory } from '../agents/agent-session-directory';
import { CommandContext } from '../event-sourcing/command-context';
import { SessionStreams } from '../sessions/session-streams';
import { SecretRedaction } from '../tool-calls/secret-redaction';

/** What one logs request did: records joined to a session's calls (appended or already recorded), ignored, and rejected with why. */
export interface TelemetryIntakeReport {
  recorded: number;
  duplicates: number;
  ignored: number;
  rejected: Array<{ field: string; message: string }>;
}

/**
 * The agents' own telemetry as the third source (docs/ARCHITECTURE.md §4g): takes an OTLP/HTTP JSON logs body, keeps
 * Claude Code's `tool_decision` and `tool_result` records and appends each as `ToolCallTelemetryRecorded` on its
 * session (the credential's, else the session linked to the record's `session.id`, or for a hand-run agent whose resource
 * names its folder, the session its hooks would find or make), joined to the call by `tool_use_id`;
 * a record sent again appends nothing. Throws TELEMETRY.INVALID (400 naming the field) for a body that is not OTLP's or an
 * id holding a secret; records of an agent session runledger does not know are rejected (counted, named), never guessed.
 */
@Injectable()
export class AgentTelemetry {
  constructor(
    private readonly sessions: SessionStreams,
    private readonly directory: AgentSessionDirectory,
    private readonly redaction: SecretRedaction,
  ) {}

  /** Records the tool events of one logs body; `credentialSessionId` is the session whose credential sent it (absent for a person's token). */
  async receiveLogs(body: unknown, credentialSessionId: string | undefined, context: CommandContext): Promise<TelemetryIntakeReport> {
    let read;
    try {
      read = readOtlpToolRecords(body);
    } catch (error) {
      if (error instanceof OtlpLogsInvalidError) throw new DomainError('TELEMETRY.INVALID', 'invalid', error.message, { field: error.field });
      throw error;
    }
    for (const record of read.records) {
      this.redaction.assertNoSecret(record.callId, 'tool_use_id');
      this.redaction.assertNoSecret(record.agentSessionId, 'session.id');
    }
    const report: TelemetryIntakeReport = { recorded: 0, duplicates: 0, ignored: read.ignored, rejected: [...read.rejected] };
    const bySession = new Map<string, ToolTelemetryRecord[]>();
    for (const record of read.records) {
      // A hand-run agent's records name its folder (runledger.cwd): its session is found or made as its hooks would.
      const sessionId =
        credentialSessionId ??
        (record.cwd
          ? await this.directory.findOrCreate(record.agentSessionId, { cwd: record.cwd, agent: 'claude-code' }, context)
          : await this.directory.find(record.agentSessionId));
      if (!sessionId) {
        report.rejected.push({ field: 'session.id', message: `no runledger session is linked to agent session ${record.agentSessionId}` });
        continue;
      }
      bySession.set(sessionId, [...(bySession.get(sessionId) ?? []), record]);
    }
    for (const [sessionId, records] of bySession) {
      const byKey = new Map<string, RecordToolCallTelemetry>();
      for (const { agentSessionId, cwd: _folder, ...r } of records) {
        const key = telemetryKey(r.callId, r.event);
        if (!byKey.has(key)) byKey.set(key, { type: 'RecordToolCallTelemetry', data: { key, agentSessionId, ...r } });
      }
      const commands = [...byKey.values()];
      const decided = await this.sessions.decide(sessionId, (s) => (s.status === 'none' ? [] : commands), context);
      report.recorded += decided.events.length;
      report.duplicates += records.length - decided.events.length;
    }
    return report;
  }
}
