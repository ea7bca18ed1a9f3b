import { StateChange } from '@runledger/domain/shared/json-diff';
import { shortJson } from '../client/output';

export { diffStates, type StateChange } from '@runledger/domain/shared/json-diff';

/** One line per change: `+ path: value`, `- path: value`, `~ path: before → after` (values as JSON cut to `width`). */
export const formatChanges = (changes: StateChange[], width = 70): string[] =>
  changes.map((c) => {
    if (c.op === 'add') return `+ ${c.path}: ${shortJson(c.after, width)}`;
    if (c.op === 'remove') return `- ${c.path}: ${shortJson(c.before, width)}`;
    return `~ ${c.path}: ${shortJson(c.before, width)} → ${shortJson(c.after, width)}`;
  });
