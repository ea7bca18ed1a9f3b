import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';

/** Where `npm run build` puts the web timeline (Vite's output), relative to the package root. */
export const WEB_BUILD_DIR = join('dist', 'web');

/**
 * Content-Security-Policy of the page: scripts, styles and connections to this origin only (the bundle has no inline
 * script), no framing, no plugin content.
 */
export const WEB_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'",
].join('; ');

interface Request {
  method: string;
  path: string;
}
interface Response {
  setHeader(name: string, value: string): void;
  status(code: number): Response;
  type(type: string): Response;
  send(body: string): void;
}
type NextFunction = () => void;

/** Paths that belong to the API (and Swagger UI), never to the page. */
const API_PATH = /^\/api(\/|$)/;

/** The package root: the nearest folder above `from` holding runledger's package.json (works from dist/ and from the sources). */
export const packageRoot = (from: string = __dirname): string => {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'runledger') return dir;
    if (dirname(dir) === dir) throw new Error(`no runledger package.json above ${from}`);
  }
};

/**
 * Serves the web timeline at `/` from `dir` (docs/ARCHITECTURE.md §5): hashed files under `/assets/` cached for a year,
 * and `index.html` (no-cache, with WEB_CSP) for every other GET outside `/api`, so the page's own routes
 * (`/sessions/demo-1`) load it too. When the page was not built, those GETs answer 503 naming the command that builds it.
 * The files carry no data: they need no token; every API call the page makes does.
 */
export const serveWebApp = (app: NestExpressApplication, dir: string = join(packageRoot(), WEB_BUILD_DIR)): void => {
  app.useStaticAssets(join(dir, 'assets'), { prefix: '/assets/', index: false, immutable: true, maxAge: '365d', fallthrough: false });
  const indexFile = join(dir, 'index.html');
  app.use((request: Request, response: Response, next: NextFunction) => {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || API_PATH.test(request.path)) return next();
    if (request.path !== '/' && /\.[a-z0-9]+$/i.test(request.path)) return next(); // a missing file is a 404, not the page
    let html: string;
    try {
      html = readFileSync(indexFile, 'utf8');
    } catch {
      response.status(503).type('text/plain').send(`the web timeline is not built (no ${indexFile}): run \`npm run build\`\n`);
      return;
    }
    response.setHeader('content-security-policy', WEB_CSP);
    response.setHeader('x-content-type-options', 'nosniff');
    response.setHeader('referrer-policy', 'no-referrer');
    response.setHeader('cache-control', 'no-cache');
    response.type('html').send(html);
  });
};
