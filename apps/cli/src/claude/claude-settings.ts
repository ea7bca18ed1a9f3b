import { isDeepStrictEqual } from 'node:util';

/** One hook of a Claude Code settings file (`{type: 'command', command, timeout}` or `{type: 'http', url, …}`). */
export type ClaudeHook = Record<string, unknown>;

/** One matcher group of a hook event: `{matcher, hooks: [...]}`. */
export interface MatcherGroup {
  matcher?: string;
  hooks: ClaudeHook[];
  [key: string]: unknown;
}

/** A Claude Code settings file: any keys; `hooks` maps an event name to its matcher groups. */
export type ClaudeSettingsFile = Record<string, unknown> & { hooks?: Record<string, MatcherGroup[]> };

/** Ends the command of every hook install-hooks writes: how uninstall-hooks and re-installs recognise runledger's own. */
export const INSTALLED_HOOK_MARKER = '# runledger install-hooks';

/** True for a hook that install-hooks wrote (a command hook ending with the marker). */
export const isInstalledHook = (hook: unknown): boolean =>
  typeof hook === 'object' && hook !== null && typeof (hook as ClaudeHook).command === 'string' && ((hook as ClaudeHook).command as string).includes(INSTALLED_HOOK_MARKER);

const isGroupList = (value: unknown): value is MatcherGroup[] =>
  Array.isArray(value) && value.every((g) => typeof g === 'object' && g !== null && Array.isArray((g as MatcherGroup).hooks));

/**
 * What `install-hooks --telemetry` adds beside the hooks (docs/ARCHITECTURE.md §4g): Claude Code's telemetry variables in
 * `env`, and `otelHeadersHelper`, a command printing the Authorization header from the token file (so no token is
 * written into the settings); the helper ends with INSTALLED_HOOK_MARKER, which is how uninstall knows it installed them.
 */
export interface SettingsTelemetry {
  env: Record<string, string>;
  otelHeadersHelper: string;
}

/** True when `settings` holds the telemetry install-hooks wrote (its headers helper carries the marker). */
const hasInstalledTelemetry = (settings: ClaudeSettingsFile): boolean =>
  typeof settings.otelHeadersHelper === 'string' && settings.otelHeadersHelper.includes(INSTALLED_HOOK_MARKER);

/** `settings` without the telemetry install-hooks wrote: the helper, and the `env` keys it set (`env` itself when emptied and `original` had none). Pure. */
export const withoutInstalledTelemetry = (settings: ClaudeSettingsFile, keys: readonly string[], original?: ClaudeSettingsFile): ClaudeSettingsFile => {
  if (!hasInstalledTelemetry(settings)) return settings;
  const { otelHeadersHelper: _helper, env, ...rest } = settings;
  const kept = Object.fromEntries(Object.entries((env ?? {}) as Record<string, unknown>).filter(([key]) => !keys.includes(key)));
  return Object.keys(kept).length || (original && 'env' in original) ? { ...rest, env: kept } : rest;
};

/**
 * `settings` with runledger's telemetry: its `env` entries set and the headers helper. Throws an Error naming the key
 * when the user's own settings already set one of those variables (or a headers helper) to something else: nothing is
 * overwritten that uninstall could not give back.
 */
export const withInstalledTelemetry = (settings: ClaudeSettingsFile, telemetry: SettingsTelemetry): ClaudeSettingsFile => {
  const base = withoutInstalledTelemetry(settings, Object.keys(telemetry.env));
  const env = (base.env ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(telemetry.env)) {
    if (key in env && env[key] !== value) throw new Error(`the settings already set env.${key} (${JSON.stringify(env[key])}): remove it or install without --telemetry`);
  }
  if (typeof base.otelHeadersHelper === 'string') throw new Error('the settings already have an otelHeadersHelper of their own: remove it or install without --telemetry');
  return { ...base, env: { ...env, ...telemetry.env }, otelHeadersHelper: telemetry.otelHeadersHelper };
};

/** True when `settings` holds at least one hook that install-hooks wrote. */
export const hasInstalledHooks = (settings: ClaudeSettingsFile): boolean =>
  Object.values(settings.hooks ?? {}).some((groups) => isGroupList(groups) && groups.some((g) => g.hooks.some(isInstalledHook)));

/**
 * `settings` without the hooks install-hooks wrote. Only what the removal empties goes too (a matcher group, an event,
 * the `hooks` key), except an event or `hooks` key that `original` (the file before install) already had, which stays
 * as the empty entry it was. The user's own hooks stay as they were. Pure; the input is not changed.
 */
export const withoutInstalledHooks = (settings: ClaudeSettingsFile, original?: ClaudeSettingsFile): ClaudeSettingsFile => {
  if (!settings.hooks || typeof settings.hooks !== 'object') return settings;
  const hooks: Record<string, MatcherGroup[]> = {};
  let removedAny = false;
  for (const [event, groups] of Object.entries(settings.hooks)) {
    if (!isGroupList(groups) || !groups.some((g) => g.hooks.some(isInstalledHook))) {
      hooks[event] = groups;
      continue;
    }
    removedAny = true;
    const kept = groups.flatMap((g) => {
      if (!g.hooks.some(isInstalledHook)) return [g];
      const rest = g.hooks.filter((h) => !isInstalledHook(h));
      return rest.length ? [{ ...g, hooks: rest }] : [];
    });
    if (kept.length || Array.isArray(original?.hooks?.[event])) hooks[event] = kept;
  }
  if (!removedAny) return settings;
  const { hooks: _old, ...rest } = settings;
  return Object.keys(hooks).length || (original?.hooks && typeof original.hooks === 'object') ? { ...rest, hooks } : rest;
};

/**
 * `settings` with runledger's hooks: every earlier runledger hook removed first (so a re-install replaces them, never
 * doubles them), then one matcher group per event of `ours` appended after the user's own groups. Pure.
 */
export const withInstalledHooks = (settings: ClaudeSettingsFile, ours: Record<string, MatcherGroup[]>): ClaudeSettingsFile => {
  const base = withoutInstalledHooks(settings);
  const hooks: Record<string, MatcherGroup[]> = { ...(base.hooks ?? {}) };
  for (const [event, groups] of Object.entries(ours)) hooks[event] = [...(isGroupList(hooks[event]) ? hooks[event] : []), ...groups];
  return { ...base, hooks };
};

/** Structural equality of two settings values (key order ignored). */
export const sameSettings = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b);
