import { NOTIFICATION_KINDS, MAX_WEBHOOKS, type NotificationKind } from '@runledger/domain';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsOptional, IsPlainText, NestedArray } from '../../http/field-rules';

/** One webhook of `PUT /projects/:id/webhooks`. */
export class WebhookDto {
  /** An http(s) URL without credentials (the signature authenticates runledger to the receiver). */
  @IsString() @IsPlainText() @MaxLength(2000)
  url!: string;

  /** Only these kinds (default: every kind). */
  @IsOptional() @IsArray() @ArrayMaxSize(NOTIFICATION_KINDS.length) @IsIn(NOTIFICATION_KINDS, { each: true })
  kinds?: NotificationKind[];
}

/** Body of `PUT /projects/:id/webhooks` (docs/ARCHITECTURE.md §4i): the whole list (empty: none). */
export class WebhooksDto {
  @NestedArray(() => WebhookDto, MAX_WEBHOOKS)
  webhooks!: WebhookDto[];
}

/** `GET /notifications?projectId=&sessionId=&limit=`. */
export class NotificationsQuery {
  @IsOptional() @IsString() @IsPlainText() @MaxLength(60)
  projectId?: string;

  @IsOptional() @IsString() @IsPlainText() @MaxLength(200)
  sessionId?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit?: number;
}
