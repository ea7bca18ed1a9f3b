# runledger: `docker build -t runledger .`, then `docker run runledger start|api|worker` (default: start).
# Two stages: the build stage has the dev dependencies and compiles; the runtime stage has only the compiled output,
# the production dependencies and git (worktrees), and runs as the unprivileged user `runledger`.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the build runs below.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# Optional: the Claude Code CLI for `claude-code` agents, e.g. --build-arg CLAUDE_CODE_VERSION=2.1.328 (empty: not installed).
ARG CLAUDE_CODE_VERSION=
RUN apt-get update \
 && apt-get install -y --no-install-recommends git tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && if [ -n "$CLAUDE_CODE_VERSION" ]; then npm install -g "@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}" && npm cache clean --force; fi \
 && groupadd --system runledger \
 && useradd --system --gid runledger --home-dir /var/lib/runledger --create-home --shell /usr/sbin/nologin runledger \
 && mkdir -p /repos && chown runledger:runledger /repos
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
# In a container the API listens on every interface (publish the port deliberately); the data directory is a volume.
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8787 RUNLEDGER_DATA_DIR=/var/lib/runledger
USER runledger
VOLUME ["/var/lib/runledger"]
EXPOSE 8787
# The API's readiness (no token needed); a worker-only container overrides it (docker-compose.yml does).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8787)+'/api/v1/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini as PID 1: signals reach runledger (graceful shutdown) and agent processes that outlive it are reaped.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/runledger.js"]
CMD ["start"]
