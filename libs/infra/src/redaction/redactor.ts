/*
 * docs/ARCHITECTURE.md §3 invariant 12: secrets never persist. Tool inputs and outputs pass through a `Redactor` before append.
 * Every removed value is replaced by `[REDACTED:<kind>]`, so a reader sees what was there without seeing it.
 */

/** What a redaction removed: `secret` (a configured value) or one of the well-known token patterns. */
export type RedactionKind =
  | 'secret'
  | 'private_key'
  | 'github_token'
  | 'aws_access_key_id'
  | 'aws_secret_access_key'
  | 'anthropic_api_key'
  | 'openai_api_key'
  | 'bearer_token'
  | 'runledger_token';

/** How many values of one kind were redacted. */
export interface RedactionCount {
  kind: string;
  count: number;
}

/** A redacted copy of a value plus the number of redactions per kind (kinds in first-seen order, none with count 0). */
export interface RedactionReport<T = unknown> {
  value: T;
  redactions: RedactionCount[];
}

/** Options of a `Redactor`: the configured secret values (e.g. a project's env values and API tokens). */
export interface RedactorOptions {
  secrets: string[];
}

/** Configured secret values shorter than this many characters are ignored (too likely to hit ordinary text). */
export const MIN_SECRET_LENGTH = 6;

/** The marker that replaces a redacted value of `kind`, e.g. `[REDACTED:github_token]`. */
export const redactionMarker = (kind: RedactionKind): string => `[REDACTED:${kind}]`;

/** A well-known token pattern and how to replace one match (given the match and its capture groups). */
interface Rule {
  kind: RedactionKind;
  pattern: RegExp;
  /** Replaces one match; returns the replacement text. */
  replace: (match: string, ...groups: string[]) => string;
}

const whole = (kind: RedactionKind): Rule['replace'] => () => redactionMarker(kind);

/**
 * The pattern rules, applied in this order after the configured secrets. Each is anchored on word boundaries and needs
 * a minimum length (and, for the loose `sk-`/Bearer shapes, a digit) so that prose, kebab-case names and git SHAs
 * (40 hex chars, no prefix) are not hit.
 */
