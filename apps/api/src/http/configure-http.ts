import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { RunledgerConfig } from '@runledger/infra/config';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { setupOpenApi } from '../openapi/openapi-document';
import { serveWebApp } from '../web/web-app';
import { answerClientErrorsAsJson } from './client-error';
import { ErrorFilter } from './error.filter';
import { PlainTextPipe } from './plain-text.pipe';
import { jsonNotFound, MAX_SHIPPED_CHUNK, requestLimits } from './request-limits';
import { validationPipe } from './validation';

/** Route prefix of the HTTP API (docs/ARCHITECTURE.md §5). */
export const API_PREFIX = 'api/v1';

/** Largest JSON body accepted; a bigger one is 413 REQUEST.TOO_LARGE. */
export const MAX_BODY = '5mb';

/**
 * Applies the API's global prefix, request limits (id headers, JSON depth), control-character and DTO validation and
 * error mapping to a Nest HTTP application, serves the OpenAPI document (Swagger UI at `/api/docs`, JSON at
 * `/api/docs/openapi.json`, no token needed) and the web timeline at `/`, initialises it and answers every other route
 * with a JSON 404; a request Node's parser refuses (headers too large, malformed) is answered in the error shape too.
 * No `X-Powered-By` header.
 */
export const configureHttp = async (app: INestApplication): Promise<void> => {
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  answerClientErrorsAsJson(app.getHttpServer());
  app.setGlobalPrefix(API_PREFIX);
  express.useBodyParser('json', { limit: MAX_BODY });
  express.useBodyParser('raw', { type: 'application/octet-stream', limit: MAX_SHIPPED_CHUNK }); // shipped transcript bytes (§4f)
  express.use(requestLimits);
  app.useGlobalPipes(new PlainTextPipe(), validationPipe());
  app.useGlobalFilters(new ErrorFilter());
  setupOpenApi(app, app.get<RunledgerConfig>(RUNLEDGER_CONFIG, { strict: false }).version);
  serveWebApp(express);
  await app.init();
  express.use(jsonNotFound); // after init: behind every route Nest registered
};
