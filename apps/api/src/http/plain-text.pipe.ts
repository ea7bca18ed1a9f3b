import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { describeControlCharacter, DomainError } from '@runledger/domain';

const refuse = (field: string, value: string): never => {
  throw new DomainError('REQUEST.INVALID', 'invalid', `${field} must not contain control characters (${describeControlCharacter(value)})`, { field });
};

const checkQueryValue = (field: string, value: unknown): void => {
  if (typeof value === 'string') {
    if (describeControlCharacter(value) !== null) refuse(field, value);
  } else if (Array.isArray(value)) {
    value.forEach((entry, i) => checkQueryValue(`${field}[${i}]`, entry));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, entry] of Object.entries(value)) checkQueryValue(`${field}.${key}`, entry);
  }
};

/**
 * Runs before DTO validation on every route: a path parameter or query value holding a control character (NUL
 * included, e.g. `GET /sessions/a%00b`) is refused with 400 naming the parameter, so it never reaches a store
 * (invariant 13). Bodies are checked by their DTOs' field rules (IsPlainText, HasNoNul).
 */
@Injectable()
export class PlainTextPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'param' && typeof value === 'string') {
      if (describeControlCharacter(value) !== null) refuse(metadata.data ?? 'path', value);
    } else if (metadata.type === 'query') {
      if (metadata.data) checkQueryValue(metadata.data, value);
      else if (value !== null && typeof value === 'object') for (const [key, entry] of Object.entries(value)) checkQueryValue(key, entry);
    }
    return value;
  }
}