const RULES: Rule[] = [
  {
    // PEM private keys (RSA, EC, OPENSSH, ENCRYPTED, plain PKCS#8); a block cut off before its END line is redacted to the end.
    kind: 'private_key',
    pattern: /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g,
    replace: whole('private_key'),
  },
  {
    // Classic GitHub tokens: ghp_ (personal), gho_ (OAuth), ghu_ (user-to-server), ghs_ (server-to-server), ghr_ (refresh).
    kind: 'github_token',
    // Bounded by non-alphanumerics, not \b: `ghp_…_suffix` and `x_ghp_…` (underscores are word characters) are caught too.
    pattern: /(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{36,}(?![A-Za-z0-9])/g,
    replace: whole('github_token'),
  },
  {
    // Fine-grained GitHub personal access tokens.
    kind: 'github_token',
    pattern: /\bgithub_pat_[A-Za-z0-9_]{22,}\b/g,
    replace: whole('github_token'),
  },
  {
    // AWS access key ids: long-term (AKIA) and temporary (ASIA).
    kind: 'aws_access_key_id',
    pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g,
    replace: whole('aws_access_key_id'),
  },
  {
    // `aws_secret_access_key = …` in credentials files, env assignments and JSON/YAML; the name and separator are kept.
    kind: 'aws_secret_access_key',
    pattern: /(aws_secret_access_key["']?\s*[:=]\s*["']?)([A-Za-z0-9/+=]{16,})/gi,
    replace: (_m, prefix) => `${prefix}${redactionMarker('aws_secret_access_key')}`,
  },
  {
    // Anthropic API keys (sk-ant-api03-…, sk-ant-admin01-…).
    kind: 'anthropic_api_key',
    pattern: /(?<![A-Za-z0-9_-])sk-ant-(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}/g,
    replace: whole('anthropic_api_key'),
  },
  {
    // OpenAI-style keys: sk-…, sk-proj-…, sk-svcacct-…; 20+ chars after the prefix, with at least one digit.
    kind: 'openai_api_key',
    pattern: /(?<![A-Za-z0-9_-])sk-(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}/g,
    replace: whole('openai_api_key'),
  },
  {
    // runledger's own personal tokens (`rlu1.` and 43 base64url characters, docs/ARCHITECTURE.md §8).
    kind: 'runledger_token',
    pattern: /(?<![A-Za-z0-9_-])rlu1\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g,
    replace: whole('runledger_token'),
  },
  {
    // `Bearer <token>` (Authorization headers, curl -H): the word is kept; the token needs 12+ chars and a digit.
    kind: 'bearer_token',
    pattern: /\b(Bearer\s+)(?=[A-Za-z0-9\-._~+/]*\d)[A-Za-z0-9\-._~+/]{12,}=*/gi,
    replace: (_m, prefix) => `${prefix}${redactionMarker('bearer_token')}`,
  },
];

/** A literal each rule's match contains (case-insensitive superset): a string without one is left to the secrets alone. */
const RULE_ANCHORS = /PRIVATE KEY|gh[pousr]_|github_pat_|AKIA|ASIA|aws_secret_access_key|sk-|bearer|rlu1\./i;

/** A secret as written and as URL encoding and base64 (standard, URL-safe, without padding) write it. */
const encodedForms = (secret: string): string[] => {
  const base64 = Buffer.from(secret, 'utf8').toString('base64').replace(/=+$/, '');
  return [secret, encodeURIComponent(secret), base64, Buffer.from(secret, 'utf8').toString('base64url')].filter((form) => form.length >= MIN_SECRET_LENGTH);
};

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/**
 * Redacts secrets from values before they are persisted (docs/ARCHITECTURE.md §3 invariant 12). Replaces every occurrence of a
 * configured secret value, also URL-encoded or base64-encoded (values shorter than `MIN_SECRET_LENGTH` = 6 chars, and
 * non-strings, are ignored) with
 * `[REDACTED:secret]`, then the well-known patterns (GitHub tokens, AWS key ids and secret keys, Anthropic/OpenAI keys,
 * Bearer tokens, PEM private keys, runledger personal tokens) with `[REDACTED:<kind>]`. Immutable after construction; safe to share.
 */
export class Redactor {
  private readonly secretPattern: RegExp | null;

  /** Builds a redactor for `options.secrets` (see the class docstring for which values are kept). */
  constructor(options: RedactorOptions = { secrets: [] }) {
    const secrets = [...new Set((options.secrets ?? []).filter((s) => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH))]
      // Longest first, so a secret that contains another is removed whole.
      .sort((a, b) => b.length - a.length);
    // Each secret also in the encoded forms it travels in: URL-encoded and base64 (standard and URL-safe, unpadded).
    const forms = [...new Set(secrets.flatMap((secret) => encodedForms(secret)))].sort((a, b) => b.length - a.length);
    this.secretPattern = forms.length > 0 ? new RegExp(forms.map(escapeRegExp).join('|'), 'g') : null;
  }

  /** A redacted deep copy of `value`: strings and keys anywhere in plain objects/arrays redacted, non-strings kept; input untouched. */
  redact<T>(value: T): T;
  redact(value: unknown): unknown {
    return this.walk(value, new Map(), new WeakMap());
  }

  /** Like `redact`, plus how many values of each kind were removed. */
  redactWithReport<T>(value: T): RedactionReport<T>;
  redactWithReport(value: unknown): RedactionReport {
    const counts = new Map<string, number>();
    const redacted = this.walk(value, counts, new WeakMap());
    return { value: redacted, redactions: [...counts].map(([kind, count]) => ({ kind, count })) };
  }

  /** Redacts one string, adding to `counts` per kind. */
  redactString(text: string, counts: Map<string, number> = new Map()): string {
    // Nothing shorter than the shortest secret or token can hold one (most keys and ids): skip the scans.
    if (text.length < MIN_SECRET_LENGTH) return text;
    const bump = (kind: string): void => void counts.set(kind, (counts.get(kind) ?? 0) + 1);
    let out = text;
    if (this.secretPattern) {
      out = out.replace(this.secretPattern, () => {
        bump('secret');
        return redactionMarker('secret');
      });
    }
    // One scan for the literal every pattern starts with; the rules run only on a string that has one.
    if (!RULE_ANCHORS.test(out)) return out;
    for (const rule of RULES) {
      rule.pattern.lastIndex = 0;
      out = out.replace(rule.pattern, (match: string, ...rest: unknown[]) => {
        bump(rule.kind);
        const groups = rest.slice(0, rest.findIndex((a) => typeof a === 'number')) as string[];
        return rule.replace(match, ...groups);
      });
    }
    return out;
  }

  /** Deep copy with strings redacted; `seen` maps already-copied objects (shared references and cycles stay so). */
  private walk(value: unknown, counts: Map<string, number>, seen: WeakMap<object, unknown>): unknown {
    if (typeof value === 'string') return this.redactString(value, counts);
    if (typeof value !== 'object' || value === null) return value;
    const done = seen.get(value);
    if (done !== undefined) return done;
    if (Array.isArray(value)) {
      const copy: unknown[] = [];
      seen.set(value, copy);
      for (const item of value) copy.push(this.walk(item, counts, seen));
      return copy;
    }
    if (!isPlainObject(value)) return value; // Date, Buffer, Map, class instances: left as they are
    const copy: Record<string, unknown> = Object.create(Object.getPrototypeOf(value));
    seen.set(value, copy);
    // Keys are persisted too: a secret used as a key is redacted like any other string.
    for (const [key, item] of Object.entries(value)) copy[this.redactString(key, counts)] = this.walk(item, counts, seen);
    return copy;
  }
}
