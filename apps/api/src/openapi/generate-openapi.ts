import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OpenAPIObject } from '@nestjs/swagger';
import { ApplicationModule } from '@runledger/application';
import { InfraModule } from '@runledger/infra';
import { loadConfig } from '@runledger/infra/config';
import { ApiModule } from '../api.module';
import { API_PREFIX } from '../http/configure-http';
import { buildOpenApiDocument } from './openapi-document';

/**
 * The OpenAPI document of the API module, without a database: the Nest application is created in preview mode (the
 * module graph is scanned, no provider is instantiated, so neither PGlite nor PostgreSQL is opened) with the API's
 * global prefix, and documented from the controllers' metadata.
 */
export const generateOpenApiDocument = async (): Promise<OpenAPIObject> => {
  // A config that points nowhere real: nothing is opened in preview mode, this only satisfies InfraModule.forRoot.
  const config = loadConfig({ RUNLEDGER_DATA_DIR: join(tmpdir(), 'runledger-openapi-unused'), RUNLEDGER_TOKEN: 'unused' });
  @Module({ imports: [InfraModule.forRoot(config), ApplicationModule, ApiModule] })
  class OpenApiModule {}
  const app = await NestFactory.create(OpenApiModule, { preview: true, logger: ['error'], abortOnError: false });
  try {
    app.setGlobalPrefix(API_PREFIX);
    return buildOpenApiDocument(app, config.version);
  } finally {
    await app.close();
  }
};

/** Writes the document as pretty JSON (a trailing newline, stable key order as generated) to `target`. */
export const writeOpenApiDocument = async (target: string): Promise<OpenAPIObject> => {
  const document = await generateOpenApiDocument();
  writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  return document;
};

// `npm run openapi`: node dist/apps/api/src/openapi/generate-openapi.js [target, default ./openapi.json]
if (require.main === module) {
  const target = resolve(process.argv[2] ?? 'openapi.json');
  writeOpenApiDocument(target).then(
    (document) => process.stdout.write(`wrote ${target}: ${Object.keys(document.paths).length} paths\n`),
    (error: Error) => {
      process.stderr.write(`openapi: ${error.stack ?? error.message}\n`);
      process.exit(1);
    },
  );
}
