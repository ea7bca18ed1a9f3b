import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { USER_NAME, USER_ROLES, type UserRole } from '@runledger/domain';
import { IsIn, IsString, Matches, MaxLength } from 'class-validator';

const NAME_RULE = 'name: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** Body of `POST /users` (docs/ARCHITECTURE.md §8). */
export class AddUserDto {
  @ApiProperty({ description: 'the person\'s name (their events\' actor is `user:<name>`)', pattern: USER_NAME.source })
  @IsString() @MaxLength(64) @Matches(USER_NAME, { message: NAME_RULE })
  name!: string;

  @ApiProperty({ enum: USER_ROLES, description: 'admin: everything; writer: all but managing people and forgetting env values; reader: reads only' })
  @IsIn(USER_ROLES as UserRole[])
  role!: UserRole;
}

/** Path of `DELETE /users/:name`. */
export class UserNameParams {
  @ApiProperty({ pattern: USER_NAME.source })
  @IsString() @MaxLength(64) @Matches(USER_NAME, { message: NAME_RULE })
  name!: string;
}

/** `POST /users` answer: the token is shown this once and kept nowhere (only its keyed hash is stored). */
export class AddedUserView {
  @ApiProperty() name!: string;
  @ApiProperty({ enum: USER_ROLES }) role!: UserRole;
  @ApiProperty({ description: 'the personal token (`rlu1.…`): shown once' }) token!: string;
}

/** One person in `GET /users`. */
export class UserView {
  @ApiProperty() name!: string;
  @ApiProperty({ enum: USER_ROLES }) role!: UserRole;
  @ApiProperty({ description: 'ISO-8601 time the live (or last) token was issued' }) createdAt!: string;
  @ApiPropertyOptional({ description: 'ISO-8601 time the token was revoked' }) revokedAt?: string;
  @ApiProperty({ description: 'false once revoked' }) active!: boolean;
}

/** `GET /users` answer. */
export class UserListView {
  @ApiProperty({ type: () => [UserView] }) users!: UserView[];
}
