import { describeControlCharacter, DomainError } from '@runledger/domain';

/** Longest id (run, call, agent session) and tool name an import accepts (characters). */
export const MAX_IMPORT_ID = 200;
/** Longest path (cwd) an import accepts (characters). */
export const MAX_IMPORT_PATH = 4096;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const invalid = (field: string, message: string): DomainError => new DomainError('IMPORT.INVALID', 'invalid', `${field} ${message}`, { field });

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const plain = (value: unknown, field: string, max: number, nullable = false): void => {
  if (nullable && value === null) return;
  if (typeof value !== 'string' || value.length === 0) throw invalid(field, `must be a non-empty string${nullable ? ' or null' : ''}`);
  if (value.length > max) throw invalid(field, `must be at most ${max} characters`);
  const control = describeControlCharacter(value);
  if (control) throw invalid(field, `must not contain control characters (${control})`);
};
const time = (value: unknown, field: string, nullable = false): void => {
  if (nullable && value === null) return;
  if (typeof value !== 'string' || !ISO.test(value) || Number.isNaN(Date.parse(value))) throw invalid(field, `must be an ISO-8601 time${nullable ? ' or null' : ''}`);
};
const line = (value: unknown, field: string): void => {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalid(field, 'must be a line number (an integer ≥ 0)');
};
const text = (value: unknown, field: string): void => {
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (value.includes('\u0000')) throw invalid(field, 'must not contain NUL characters');
};

/**
 * Checks a parsed transcript (`{agentSessionId?, cwd?, runs, toolCalls, skippedLines}`, as `runledger import` sends it)
 * before anything is created or appended: every run and call has well-formed ids, names and ISO times, and no call id or
 * run id repeats with different content. Throws IMPORT.INVALID (400) naming the first bad field, e.g.
 * `transcript.toolCalls[3].requestedAt`.
 */
export const checkParsedTranscript = (value: unknown, field: string): void => {
  if (!isObject(value)) throw invalid(field, 'must be an object');
  for (const key of ['runs', 'toolCalls', 'skippedLines']) if (!Array.isArray(value[key])) throw invalid(`${field}.${key}`, 'must be an array');
  if (value.agentSessionId !== undefined) plain(value.agentSessionId, `${field}.agentSessionId`, MAX_IMPORT_ID, true);
  if (value.cwd !== undefined) plain(value.cwd, `${field}.cwd`, MAX_IMPORT_PATH, true);
  const runs = new Set<string>();
  (value.runs as unknown[]).forEach((run, i) => {
    const at = `${field}.runs[${i}]`;
    if (!isObject(run)) throw invalid(at, 'must be an object');
    plain(run.runId, `${at}.runId`, MAX_IMPORT_ID);
    if (runs.has(run.runId as string)) throw invalid(`${at}.runId`, 'repeats an earlier run');
    runs.add(run.runId as string);
    text(run.prompt, `${at}.prompt`);
    time(run.startedAt, `${at}.startedAt`);
    time(run.endedAt, `${at}.endedAt`, true);
    line(run.line, `${at}.line`);
  });
  const calls = new Set<string>();
  (value.toolCalls as unknown[]).forEach((call, i) => {
    const at = `${field}.toolCalls[${i}]`;
    if (!isObject(call)) throw invalid(at, 'must be an object');
    plain(call.callId, `${at}.callId`, MAX_IMPORT_ID);
    if (calls.has(call.callId as string)) throw invalid(`${at}.callId`, 'repeats an earlier call');
    calls.add(call.callId as string);
    if (call.runId !== undefined) plain(call.runId, `${at}.runId`, MAX_IMPORT_ID, true);
    plain(call.tool, `${at}.tool`, MAX_IMPORT_ID);
    if (!('input' in call)) throw invalid(`${at}.input`, 'is required');
    time(call.requestedAt, `${at}.requestedAt`);
    line(call.line, `${at}.line`);
    if (call.result === null || call.result === undefined) return;
    const result = call.result;
    if (!isObject(result)) throw invalid(`${at}.result`, 'must be an object or null');
    if (result.status !== 'completed' && result.status !== 'failed') throw invalid(`${at}.result.status`, 'must be completed or failed');
    time(result.at, `${at}.result.at`);
    line(result.line, `${at}.result.line`);
  });
};
