import { Body, Controller, Get, HttpCode, Param, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CommandContext, Notifications, WebhooksView } from '@runledger/application';
import { DeliveryView, NotificationOutbox, StoredNotification } from '@runledger/infra/notifications';
import { AnswersBeforeProjection } from '../http/read-your-writes.interceptor';
import { Ctx } from '../http/request-context';
import { NotificationsQuery, WebhooksDto } from './dto/notifications.dto';

/** Notifications when a session needs a person, and the webhooks they are POSTed to (docs/ARCHITECTURE.md §4i). */
@ApiTags('notifications')
@ApiBearerAuth('bearer')
@Controller()
export class NotificationsController {
  constructor(private readonly notifications: Notifications, private readonly outbox: NotificationOutbox) {}

  /**
   * Replaces the project's webhooks (`[]` turns them off) and answers them with `signingSecret`, the HMAC-SHA256 key of
   * each POST's `x-runledger-signature: sha256=<hex of HMAC(secret, "<x-runledger-timestamp>.<body>")>`. 404 unknown
   * project, 400 naming the field (a URL that is not http(s) or carries credentials, an unknown kind).
   */
  @Put('projects/:id/webhooks')
  @HttpCode(200)
  @AnswersBeforeProjection() // the project's stream only; the answer is its fold
  @ApiOkResponse({ description: 'the webhooks and their signing secret', schema: { type: 'object' } })
  setWebhooks(@Param('id') id: string, @Body() body: WebhooksDto, @Ctx() context: CommandContext): Promise<WebhooksView> {
    return this.notifications.setWebhooks(id, body.webhooks.map((w) => ({ url: w.url, ...(w.kinds ? { kinds: w.kinds } : {}) })), context);
  }

  /** The project's webhooks (without the secret); 404 unknown project. */
  @Get('projects/:id/webhooks')
  @ApiOkResponse({ description: 'the webhooks', schema: { type: 'object' } })
  webhooks(@Param('id') id: string): Promise<WebhooksView> {
    return this.notifications.webhooks(id);
  }

  /** Notifications newest first (a project's or a session's), each with its deliveries and every attempt (status code or error, duration). */
  @Get('notifications')
  @ApiOkResponse({ description: 'notifications with their deliveries', schema: { type: 'object' } })
  async list(@Query() query: NotificationsQuery): Promise<{ notifications: Array<StoredNotification & { deliveries: DeliveryView[] }> }> {
    return { notifications: await this.outbox.list({ ...(query.projectId ? { projectId: query.projectId } : {}), ...(query.sessionId ? { sessionId: query.sessionId } : {}), limit: query.limit ?? 100 }) };
  }
}
