import type { ReferenceObject, SchemaObject } from '@nestjs/swagger';

/**
 * JSON schemas of the API's response shapes (docs/ARCHITECTURE.md §5). They are TypeScript interfaces in the domain and application
 * layers (no classes, so the swagger plugin cannot see them); the document's `components.schemas` gets them from here
 * (buildOpenApiDocument) and controllers point at them with `ref(name)`. Fields may be added, never renamed.
 */
const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
const isoTime = { type: 'string', format: 'date-time' } as const;
const anyValue: SchemaObject = { description: 'any JSON value' };
const obj = (properties: Record<string, SchemaObject | ReferenceObject>, required: string[] = [], extra: Partial<SchemaObject> = {}): SchemaObject => ({
  type: 'object', properties, ...(required.length ? { required } : {}), ...extra,
});
const arrayOf = (items: SchemaObject | ReferenceObject): SchemaObject => ({ type: 'array', items });

const num = { type: 'number' } as const;
const tokenTotals = {
  inputTokens: int, outputTokens: int, cacheReadTokens: int, cacheCreationTokens: int, calls: int,
  costUsd: { type: 'number', nullable: true, description: 'USD; null when a call is of a model without a price (named in unpricedModels)' } as SchemaObject,
  unpricedModels: arrayOf(str),
};
const TOTALS_REQUIRED = ['inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheCreationTokens', 'calls', 'costUsd'];
/** Usage and search shapes (docs/ARCHITECTURE.md §4g). */
const USAGE_SCHEMAS = {
  SessionUsage: obj(
    {
      sessionId: str, ...tokenTotals,
      models: arrayOf(obj({ model: { type: 'string', nullable: true }, ...tokenTotals })),
      runs: arrayOf(obj({ runId: { type: 'string', nullable: true }, subagent: str, ...tokenTotals })),
      subagents: arrayOf(obj({ subagent: str, runId: { type: 'string', nullable: true }, ...tokenTotals })),
      prices: obj({ effective: str, projectOverrides: arrayOf(str) }),
    },
    ['sessionId', ...TOTALS_REQUIRED, 'models', 'runs', 'subagents', 'prices'],
  ),
  UsageReport: obj(
    { groupBy: { type: 'string', enum: ['day', 'session', 'project'] }, ...tokenTotals, groups: arrayOf(obj({ key: str, ...tokenTotals })), prices: obj({ effective: str }) },
    ['groupBy', ...TOTALS_REQUIRED, 'groups', 'prices'],
  ),
  SearchResult: obj(
    {
      hits: arrayOf(obj(
        { sessionId: str, projectId: str, revision: int, globalPosition: int, type: str, callId: str, at: str, snippet: { type: 'string', description: 'matched words between « and »' } },
        ['sessionId', 'revision', 'globalPosition', 'type', 'snippet'],
      )),
      nextCursor: { ...num, description: 'pass as `cursor` for the next (older) page; absent on the last page' },
    },
    ['hits'],
  ),
} satisfies Record<string, SchemaObject>;

/** A `$ref` to one of RESPONSE_SCHEMAS. */
export const ref = (name: keyof typeof RESPONSE_SCHEMAS): ReferenceObject => ({ $ref: `#/components/schemas/${name}` });

