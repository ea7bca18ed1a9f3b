import { DomainError } from '@runledger/domain';
import type { ImportedTranscript } from './import-transcript.handler';

const repeated = (field: string, what: string): DomainError => new DomainError('IMPORT.INVALID', 'invalid', `${field} repeats an earlier ${what}`, { field });

/**
 * The rule of an import the body's field-by-field validation (the route's DTO) cannot see: no run id and no call id
 * repeats within one transcript. Checked before anything is created or appended; throws IMPORT.INVALID (400) naming
 * the first repeat, e.g. `transcript.toolCalls[3].callId`.
 */
export const checkUniqueIds = (transcript: ImportedTranscript, field: string): void => {
  const runs = new Set<string>();
  transcript.runs.forEach((run, i) => {
    if (runs.has(run.runId)) throw repeated(`${field}.runs[${i}].runId`, 'run');
    runs.add(run.runId);
  });
  const calls = new Set<string>();
  transcript.toolCalls.forEach((call, i) => {
    if (calls.has(call.callId)) throw repeated(`${field}.toolCalls[${i}].callId`, 'call');
    calls.add(call.callId);
  });
};
