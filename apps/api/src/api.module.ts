import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApplicationModule } from '@runledger/application';
import { HealthController } from './health/health.controller';
import { BearerTokenGuard } from './http/bearer-token.guard';

/** The HTTP API (`/api/v1`): controllers over the application's command handlers and queries. */
@Module({
  imports: [ApplicationModule],
  controllers: [HealthController],
  providers: [{ provide: APP_GUARD, useClass: BearerTokenGuard }],
})
export class ApiModule {}
