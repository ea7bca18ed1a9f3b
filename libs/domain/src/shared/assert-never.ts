/** Exhaustiveness check for discriminated unions: a compile error if a case is missing, a throw if reached at run time. */
export const assertNever = (value: never): never => {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
};
