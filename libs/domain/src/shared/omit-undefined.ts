/** A shallow copy of `value` without the keys whose value is `undefined`, so events and state serialize identically to what was built. */
export const omitUndefined = <T extends object>(value: T): T => {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (entry !== undefined) out[key] = entry;
  }
  return out as T;
};
