#!/usr/bin/env node
// `npm run fuzz -- --requests N [--seed S] [--report file.json]`: test/fuzz/fuzz.test.ts with FUZZ_REQUESTS=N; a random
// seed unless given; exits non-zero on any violated invariant.
require('../support/run-suite').runSuite({ script: 'fuzz', count: 'requests', defaultCount: 2000, prefix: 'FUZZ', suite: 'test/fuzz/fuzz.test.ts' });
