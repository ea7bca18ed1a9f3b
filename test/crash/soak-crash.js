#!/usr/bin/env node
// `npm run soak:crash -- --iterations N [--epoch K] [--parallel P] [--seed S] [--report file.json]`: test/crash/soak.test.ts with SOAK_ITERATIONS=N;
// exits non-zero on any violation.
require('../support/run-suite').runSuite({ script: 'soak:crash', count: 'iterations', defaultCount: 10, prefix: 'SOAK', suite: 'test/crash/soak.test.ts', extra: ['epoch', 'parallel'] });
