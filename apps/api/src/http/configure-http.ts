import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { RunledgerConfig } from '@runledger/infra/config';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { setupOpenApi } from '../openapi/openapi-document';
import { serveWebApp } from '../web/web-app';
import { ErrorFilter } from './error.filter';
import { validationPipe } from './validation';

/** Route prefix of the HTTP API (DESIGN §5). */
export const API_PREFIX = 'api/v1';

/** Largest JSON body accepted; a bigger one is 413 REQUEST.TOO_LARGE. */
export const MAX_BODY = '5mb';

/**
 * Applies the API's global prefix, validation and error mapping to a Nest HTTP application, and serves the OpenAPI
 * document (Swagger UI at `/api/docs`, JSON at `/api/docs/openapi.json`, no token needed) and the web timeline at `/`.
 */
export const configureHttp = (app: INestApplication): void => {
  app.setGlobalPrefix(API_PREFIX);
  (app as NestExpressApplication).useBodyParser('json', { limit: MAX_BODY });
  app.useGlobalPipes(validationPipe());
  app.useGlobalFilters(new ErrorFilter());
  setupOpenApi(app, app.get<RunledgerConfig>(RUNLEDGER_CONFIG, { strict: false }).version);
  serveWebApp(app as NestExpressApplication);
};
