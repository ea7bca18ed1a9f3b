import * as path from 'node:path';
import { DomainError } from '@runledger/domain';
import type { ImportedTranscript } from './import-transcript.handler';

const repeated = (field: string, what: string): DomainError => new DomainError('IMPORT.INVALID', 'invalid', `${field} repeats an earlier ${what}`, { field });

/**
 * The rule of an import the body's field-by-field validation (the route's DTO) cannot see: no run id repeats within
 * one transcript, no call id repeats anywhere in the import (a session's tool calls are one set: the main
 * transcript's and every sub-agent's), and no two sub-agent transcripts share a file name (it names their run).
 * Checked before anything is created or appended; throws IMPORT.INVALID (400) naming the first repeat, e.g.
 * `transcript.toolCalls[3].callId` or `subagents[1].transcript.toolCalls[0].callId`.
 */
export const checkUniqueIds = (input: { transcript: ImportedTranscript; subagents: { path: string; transcript: ImportedTranscript }[] }): void => {
  const calls = new Set<string>();
  const checkTranscript = (transcript: ImportedTranscript, field: string): void => {
    const runs = new Set<string>();
    transcript.runs.forEach((run, i) => {
      if (runs.has(run.runId)) throw repeated(`${field}.runs[${i}].runId`, 'run');
      runs.add(run.runId);
    });
    transcript.toolCalls.forEach((call, i) => {
      if (calls.has(call.callId)) throw repeated(`${field}.toolCalls[${i}].callId`, 'call');
      calls.add(call.callId);
    });
  };
  checkTranscript(input.transcript, 'transcript');
  const subagentRuns = new Set<string>();
  input.subagents.forEach((sub, i) => {
    const runId = subagentRunOf(sub.path);
    if (subagentRuns.has(runId)) throw repeated(`subagents[${i}].path`, 'sub-agent transcript file name');
    subagentRuns.add(runId);
    checkTranscript(sub.transcript, `subagents[${i}].transcript`);
  });
};

/** The run id of a sub-agent transcript at `file`: `subagent:<its file name without .jsonl>`. */
export const subagentRunOf = (file: string): string => `subagent:${path.basename(file, '.jsonl')}`;
