#!/usr/bin/env bash
# `npm run compose:smoke`: builds the image, brings docker-compose.yml up (postgres, api, two workers), drives one
# session through it with the CLI inside the api container, restarts a worker, and takes the stack down again.
# Needs a Docker engine that can pull node:20-bookworm-slim and postgres:16-bookworm.
set -euo pipefail
cd "$(dirname "$0")/.."
if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
export COMPOSE_PROJECT_NAME="runledger-smoke-$$"
export RUNLEDGER_TOKEN="${RUNLEDGER_TOKEN:-$(node -e "process.stdout.write(require('node:crypto').randomBytes(24).toString('hex'))")}"
export RUNLEDGER_PORT="${RUNLEDGER_PORT:-18787}"
cleanup() { "${compose[@]}" down --volumes --remove-orphans >/dev/null 2>&1 || true; }
trap cleanup EXIT

step() { printf '\n[compose:smoke] %s\n' "$*"; }
in_api() { "${compose[@]}" exec -T api "$@"; }
runledger() { in_api node /app/bin/runledger.js "$@"; }

step "building the image and starting postgres, api, worker-1, worker-2"
"${compose[@]}" up -d --build --wait 2>/dev/null || "${compose[@]}" up -d --build
for _ in $(seq 1 90); do
  curl -fsS "http://127.0.0.1:${RUNLEDGER_PORT}/api/v1/health" >/dev/null 2>&1 && break
  sleep 2
done
curl -fsS "http://127.0.0.1:${RUNLEDGER_PORT}/api/v1/health"; echo

step "a repository in the repos volume, registered from inside it"
in_api sh -c 'git init -q -b main /repos/demo && git -C /repos/demo -c user.name=demo -c user.email=demo@localhost commit -q --allow-empty -m init'
in_api sh -c 'cd /repos/demo && node /app/bin/runledger.js project add'

step "one session: spawn, kill (dirty worktree kept), cleanup (work preserved), restore (same id), kill"
runledger spawn --project demo -- sh -c 'echo hello > notes.txt; exec sleep 600'
runledger kill demo-1
runledger cleanup demo-1
runledger restore demo-1
runledger history demo-1
runledger verify demo-1

step "a worker restart: its reconcile adopts the live agent (shared process namespace)"
"${compose[@]}" restart worker-1
sleep 10
runledger status
runledger sessions --status running | grep -q demo-1
runledger kill demo-1

step "ok: the stack ran one session end to end"