/** The response schemas, by component name. */
export const RESPONSE_SCHEMAS = {
  Error: obj(
    {
      statusCode: int, error: str, message: str,
      code: { type: 'string', description: 'stable error code, e.g. REQUEST.INVALID, SESSION.ALREADY_TERMINATED' },
      details: { type: 'object', additionalProperties: true, description: 'e.g. `field` for a 400, the current state for a 409' },
    },
    ['statusCode', 'error', 'message'],
    { description: 'Every failed request (docs/ARCHITECTURE.md §5): 400 invalid input, 401, 404 unknown id, 409 conflict, 413 too large.' },
  ),
  Health: obj(
    {
      status: { type: 'string', enum: ['ok'] }, store: { type: 'string', enum: ['pglite', 'postgres', 'kurrentdb'] }, pid: int, version: str, headPosition: int,
      deadLetters: { type: 'integer', description: 'events the read-model projection could not project and skipped (see GET /projections/status)' },
    },
    ['status', 'store', 'pid', 'version', 'headPosition', 'deadLetters'],
  ),
  Status: obj(
    {
      server: { $ref: '#/components/schemas/Health' },
      sessions: { type: 'object', additionalProperties: int, description: 'session count per status (read model)' },
      projections: obj({ checkpointPosition: int, lagEvents: int, deadLetters: int }, ['checkpointPosition', 'lagEvents', 'deadLetters']),
      lastReconcile: obj(
        { globalPosition: int, recordedAt: isoTime, report: { type: 'object', additionalProperties: true, description: 'the ReconcileCompleted counts' } },
        ['globalPosition', 'recordedAt', 'report'],
        { nullable: true },
      ),
      snapshots: obj({ bytes: { type: 'integer', description: 'bytes of the file snapshot store on disk (docs/ARCHITECTURE.md §4e)' } }, ['bytes']),
    },
    ['server', 'sessions', 'projections', 'lastReconcile', 'snapshots'],
  ),
  ProjectRepo: obj({ name: str, path: str }, ['name', 'path']),
  ProjectSummary: obj(
    { id: str, name: str, kind: { type: 'string', enum: ['single-repo', 'workspace'] }, sessionPrefix: str, orchestratorAgent: str },
    ['id', 'name', 'kind', 'sessionPrefix'],
  ),
  Project: obj(
    {
      id: str, name: str, kind: { type: 'string', enum: ['single-repo', 'workspace'] }, sessionPrefix: str, orchestratorAgent: str,
      repos: arrayOf({ $ref: '#/components/schemas/ProjectRepo' }), defaultBranch: str, activeOrchestrator: str,
      env: { type: 'object', additionalProperties: { type: 'string', enum: ['***', '[forgotten]'] }, description: 'configured names, every value masked ([forgotten] once forgotten)' },
      envFingerprints: { type: 'object', additionalProperties: str, description: 'name -> keyed fingerprint (hmac-sha256:<hex>) of its value; the values live in the secret store' },
      nextSessionNumber: int, registeredAt: isoTime, updatedAt: isoTime,
      orchestrator: obj(
        { sessionId: str, status: str, agent: str, health: { type: 'string', enum: ['live', 'restart_needed', 'interrupted', 'retiring', 'terminated'] }, reason: str },
        ['sessionId', 'status', 'health'],
      ),
    },
    ['id', 'name', 'kind', 'sessionPrefix', 'repos', 'env', 'nextSessionNumber', 'registeredAt', 'updatedAt'],
  ),
  ProjectList: obj({ projects: arrayOf({ $ref: '#/components/schemas/ProjectSummary' }) }, ['projects']),
  Worktree: obj(
    { repo: str, path: str, branch: str, state: str, preservedRef: str, stranded: bool, strandedReason: str, removalError: str, restoreConflict: str },
    ['repo', 'path', 'branch', 'state'],
  ),
  Runtime: obj(
    {
      type: str, pid: { type: 'integer', nullable: true }, startTime: { type: 'string', nullable: true }, sessionName: str, startedAt: isoTime,
      alive: { type: 'boolean', nullable: true, description: 'probed live by the API; null in a stored snapshot' },
      exitCode: { type: 'integer', description: 'exit code of an exited runtime, when observed' }, signal: { type: 'string', description: 'signal that ended an exited runtime' },
    },
    ['type', 'pid', 'startTime', 'alive'],
  ),
  ToolCallCounts: obj({ total: int, dispatched: int, completed: int, failed: int, interrupted: int }, ['total', 'dispatched', 'completed', 'failed', 'interrupted']),
  Session: obj(
    {
      id: str, projectId: str, kind: { type: 'string', enum: ['worker', 'orchestrator'] },
      status: { type: 'string', enum: ['starting', 'running', 'exited', 'interrupted', 'retiring', 'terminated'] },
      agent: { type: 'string', description: 'command, claude-code or external' }, agentSessionId: str, transcriptPath: str,
      remote: obj({ host: str, person: str }, ['host', 'person']),
      branch: str, baseRef: str, prompt: str, command: arrayOf(str),
      worktrees: arrayOf({ $ref: '#/components/schemas/Worktree' }),
      runtime: { allOf: [{ $ref: '#/components/schemas/Runtime' }], nullable: true },
      toolCalls: { $ref: '#/components/schemas/ToolCallCounts' },
      lastCompletedToolCall: obj({ callId: str, tool: str, status: str, attempt: int, completedAt: isoTime }, ['callId', 'tool', 'status', 'attempt']),
      runs: obj({ total: int, open: int }, ['total', 'open']),
      divergences: arrayOf({ type: 'object', additionalProperties: true }),
      lateResults: arrayOf({ type: 'object', additionalProperties: true }),
      warnings: arrayOf({ type: 'object', additionalProperties: true }),
      interruption: { type: 'object', additionalProperties: true },
      termination: { type: 'object', additionalProperties: true },
      exit: { type: 'object', additionalProperties: true, description: 'how the runtime ended (exited): exitCode, signal, finished, reason, at' },
      resumeMode: { type: 'string', enum: ['native', 'fresh'], description: 'how the last relaunch continued the agent' },
      restoring: bool,
      completeness: { $ref: '#/components/schemas/SessionCompleteness' },
      revision: { type: 'integer', description: 'revision (0-based) of the last session event folded into this snapshot' },
      createdAt: isoTime, updatedAt: isoTime,
    },
    ['id', 'projectId', 'kind', 'status', 'agent', 'branch', 'worktrees', 'runtime', 'toolCalls', 'revision', 'createdAt', 'updatedAt'],
    { description: 'A session snapshot (docs/ARCHITECTURE.md §5), derived only from the session\'s events.' },
  ),
  SessionCompleteness: obj(
    {
      sources: arrayOf({ type: 'string', enum: ['hooks', 'transcript', 'telemetry'] }),
      figure: { type: 'number', nullable: true, description: 'share of (call, expected source) pairs seen, 0..1; null without calls' },
      calls: int,
      seenBy: obj({ hooks: int, transcript: int, telemetry: int }, ['hooks', 'transcript', 'telemetry']),
      singleSource: arrayOf(obj({ callId: str, tool: str, source: str }, ['callId', 'source'])),
      missed: arrayOf(obj({ callId: str, tool: str, seenBy: arrayOf(str), missedBy: arrayOf(str) }, ['callId', 'seenBy', 'missedBy'])),
      transcript: { type: 'string', enum: ['read', 'unavailable', 'none'] },
    },
    ['sources', 'figure', 'calls', 'seenBy', 'singleSource', 'missed', 'transcript'],
    { description: 'Which source saw which call (docs/ARCHITECTURE.md §4g); on GET /sessions/{id} only.' },
  ),
  SessionList: obj({ sessions: arrayOf({ $ref: '#/components/schemas/Session' }) }, ['sessions']),
  ReconcileResult: obj(
    {
      sessionId: str, trigger: str,
      outcome: { type: 'string', enum: ['unchanged', 'adopted', 'exited', 'interrupted', 'terminal', 'skipped'] },
      why: str, appended: int,
      counts: obj({ callsFromTranscript: int, resultsFromTranscript: int, callsOnlyInLog: int, toolCallsInterrupted: int }, ['callsFromTranscript', 'resultsFromTranscript', 'callsOnlyInLog', 'toolCallsInterrupted']),
      relaunched: obj({ mode: { type: 'string', enum: ['native', 'fresh'] }, status: str }, ['mode', 'status']),
      session: { $ref: '#/components/schemas/Session' },
    },
    ['sessionId', 'trigger', 'outcome', 'why', 'appended', 'counts'],
  ),
  ChangedFile: obj(
    {
      path: str, status: { type: 'string', enum: ['added', 'modified', 'deleted', 'type_changed'] },
      additions: { type: 'integer', nullable: true, description: 'null for a binary file' }, deletions: { type: 'integer', nullable: true },
    },
    ['path', 'status', 'additions', 'deletions'],
  ),
  FileDiff: obj(
    {
      callId: str, tool: str, runId: str, from: int, to: int, root: { type: 'string', description: 'the work tree snapshotted' },
      before: { type: 'string', description: 'git tree id' }, after: { type: 'string', description: 'git tree id' },
      files: arrayOf({ $ref: '#/components/schemas/ChangedFile' }), patch: { type: 'string', description: 'unified diff (at most 1 MiB)' },
      truncated: bool,
    },
    ['root', 'before', 'after', 'files', 'patch', 'truncated'],
    { description: 'What a call (or a revision range) did to the files (docs/ARCHITECTURE.md §4e).' },
  ),
  FileListing: obj(
    {
      at: int, root: str, tree: str,
      entries: arrayOf(obj({ path: str, mode: str, type: { type: 'string', enum: ['blob', 'tree', 'commit'] }, bytes: int }, ['path', 'mode', 'type'])),
    },
    ['at', 'root', 'tree', 'entries'],
  ),
  RewindResult: obj(
    { preservedRef: str, preservedTree: str, tree: str, session: { $ref: '#/components/schemas/Session' } },
    ['preservedRef', 'preservedTree', 'tree', 'session'],
  ),
  KillResult: obj({ freed: { type: 'boolean', description: 'false when a dirty worktree was kept' }, session: { $ref: '#/components/schemas/Session' } }, ['freed', 'session']),
  CleanupResult: obj(
    {
      session: { $ref: '#/components/schemas/Session' },
      preserved: arrayOf(obj({ repo: str, ref: str, commit: str }, ['repo', 'ref', 'commit'])),
      removed: arrayOf(str),
      retryRemove: arrayOf(obj({ repo: str, error: str }, ['repo', 'error'])),
      stranded: arrayOf(obj({ repo: str, reason: str }, ['repo', 'reason'])),
      skipped: arrayOf(str),
    },
    ['session', 'preserved', 'removed', 'retryRemove', 'stranded', 'skipped'],
  ),
  Event: obj(
    {
      revision: int, globalPosition: int, type: str, data: anyValue,
      metadata: obj(
        { correlationId: str, causationId: str, actor: str, idempotencyKey: str, recordedAt: isoTime, occurredAt: isoTime, schemaVersion: int },
        [],
        { additionalProperties: true },
      ),
      hash: str, prevHash: str, eventId: { type: 'string', format: 'uuid' },
    },
    ['revision', 'globalPosition', 'type', 'data', 'metadata', 'hash'],
  ),
  SessionEvents: obj({ events: arrayOf({ $ref: '#/components/schemas/Event' }), nextRevision: int }, ['events', 'nextRevision']),
  SessionState: obj(
    { sessionId: str, revision: int, head: int, state: { type: 'object', additionalProperties: true, description: 'the decider state' }, view: { $ref: '#/components/schemas/Session' } },
    ['sessionId', 'revision', 'head', 'state', 'view'],
  ),
  ToolCall: obj(
    {
      callId: str, tool: str, status: { type: 'string', enum: ['dispatched', 'completed', 'failed', 'interrupted'] }, attempt: int, input: anyValue,
      mode: { type: 'string', enum: ['observed', 'managed'] },
      result: obj({ output: anyValue, exitCode: int, error: str }),
      source: str, runId: str, idempotent: bool, firstDispatchedAt: isoTime, dispatchedAt: isoTime, completedAt: isoTime,
      dispatchSource: { type: 'string', enum: ['transcript'] }, agentCallId: str,
      interruption: obj({ reason: str, at: isoTime }, ['reason', 'at']),
      lateResults: arrayOf({ type: 'object', additionalProperties: true }),
    },
    ['callId', 'tool', 'status', 'attempt', 'input', 'mode', 'idempotent', 'firstDispatchedAt', 'dispatchedAt'],
  ),
  ToolCallList: obj({ toolCalls: arrayOf({ $ref: '#/components/schemas/ToolCall' }) }, ['toolCalls']),
  WorktreeList: obj({
    worktrees: arrayOf(obj({
      path: str, source: { type: 'string', enum: ['record', 'custody'] }, state: str, stranded: bool, rule: str, detail: str, sessionId: str,
      projectId: str, repo: str, branch: str, preservedRef: str, origin: str, updatedAt: str,
    }, ['path', 'source', 'state', 'stranded'])),
  }, ['worktrees']),
  SweepReport: obj({
    mode: { type: 'string', enum: ['remove', 'detect'] }, skipped: str, scanned: int, changed: int, ms: int,
    decisions: arrayOf(obj({ path: str, action: str, rule: str, detail: str, recorded: bool, sessionId: str, preservedRef: str }, ['path', 'action', 'rule', 'detail', 'recorded'])),
    unreadableRepos: arrayOf(obj({ repoPath: str, error: str }, ['repoPath', 'error'])),
  }, ['mode', 'scanned', 'decisions', 'changed', 'unreadableRepos', 'ms']),
  RebuildResult: obj({ events: int, ms: int }, ['events', 'ms']),
  DeadLetter: obj({ streamId: str, revision: int, globalPosition: int, type: str, error: str }, ['streamId', 'revision', 'globalPosition', 'type', 'error']),
  RebuildStatus: obj(
    {
      rebuilding: bool, done: int, total: int, lag: { type: 'integer', nullable: true },
      deadLetters: obj(
        { count: int, first: arrayOf({ $ref: '#/components/schemas/DeadLetter' }) },
        ['count', 'first'],
        { description: 'events the projection could not project and skipped, the first 100 in log order' },
      ),
    },
    ['rebuilding', 'done', 'total', 'lag', 'deadLetters'],
  ),
  VerifyResults: obj(
    { results: arrayOf(obj({ ok: bool, streamId: str, events: int, brokenAt: int, reason: str }, ['ok', 'streamId', 'events'])) },
    ['results'],
  ),
  ImportResult: obj(
    { sessionId: str, toolCalls: int, completed: int, failed: int, skippedLines: int, subagentToolCalls: int, appended: int },
    ['sessionId', 'toolCalls', 'completed', 'failed', 'skippedLines', 'subagentToolCalls', 'appended'],
  ),
  ...USAGE_SCHEMAS,
  ClaudeHookOutput: { type: 'object', additionalProperties: true, description: 'Claude Code hook output JSON (e.g. a PreToolUse permission decision)' },
  ShippedTranscript: obj(
    {
      sessionId: str, file: { type: 'string', description: 'the transcript file name (main or sub-agent)' },
      offset: { type: 'integer', description: 'the offset the chunk was read at' },
      length: { type: 'integer', description: 'bytes the archive copy holds now: where the next chunk starts' },
      appended: { type: 'integer', description: 'bytes this chunk added (0 when the copy already held them)' },
    },
    ['sessionId', 'file', 'offset', 'length', 'appended'],
  ),
} satisfies Record<string, SchemaObject>;
