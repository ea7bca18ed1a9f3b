import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

const flatten = (errors: ValidationError[], parent = ''): { field: string; problems: string[] }[] =>
  errors.flatMap((e) => {
    // An array item is named like the code that reads it: `transcript.toolCalls[3].requestedAt`.
    const field = /^\d+$/.test(e.property) && parent ? `${parent}[${e.property}]` : parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, problems: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });

/**
 * DTO validation for every route: unknown fields are refused (whitelist + forbidNonWhitelisted), and a 400 names
 * each offending field in `details.fields` (invariant 13).
 */
export const validationPipe = (): ValidationPipe =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      return new BadRequestException({
        message: fields.map((f) => f.problems.join(', ')).join('; '),
        code: 'REQUEST.INVALID',
        details: { field: fields[0]?.field, fields },
      });
    },
  });
