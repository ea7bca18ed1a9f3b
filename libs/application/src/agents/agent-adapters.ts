import { Injectable } from '@nestjs/common';
import { CodingAgent, DomainError, isCodingAgent } from '@runledger/domain';
import { AgentAdapter } from './agent-adapter';
import { ClaudeCodeAdapter } from './claude-code/claude-code.adapter';
import { CodexAdapter } from './codex/codex.adapter';
import { GeminiCliAdapter } from './gemini-cli/gemini-cli.adapter';
import { OpencodeAdapter } from './opencode/opencode.adapter';

/** The agent adapters by kind (docs/ARCHITECTURE.md §4d): the one place a new agent kind is added. */
@Injectable()
export class AgentAdapters {
  private readonly byKind: ReadonlyMap<CodingAgent, AgentAdapter>;

  constructor(claudeCode: ClaudeCodeAdapter, codex: CodexAdapter, opencode: OpencodeAdapter, gemini: GeminiCliAdapter) {
    this.byKind = new Map<CodingAgent, AgentAdapter>([claudeCode, codex, opencode, gemini].map((adapter) => [adapter.kind, adapter]));
  }

  /** The adapter of a coding agent kind; undefined for `command`, `external` and kinds without one. */
  find(agent: string): AgentAdapter | undefined {
    return isCodingAgent(agent) ? this.byKind.get(agent) : undefined;
  }

  /** The adapter of `agent`; throws DomainError AGENT.UNSUPPORTED (409) when the kind has none. */
  of(agent: string): AgentAdapter {
    const adapter = this.find(agent);
    if (!adapter) throw new DomainError('AGENT.UNSUPPORTED', 'conflict', `runledger has no adapter for agent ${agent}`, { agent });
    return adapter;
  }
}

/** The adapters' providers, registered by the application module. */
export const AGENT_ADAPTER_PROVIDERS = [ClaudeCodeAdapter, CodexAdapter, OpencodeAdapter, GeminiCliAdapter, AgentAdapters];
