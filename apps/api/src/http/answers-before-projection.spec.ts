import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { hookAnswersBeforeProjection } from '../hooks/hooks.controller';
import { spawnAnswersBeforeProjection } from '../sessions/sessions.controller';
import { AnswersBeforeProjectionRule, answersBeforeProjectionRule } from './read-your-writes.interceptor';

/** How each write route answers, as docs/ARCHITECTURE.md §5 lists it: at commit, after the projection, or by a rule. */
const DECIDED: Record<string, 'commit' | 'waits' | AnswersBeforeProjectionRule> = {
  'HooksController.hook': hookAnswersBeforeProjection,
  'HooksController.shipTranscript': 'commit',
  'ToolCallsController.request': 'commit',
  'ToolCallsController.result': 'commit',
  'ToolCallsController.retry': 'commit',
  'SessionsController.spawn': spawnAnswersBeforeProjection,
  'SessionsController.restore': 'commit',
  'SessionsController.resume': 'commit',
  'SessionsController.reconcile': 'commit',
  'SessionsController.kill': 'waits',
  'SessionsController.cleanup': 'waits',
  'ProjectsController.register': 'commit',
  'ProjectsController.forgetEnv': 'commit',
  'ProjectsController.orchestrator': 'waits',
  'ImportsController.importTranscript': 'waits',
  'ProjectionsController.rebuild': 'waits',
  'WorktreesController.sweep': 'waits',
  'UiAuthController.login': 'commit',
  'UiAuthController.logout': 'commit',
  'UiAuthController.mintCode': 'commit',
  'FileEffectsController.rewind': 'commit',
  'FileEffectsController.fork': 'commit',
  'FileEffectsController.prune': 'commit',
  'UsersController.add': 'commit',
  'UsersController.revoke': 'commit',
  'OtlpController.logs': 'commit',
  'BudgetsController.set': 'waits',
  'NotificationsController.setWebhooks': 'commit',
};

/** Every `*.controller.ts` under apps/api/src. */
const controllerFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? controllerFiles(join(dir, entry.name)) : entry.name.endsWith('.controller.ts') ? [join(dir, entry.name)] : [],
  );

/** `Controller.method` → its handler, for every route whose method is not GET. */
const writeRoutes = (): Map<string, object> => {
  const routes = new Map<string, object>();
  for (const file of controllerFiles(join(__dirname, '..'))) {
    for (const exported of Object.values(require(file) as Record<string, unknown>)) {
      if (typeof exported !== 'function' || Reflect.getMetadata(PATH_METADATA, exported) === undefined) continue;
      const prototype = (exported as { prototype: Record<string, unknown> }).prototype;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method !== undefined && method !== RequestMethod.GET) routes.set(`${exported.name}.${name}`, handler);
      }
    }
  }
  return routes;
};

describe('which write routes answer at commit (docs/ARCHITECTURE.md §5)', () => {
  it('has a decision for every write route, and each route is marked as decided', () => {
    const routes = writeRoutes();
    expect([...routes.keys()].sort()).toEqual(Object.keys(DECIDED).sort());
    for (const [route, handler] of routes) {
      const rule = answersBeforeProjectionRule(handler);
      const decided = DECIDED[route];
      if (decided === 'waits') expect({ route, marked: rule !== undefined }).toEqual({ route, marked: false });
      else if (decided === 'commit') expect({ route, always: rule?.({ body: { kind: 'orchestrator', hook_event_name: 'WorktreeCreate' } }) }).toEqual({ route, always: true });
      else expect({ route, rule }).toEqual({ route, rule: decided });
    }
  });

  it('a spawn answers at commit unless it starts an orchestrator, whose kind the bearer guard reads from its snapshot', () => {
    expect(spawnAnswersBeforeProjection({ body: { projectId: 'p', agent: 'command' } })).toBe(true);
    expect(spawnAnswersBeforeProjection({ body: { projectId: 'p', kind: 'worker' } })).toBe(true);
    expect(spawnAnswersBeforeProjection({ body: { projectId: 'p', kind: 'orchestrator' } })).toBe(false);
    expect(spawnAnswersBeforeProjection({})).toBe(true); // no body: refused with 400 by validation, nothing appended
  });

  it('a hook answers at commit unless worktree custody handles it', () => {
    expect(hookAnswersBeforeProjection({ body: { hook_event_name: 'PreToolUse' } })).toBe(true);
    expect(hookAnswersBeforeProjection({ body: { hook_event_name: 'WorktreeCreate' } })).toBe(false);
    expect(hookAnswersBeforeProjection({ body: { hook_event_name: 'WorktreeRemove' } })).toBe(false);
    expect(hookAnswersBeforeProjection({ body: {} })).toBe(true);
  });
});
