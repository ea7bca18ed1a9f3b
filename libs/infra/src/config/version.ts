import * as path from 'node:path';

/** runledger's version from the repository's package.json (source and dist/ alike); `0.0.0-unknown` when none is found. */
export const readVersion = (): string => {
  // package.json sits at the repository root both in source and in dist/ (four or five levels up).
  for (const up of ['../../../..', '../../../../..']) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return (require(path.join(__dirname, up, 'package.json')) as { version: string }).version;
    } catch {
      /* try the next level */
    }
  }
  return '0.0.0-unknown';
};
