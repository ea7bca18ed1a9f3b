import { ValidateBy, ValidateIf, ValidationOptions } from 'class-validator';
import { CONTROL_CHARACTER, describeControlCharacter, NUL_CHARACTER } from '@runledger/domain';

/**
 * Optional means absent, never null: the rules after it are skipped only when the field is `undefined`, so
 * `{"runId": null}` is refused by the field's own rules (400 naming it) instead of passing as "not given".
 */
export const IsOptional = (options?: ValidationOptions): PropertyDecorator => ValidateIf((_, value) => value !== undefined, options);

const textRule = (name: string, pattern: RegExp, what: string, options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name,
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !pattern.test(value),
        defaultMessage: (args) => `${args?.property ?? 'value'} must not contain ${what} (${describeControlCharacter(String(args?.value), pattern)})`,
      },
    },
    options,
  );

/** An id or a name: no control character (U+0000–U+001F, U+007F) anywhere; `{each: true}` for arrays (invariant 13). */
export const IsPlainText = (options?: ValidationOptions): PropertyDecorator => textRule('isPlainText', CONTROL_CHARACTER, 'control characters', options);

/** Free text handed to a process or a text column (argv, prompt, reason): newlines allowed, NUL refused. */
export const HasNoNul = (options?: ValidationOptions): PropertyDecorator => textRule('hasNoNul', NUL_CHARACTER, 'NUL characters', options);
