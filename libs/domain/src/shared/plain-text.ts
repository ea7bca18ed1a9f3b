/** C0 control characters (U+0000–U+001F) and DEL (U+007F): never part of an id, a name or a header (invariant 13). */
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** NUL (U+0000): no argv element, environment value or PostgreSQL text can hold it. */
export const NUL_CHARACTER = /\u0000/;

/** Describes the first control character of `value` as `U+0000 at index 3`, or null when it has none. */
export const describeControlCharacter = (value: string, pattern: RegExp = CONTROL_CHARACTER): string | null => {
  const match = pattern.exec(value);
  if (!match) return null;
  return `U+${match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at index ${match.index}`;
};
