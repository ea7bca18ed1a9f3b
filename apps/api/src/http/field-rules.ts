import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsObject, ValidateBy, ValidateIf, ValidateNested, ValidationArguments, ValidationOptions } from 'class-validator';
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

/** Name of the rule that refuses an array element which is itself an array (see NestedArray and the validation pipe). */
export const EACH_OBJECT = 'eachIsObject';

/** Index of the first element of `value` that is itself an array (the element EACH_OBJECT refuses); -1 when none is, or `value` is no array. */
export const firstArrayItem = (value: unknown): number => (Array.isArray(value) ? value.findIndex((item) => Array.isArray(item)) : -1);

/**
 * A nested object validated by `type`'s own rules: present, a JSON object (absent, null, an array or a plain value is
 * refused naming the field). `@ValidateNested()` alone lets `undefined` and arrays through unchecked, hence this door.
 * Precede it with a ValidateIf (IsOptional, nullable) when the object may be absent.
 */
export const NestedObject = (type: () => Function): PropertyDecorator => {
  const message = { message: '$property must be an object' };
  return applyDecorators(IsObject(message), ValidateNested(message), Type(type));
};

/**
 * An array of at most `max` nested objects, each validated by `type`'s own rules: an element that is null, an array or
 * a plain value is refused naming it (`transcript.toolCalls[3]`), a longer array naming the array.
 */
export const NestedArray = (type: () => Function, max: number): PropertyDecorator => {
  const message = (args: ValidationArguments) => `each item of ${args.property} must be an object`;
  return applyDecorators(
    IsArray(),
    ArrayMaxSize(max),
    // ValidateNested descends into an element that is an array instead of refusing it; this rule refuses it.
    ValidateBy({ name: EACH_OBJECT, validator: { validate: (value: unknown) => firstArrayItem(value) < 0, defaultMessage: message } }),
    ValidateNested({ each: true, message }),
    Type(type),
  );
};
