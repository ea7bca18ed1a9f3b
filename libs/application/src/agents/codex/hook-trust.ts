import { createHash } from 'node:crypto';

/*
 * Codex's hook trust (0.171): a hook in a hooks file runs only when `config.toml` trusts it, one table per handler,
 * `[hooks.state."<absolute hooks file>:<event_snake_case>:<group index>:<handler index>"]` with
 * `trusted_hash = "sha256:<hex>"`, the sha256 of the compact, key-sorted JSON of the handler's identity
 * `{event_name, matcher?, hooks: [{type: "command", command, timeout, async, statusMessage?}]}` (timeout 600 unless
 * set, at least 1). An untrusted hook is skipped without a word, so flight-recorder mode must trust what it installs.
 */

/** One handler group of a Claude-shaped hooks file (`{hooks: {<Event>: [group…]}}`). */
export interface HookGroup {
  matcher?: string;
  hooks: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

/** `PreToolUse` → `pre_tool_use`: the event as Codex names it in a trust key. */
export const snakeEvent = (event: string): string => event.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();

const canonical = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(canonical)
    : typeof value === 'object' && value !== null
      ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
      : value;

/** The trust key and hash of the command handler at `hooks[event][group].hooks[handler]` of `hooksFile`, as Codex computes them. */
export const hookTrust = (hooksFile: string, event: string, groupIndex: number, handlerIndex: number, group: HookGroup): { key: string; hash: string } => {
  const handler = group.hooks[handlerIndex]!;
  const normalized: Record<string, unknown> = { type: 'command', command: handler.command, timeout: Math.max(1, Number(handler.timeout ?? 600)), async: handler.async === true };
  if (handler.statusMessage !== undefined) normalized.statusMessage = handler.statusMessage;
  const identity: Record<string, unknown> = { event_name: snakeEvent(event), hooks: [normalized] };
  if (group.matcher !== undefined) identity.matcher = group.matcher;
  const hash = createHash('sha256').update(JSON.stringify(canonical(identity))).digest('hex');
  return { key: `${hooksFile}:${snakeEvent(event)}:${groupIndex}:${handlerIndex}`, hash: `sha256:${hash}` };
};

/** The config.toml tables that trust every command handler of `hooks` for which `pick` is true (TOML text, one table each). */
export const hookTrustToml = (hooksFile: string, hooks: Record<string, HookGroup[]>, pick: (handler: Record<string, unknown>) => boolean): string =>
  Object.entries(hooks)
    .flatMap(([event, groups]) =>
      groups.flatMap((group, g) =>
        group.hooks.flatMap((handler, h) => {
          if (handler.type !== 'command' || !pick(handler)) return [];
          const { key, hash } = hookTrust(hooksFile, event, g, h, group);
          return [`[hooks.state.${JSON.stringify(key)}]\ntrusted_hash = ${JSON.stringify(hash)}\n`];
        }),
      ),
    )
    .join('\n');
