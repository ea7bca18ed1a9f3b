/** A duration in ms as people read it: `850 ms`, `3.4 s`, `2 m 05 s`, `1 h 02 m`, `3 d 4 h`. */
export const formatDuration = (ms: number): string => {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, '0')} m`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
};

/** ISO-8601 as `2025-01-02 10:11:12Z` (UTC, to the second); the input as is when it is not a date. */
export const formatTime = (iso: string | undefined): string => {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
};

/** A value as indented JSON (strings stay JSON-quoted, so what is shown is what is stored). */
export const prettyJson = (value: unknown): string => JSON.stringify(value, null, 2) ?? 'undefined';

/** A short one-line preview of a tool input: its command, path or pattern when it has one, else compact JSON; cut to `width`. */
export const inputPreview = (input: unknown, width = 80): string => {
  let text: string;
  if (typeof input === 'string') text = input;
  else if (input && typeof input === 'object') {
    const o = input as Record<string, unknown>;
    const main = o.command ?? o.file_path ?? o.path ?? o.pattern ?? o.url ?? o.description ?? o.prompt;
    text = typeof main === 'string' ? main : JSON.stringify(input);
  } else text = JSON.stringify(input) ?? '';
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
};

/** The first `n` characters of a hash, for tables (the full hash goes in a title). */
export const shortHash = (hash: string, n = 12): string => hash.slice(0, n);
