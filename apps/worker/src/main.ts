import { startServer } from '../../../composition/start-server';

// `node dist/apps/worker/src/main.js`: the worker only (docs/ARCHITECTURE.md §1).
startServer({ api: false, worker: true }).catch((error: Error) => {
  process.stderr.write(`runledger worker: ${error.message}\n`);
  process.exit(1);
});
