import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { custodyDecider, CustodyCommand, CustodyEvent, CustodyState, worktreeStreamName } from '@runledger/domain';
import { CommandContext } from '../event-sourcing/command-context';
import { Decided, DeciderStreams } from '../event-sourcing/decider-streams';

/** Key of a path's custody stream: the first 32 hex digits of sha256 of its canonical absolute path. */
export const custodyKey = (canonicalPath: string): string => createHash('sha256').update(canonicalPath).digest('hex').slice(0, 32);
/** `worktree-<key>`: one custody stream per canonical path (docs/ARCHITECTURE.md §4b). */
export const custodyStreamName = (canonicalPath: string): string => worktreeStreamName(custodyKey(canonicalPath));
/** `refs/runledger/reaped/<key>`: where a removed worktree's HEAD is kept (invariant 10: preserved before removal all the same). */
export const reapedRef = (canonicalPath: string): string => `refs/runledger/reaped/${custodyKey(canonicalPath)}`;

/** Custody streams through their decider: load and decide-and-append with the expected revision (invariant 2). */
@Injectable()
export class CustodyStreams {
  constructor(private readonly streams: DeciderStreams) {}

  /** The custody state of a canonical path (`none` when runledger never held it). */
  async load(canonicalPath: string): Promise<CustodyState> {
    return (await this.streams.load(custodyStreamName(canonicalPath), custodyDecider)).state;
  }

  /** Decides `commands` in order on the path's fresh state and appends the events; refusals throw CUSTODY.* and append nothing. */
  decide(canonicalPath: string, commands: (state: CustodyState) => CustodyCommand[], context: CommandContext): Promise<Decided<CustodyState, CustodyEvent>> {
    return this.streams.handle(custodyStreamName(canonicalPath), custodyDecider, (state) => {
      const events: CustodyEvent[] = [];
      let current = state;
      for (const command of commands(state)) {
        const produced = custodyDecider.decide(command, current);
        events.push(...produced);
        current = produced.reduce(custodyDecider.evolve, current);
      }
      return events;
    }, context);
  }
}
