import type { TokenCounts } from './usage.events';

/** USD per million tokens of each kind for one model. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheReadPerMTok: number;
  cacheCreationPerMTok: number;
}

/** A dated price table: model id (or id prefix) → prices; `effective` is the date the prices were taken (ISO date). */
export interface PriceTable {
  effective: string;
  source: string;
  models: Record<string, ModelPrice>;
}

const price = (inputPerMTok: number, outputPerMTok: number, cacheReadPerMTok: number, cacheCreationPerMTok: number): ModelPrice => ({
  inputPerMTok,
  outputPerMTok,
  cacheReadPerMTok,
  cacheCreationPerMTok,
});

/**
 * The list prices runledger ships (docs/ARCHITECTURE.md §4g): Anthropic's and OpenAI's published per-million-token
 * prices as of `effective`; cache creation at the 5-minute cache-write rate (1.25× input) for Claude, none for OpenAI
 * (its cache writes are free). A model id matches its longest prefix here (`claude-sonnet-4-5-20250929` →
 * `claude-sonnet-4-5`). A project overrides or adds models with its `prices` (ProjectConfig).
 */
export const DEFAULT_PRICE_TABLE: PriceTable = {
  effective: '2025-11-24',
  source: 'anthropic.com/pricing and openai.com/api/pricing (list prices, USD per million tokens)',
  models: {
    'claude-opus-4-6': price(5, 25, 0.5, 6.25),
    'claude-opus-4-5': price(5, 25, 0.5, 6.25),
    'claude-opus-4-1': price(15, 75, 1.5, 18.75),
    'claude-opus-4': price(15, 75, 1.5, 18.75),
    'claude-sonnet-4-5': price(3, 15, 0.3, 3.75),
    'claude-sonnet-4': price(3, 15, 0.3, 3.75),
    'claude-3-7-sonnet': price(3, 15, 0.3, 3.75),
    'claude-haiku-4-5': price(1, 5, 0.1, 1.25),
    'claude-3-5-haiku': price(0.8, 4, 0.08, 1),
    'gpt-5.1-codex-mini': price(0.25, 2, 0.025, 0),
    'gpt-5.1-codex': price(1.25, 10, 0.125, 0),
    'gpt-5.1': price(1.25, 10, 0.125, 0),
    'gpt-5-codex': price(1.25, 10, 0.125, 0),
    'gpt-5-mini': price(0.25, 2, 0.025, 0),
    'gpt-5-nano': price(0.05, 0.4, 0.005, 0),
    'gpt-5': price(1.25, 10, 0.125, 0),
  },
};

/** The price of `model` in `models`: an exact id first, else the longest id that is a prefix of it; undefined when none. */
export const priceOf = (models: Readonly<Record<string, ModelPrice>>, model: string | null): ModelPrice | undefined => {
  if (model === null) return undefined;
  if (Object.prototype.hasOwnProperty.call(models, model)) return models[model];
  let best: string | undefined;
  for (const id of Object.keys(models)) if (model.startsWith(id) && (best === undefined || id.length > best.length)) best = id;
  return best === undefined ? undefined : models[best];
};

/** The cost of `tokens` at `price` in micro-dollars (USD × 10⁶), unrounded: sum these, round once (`toUsd`). */
export const costMicros = (price: ModelPrice, tokens: TokenCounts): number =>
  tokens.inputTokens * price.inputPerMTok +
  tokens.outputTokens * price.outputPerMTok +
  tokens.cacheReadTokens * price.cacheReadPerMTok +
  tokens.cacheCreationTokens * price.cacheCreationPerMTok;

/** Micro-dollars as USD rounded to a billionth of a dollar (so float noise never shows). */
export const toUsd = (micros: number): number => Math.round(micros * 1000) / 1e9;
