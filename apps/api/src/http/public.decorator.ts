import { SetMetadata } from '@nestjs/common';

/** Metadata key marking a route that needs no bearer token. */
export const IS_PUBLIC = 'runledger:public';
/** Marks a route as reachable without `Authorization` (only health: issue 3). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
