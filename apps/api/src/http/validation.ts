import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import { EACH_OBJECT, firstArrayItem } from './field-rules';

/** Most offending fields a 400 lists in `details.fields` (the rest are counted in `details.omitted`), so a huge bad array cannot make a huge answer. */
export const MAX_REPORTED_FIELDS = 20;

const flatten = (errors: ValidationError[], parent = ''): { field: string; problems: string[] }[] =>
  errors.flatMap((e) => {
    // An array item is named like the code that reads it: `transcript.toolCalls[3].requestedAt`.
    const field = /^\d+$/.test(e.property) && parent ? `${parent}[${e.property}]` : parent ? `${parent}.${e.property}` : e.property;
    // The element-is-an-object rule of a nested array names the element it refused.
    const named = e.constraints?.[EACH_OBJECT] ? `${field}[${firstArrayItem(e.value)}]` : field;
    const own = e.constraints ? [{ field: named, problems: [...new Set(Object.values(e.constraints))] }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });

/**
 * DTO validation for every route: unknown fields are refused (whitelist + forbidNonWhitelisted), and a 400 names
 * each offending field in `details.fields` (at most MAX_REPORTED_FIELDS; invariant 13).
 */
export const validationPipe = (): ValidationPipe =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    // Errors keep the value they refused (the pipe would strip it from errors with children): the EACH_OBJECT rule
    // reads it to name the element. The answer never echoes a value.
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      const reported = fields.slice(0, MAX_REPORTED_FIELDS);
      return new BadRequestException({
        message: reported.map((f) => f.problems.join(', ')).join('; '),
        code: 'REQUEST.INVALID',
        details: { field: fields[0]?.field, fields: reported, ...(fields.length > reported.length ? { omitted: fields.length - reported.length } : {}) },
      });
    },
  });
