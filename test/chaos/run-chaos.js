#!/usr/bin/env node
// `npm run chaos -- --seconds N [--seed S] [--report file.json]`: test/chaos/chaos.test.ts with CHAOS_SECONDS=N (default
// 300) against a private PostgreSQL server it stops and starts; a random seed unless given; exits non-zero on any
// violated invariant.
require('../support/run-suite').runSuite({ script: 'chaos', count: 'seconds', defaultCount: 300, prefix: 'CHAOS', suite: 'test/chaos/chaos.test.ts' });
