import { INestApplication } from '@nestjs/common';
import { ErrorFilter } from './error.filter';
import { validationPipe } from './validation';

/** Route prefix of the HTTP API (DESIGN §5). */
export const API_PREFIX = 'api/v1';

/** Applies the API's global prefix, validation and error mapping to a Nest HTTP application. */
export const configureHttp = (app: INestApplication): void => {
  app.setGlobalPrefix(API_PREFIX);
  app.useGlobalPipes(validationPipe());
  app.useGlobalFilters(new ErrorFilter());
};
