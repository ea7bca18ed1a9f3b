import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, OperationObject, ParameterObject, ReferenceObject, SwaggerModule } from '@nestjs/swagger';
import { ref, RESPONSE_SCHEMAS } from './schemas';

/** Where Swagger UI is served (outside the `/api/v1` prefix, no token needed); the JSON document is under it. */
export const OPENAPI_DOCS_PATH = 'api/docs';
/** Path of the served JSON document (the same document `npm run openapi` writes to openapi.json). */
export const OPENAPI_JSON_PATH = `${OPENAPI_DOCS_PATH}/openapi.json`;
/** Name of the bearer security scheme (`Authorization: Bearer <RUNLEDGER_TOKEN>`). */
export const BEARER_SCHEME = 'bearer';
/** Tag of the routes that need no token (health); another public route says so with `@ApiOperation({ security: [] })`. */
export const PUBLIC_TAG = 'health';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const jsonError = { description: '', content: { 'application/json': { schema: ref('Error') } } };
const correlationHeader: ParameterObject = {
  name: 'X-Correlation-Id', in: 'header', required: false,
  description: 'Correlation id copied into the metadata of every event the request appends and into its log lines (letters, digits, `._:-`, ≤ 100); a new uuid when absent. Echoed in the response.',
  schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,100}$' },
};

/**
 * Completes what the decorators leave implicit, for every operation (also those of controllers without swagger
 * decorators): a tag from the first path segment, the bearer requirement and a 401 unless the route is public,
 * the `X-Correlation-Id` header, and the JSON error body as the default response.
 */
const completeOperations = (document: OpenAPIObject): void => {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as OperationObject | undefined;
      if (!operation) continue;
      const segment = path.replace(/^\/api\/v1\//, '').split('/')[0] || 'root';
      if (!operation.tags?.length) operation.tags = [segment];
      const isPublic = operation.tags.includes(PUBLIC_TAG) || operation.security?.length === 0;
      if (!isPublic && !operation.security) operation.security = [{ [BEARER_SCHEME]: [] }];
      if (!isPublic && !operation.responses['401']) operation.responses['401'] = { ...jsonError, description: 'missing or invalid bearer token' };
      if (!operation.responses.default) operation.responses.default = { ...jsonError, description: 'error: 400 invalid input (naming the field), 404 unknown id, 409 conflict (with the current state), 413 too large' };
      // `@Headers('x')` parameters come out as required headers: none is. An explicit @ApiHeader of the same name wins.
      const parameters = (operation.parameters ?? []) as (ParameterObject | ReferenceObject)[];
      const headers = new Map<string, ParameterObject>();
      for (const parameter of parameters) {
        if (!('name' in parameter) || parameter.in !== 'header') continue;
        const key = parameter.name.toLowerCase();
        const seen = headers.get(key);
        if (!seen || (parameter.description && !seen.description)) headers.set(key, { ...parameter, required: false });
      }
      if (!headers.has('x-correlation-id')) headers.set('x-correlation-id', correlationHeader);
      operation.parameters = [...parameters.filter((p) => !('name' in p) || p.in !== 'header'), ...headers.values()];
    }
  }
};

/**
 * The OpenAPI 3 document of the HTTP API: every route of the application's controllers (with the global prefix the app
 * has), request DTOs from class-validator and TS types (the @nestjs/swagger CLI plugin, see nest-cli.json), response
 * shapes from RESPONSE_SCHEMAS. Works on an app created with `preview: true` (no database), as `npm run openapi` does.
 */
export const buildOpenApiDocument = (app: INestApplication, version: string): OpenAPIObject => {
  const config = new DocumentBuilder()
    .setTitle('runledger')
    .setDescription(
      'Durable, event-sourced control plane and flight recorder for coding-agent sessions (docs/ARCHITECTURE.md §5). JSON over HTTP; every route but ' +
        '`GET /api/v1/health` needs `Authorization: Bearer <RUNLEDGER_TOKEN>` (or the web timeline\'s HttpOnly login cookie, see `/ui/session`). Errors are `{statusCode, error, message, code?, details?}`.',
    )
    .setVersion(version)
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'RUNLEDGER_TOKEN, or the token generated into <dataDir>/token' }, BEARER_SCHEME)
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controller: string, method: string) => `${controller.replace(/Controller$/, '')}_${method}`,
  });
  document.components = { ...document.components, schemas: { ...RESPONSE_SCHEMAS, ...document.components?.schemas } };
  completeOperations(document);
  return document;
};

/** Serves Swagger UI at `/api/docs` and the JSON document at `/api/docs/openapi.json` (built on first request). */
export const setupOpenApi = (app: INestApplication, version: string): void => {
  let document: OpenAPIObject | undefined;
  SwaggerModule.setup(OPENAPI_DOCS_PATH, app, () => (document ??= buildOpenApiDocument(app, version)), {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    yamlDocumentUrl: `${OPENAPI_DOCS_PATH}/openapi.yaml`,
    customSiteTitle: 'runledger API',
  });
};
