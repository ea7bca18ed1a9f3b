import { startServer } from '../../../composition/start-server';

// `node dist/apps/api/src/main.js`: the HTTP API only (docs/ARCHITECTURE.md §1).
startServer({ api: true, worker: false }).catch((error: Error) => {
  process.stderr.write(`runledger api: ${error.message}\n`);
  process.exit(1);
});
