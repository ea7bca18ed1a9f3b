import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { ErrorFilter } from './error.filter';
import { validationPipe } from './validation';

/** Route prefix of the HTTP API (DESIGN §5). */
export const API_PREFIX = 'api/v1';

/** Largest JSON body accepted; a bigger one is 413 REQUEST.TOO_LARGE. */
export const MAX_BODY = '5mb';

/** Applies the API's global prefix, validation and error mapping to a Nest HTTP application. */
export const configureHttp = (app: INestApplication): void => {
  app.setGlobalPrefix(API_PREFIX);
  (app as NestExpressApplication).useBodyParser('json', { limit: MAX_BODY });
  app.useGlobalPipes(validationPipe());
  app.useGlobalFilters(new ErrorFilter());
};
